// Config of the tail_sampling processor (zod, strict, snake_case keys as written in .tsk files). Every
// field: meaning, unit, default, what 0 means. Policy schemas live in policies/config.ts; README.md
// documents both.

import { z } from 'zod';
import { bool, byteSize, duration, int, num, withKeyHints } from '../../pipeline/sdk/config-types';
import {
  checkRedisConnection,
  DEFAULT_REDIS_KEY_PREFIX,
  redisConnectionFields,
  REDIS_KEY_HINTS,
} from '../../pipeline/sdk/redis-client';
import { retryOnFailureSchemaWith, type RetryDefaults } from '../../pipeline/sdk/retry';
import { policySchema, type PolicyConfig } from './policies/config';

export const DEFAULT_DECISION_WAIT = '10s';
export const DEFAULT_ROOT_SETTLE_DELAY = '2s';
export const DEFAULT_TICK_INTERVAL = '100ms';
export const DEFAULT_MAX_SPANS_PER_TRACE = 10_000;
export const DEFAULT_MAX_BYTES_PER_TRACE = '16MiB';
export const DEFAULT_MAX_BUFFERED_BYTES = '256MiB';
export const DEFAULT_NUM_TRACES = 100_000;
export const DEFAULT_DECISION_CACHE_SIZE = 100_000;

const redisSchema = z.preprocess(
  (raw) => (typeof raw === 'string' ? { url: raw } : raw),
  withKeyHints(
    z
      .object({
        /**
         * Where and how to connect (pipeline/sdk/redis-client.ts): `url` (one server; a plain string for the
         * whole `redis` key means this; default "redis://127.0.0.1:6379"), `username`, `password` or
         * `password_file`, `tls { ca_file, cert_file, key_file, insecure_skip_verify, server_name_override }`,
         * `cluster_nodes` (Redis Cluster seeds "host:port") or `sentinel { master_name, nodes, password, tls }`.
         */
        ...redisConnectionFields,
        /** Prefix of every key. Default "tusk:". */
        key_prefix: z.string().default(DEFAULT_REDIS_KEY_PREFIX),
        /** Period of the state's background sync (local aggregates <-> Redis). Default "1s". */
        sync_interval: duration({ min: 10 }).prefault('1s'),
        /** How long decisions stay in the ledger. Default "1h". */
        ledger_ttl: duration({ min: 1000 }).prefault('1h'),
        /**
         * Share of dropped traces recorded in full in the ledger (0..1); the others as a 5-byte fingerprint.
         * Default 0.01. Set 1 while replicas of a version without fingerprints still run (rolling upgrade).
         */
        ledger_dropped_sample: num({ min: 0, max: 1 }).default(0.01),
      })
      .strict()
      .superRefine(checkRedisConnection),
    REDIS_KEY_HINTS,
  ),
);

/** Defaults of retry_on_failure here: the next consumer is in-process, so retries start sooner than an exporter's. */
export const DEFAULT_RETRY: RetryDefaults = { initial_interval: '100ms', max_interval: '5s', max_elapsed_time: '30s' };

/** configSchema validates the processor section; an error carries a path such as policies[2].percentage. */
export const configSchema = z
  .object({
    /**
     * Longest wait after a trace's first span before deciding. Default "10s". When the spans come from a Kafka
     * topic with watermark records (an ingest tier's kafka exporter), it counts on the partition's event-time
     * clock from the first span's accept time, so it stops while the ingest tier cannot write the partition.
     */
    decision_wait: duration({ min: 1 }).prefault(DEFAULT_DECISION_WAIT),
    /**
     * Bound on that wait on the wall clock from when the first span was seen, when the partition's clock lags
     * (stalled writers); decisions it forces count as trigger "max_decision_wait". Default: 3 x decision_wait.
     */
    max_decision_wait: duration({ min: 1 }).optional(),
    /** Wait after the root span arrives before deciding (stragglers). Default "2s"; 0 = decide at the next tick. */
    root_settle_delay: duration({ min: 0 }).prefault(DEFAULT_ROOT_SETTLE_DELAY),
    /** Decision tick: traces are decided in batches at this period. Default "100ms". */
    tick_interval: duration({ min: 1, max: 10_000 }).prefault(DEFAULT_TICK_INTERVAL),
    /** A trace is decided as soon as it holds this many spans. Default 10000. */
    max_spans_per_trace: int({ min: 1 }).default(DEFAULT_MAX_SPANS_PER_TRACE),
    /** A trace is decided as soon as it holds this many bytes. Default "16MiB". */
    max_bytes_per_trace: byteSize({ min: 1 }).prefault(DEFAULT_MAX_BYTES_PER_TRACE),
    /** Memory bound of the buffer (encoded spans and logs + index estimate); oldest traces are decided early beyond it. Default "256MiB". */
    max_buffered_bytes: byteSize({ min: 1024 }).prefault(DEFAULT_MAX_BUFFERED_BYTES),
    /** Bound on buffered traces; oldest decided early beyond it. Default 100000. */
    num_traces: int({ min: 1 }).default(DEFAULT_NUM_TRACES),
    /**
     * Recent decisions kept in memory for late spans and explanations: the bound of the state's local ledger
     * (older ones: the ledger in Redis, with state "redis"). Default 100000.
     */
    decision_cache_size: int({ min: 1 }).default(DEFAULT_DECISION_CACHE_SIZE),
    /** When consumeTraces resolves: "settled" (decided, and exported if kept; crash-safe) or "buffered" (embedded mode; not crash-safe). */
    ack: z.enum(['settled', 'buffered']).default('settled'),
    /** Kept traces per downstream call, at most. Default 512. */
    send_batch_max_traces: int({ min: 1 }).default(512),
    /** Bytes per downstream call, at most (one trace larger than this goes alone). Default "8MiB". */
    send_batch_max_bytes: byteSize({ min: 1 }).prefault('8MiB'),
    /**
     * Retry of retriable downstream rejections (pipeline/sdk/retry.ts, same keys and meaning as the exporters'):
     * defaults 100ms initial, x2, +-50%, 5s max interval, 30s max elapsed time; max_elapsed_time 0 = no limit,
     * enabled false = no retry (the chunks are rejected upstream at the first retriable rejection).
     */
    retry_on_failure: retryOnFailureSchemaWith(DEFAULT_RETRY),
    /**
     * Stop at the first policy (after the drop policies) that samples a trace; later policies are not asked
     * (the Collector's option of the same name: faster, but later rate limiters see fewer traces). Default false.
     */
    sample_on_first_match: bool().default(false),
    /**
     * At shutdown, drop the traces still waiting for a decision instead of deciding them on partial data (the
     * Collector's option of the same name). With ack "settled" they are never decided at shutdown anyway: they
     * are handed over for replay. With ack "buffered" they are lost. Default false.
     */
    drop_pending_traces_on_shutdown: bool().default(false),
    /** Bound on shutdown: decide everything, wait for exports this long, then give up. Default "10s". */
    shutdown_timeout: duration({ min: 0 }).prefault('10s'),
    /** Where sampling state lives: "memory" (one process) or "redis" (shared by replicas). Default "memory". */
    state: z.enum(['memory', 'redis']).default('memory'),
    /** Redis settings (state: "redis"); a string is the URL. */
    redis: redisSchema.prefault({}),
    /** The policies, in order (see README: combination rule). Default: one adaptive policy. */
    policies: z
      .array(policySchema)
      .min(1, 'at least one policy is required')
      .prefault(() => [{ name: 'adaptive', type: 'adaptive' }])
      .superRefine(checkPolicyNames),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.max_decision_wait !== undefined && c.max_decision_wait < c.decision_wait)
      ctx.addIssue({
        code: 'custom',
        path: ['max_decision_wait'],
        message: `must be at least decision_wait (${c.decision_wait}ms)`,
      });
  });

/** TailSamplingConfig is the parsed processor config (snake_case, as in the file; durations in ms, sizes in bytes). */
export type TailSamplingConfig = z.output<typeof configSchema>;

/** MAX_DECISION_WAIT_FACTOR is max_decision_wait's default, as a multiple of decision_wait. */
export const MAX_DECISION_WAIT_FACTOR = 3;

/** maxDecisionWaitMs is the configured max_decision_wait, or its default. */
export function maxDecisionWaitMs(cfg: Pick<TailSamplingConfig, 'decision_wait' | 'max_decision_wait'>): number {
  return cfg.max_decision_wait ?? MAX_DECISION_WAIT_FACTOR * cfg.decision_wait;
}

/** checkPolicyNames: top-level names required and unique; `drop` only at the top level. */
function checkPolicyNames(policies: PolicyConfig[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  policies.forEach((p, i) => {
    if (p.name === undefined)
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a top-level policy needs a name' });
    else if (p.name === '(none)') ctx.addIssue({ code: 'custom', path: [i, 'name'], message: '"(none)" is reserved' });
    else if (seen.has(p.name))
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        message: `duplicate policy name "${p.name}" (also policies[${seen.get(p.name)}])`,
      });
    else seen.set(p.name, i);
    const nestedDrop = (q: PolicyConfig, path: (string | number)[]): void => {
      if (q.type === 'and' || q.type === 'drop' || q.type === 'composite')
        q.policies.forEach((s, j) => {
          if (s.type === 'drop')
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'policies', j, 'type'],
              message: 'drop is allowed at the top level only',
            });
          nestedDrop(s, [...path, 'policies', j]);
        });
      if (q.type === 'not') {
        if (q.policy.type === 'drop')
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'policy', 'type'],
            message: 'drop is allowed at the top level only',
          });
        nestedDrop(q.policy, [...path, 'policy']);
      }
    };
    nestedDrop(p, [i]);
  });
}
