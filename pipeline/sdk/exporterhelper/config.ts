// Config fragments every exporter shares, modelled on the OTel Collector's exporterhelper:
// `retry_on_failure`, `sending_queue`, `headers`, `tls` and `dead_letter`. Each exporter's
// config.ts spreads these into its own strict schema so keys, defaults and checks stay identical.

import { z } from 'zod';
import { bool, byteSize, duration, int } from '../config-types';
import { deadLetterSchema, type DeadLetterConfig } from '../kafka/dead-letter';
import { retryOnFailureSchemaWith } from '../retry';
import { checkClientTls, clientTlsFields } from '../tls-config';

/** Default first backoff interval of an exporter. */
export const DEFAULT_INITIAL_INTERVAL = '1s';
/** Default cap of an exporter's backoff interval. */
export const DEFAULT_MAX_INTERVAL = '30s';
/** Default time an exporter spends retrying one request before giving up with a retriable error. */
export const DEFAULT_MAX_ELAPSED_TIME = '60s';
/** Default number of batches that may wait in the queue. */
export const DEFAULT_QUEUE_SIZE = 1000;
/** Default number of batches exported concurrently. */
export const DEFAULT_NUM_CONSUMERS = 10;
/** Default time shutdown waits for queued and in-flight batches. */
export const DEFAULT_QUEUE_DRAIN_TIMEOUT = '10s';
/** Default time an HTTP/gRPC exporter may fail with no success before /readyz reports it not ready. */
export const DEFAULT_NOT_READY_AFTER = '5s';

/**
 * retry_on_failure of an exporter: pipeline/sdk/retry.ts `retryOnFailureSchemaWith` (one shape and one meaning
 * for every component) with the exporter defaults: enabled, initial_interval 1s, randomization_factor 0.5,
 * multiplier 2, max_interval 30s, max_elapsed_time 60s (0 = no limit: retry until success, a permanent error
 * or shutdown). A backend's Retry-After / RetryInfo delay is honoured: the wait is at least that long.
 */
export const retryOnFailureSchema = retryOnFailureSchemaWith({
  initial_interval: DEFAULT_INITIAL_INTERVAL,
  max_interval: DEFAULT_MAX_INTERVAL,
  max_elapsed_time: DEFAULT_MAX_ELAPSED_TIME,
});

/**
 * sending_queue: a bounded in-memory queue in front of the exporter. consumeTraces still resolves only once
 * the batch is exported (the settle chain); the queue bounds how much is accepted and how much runs at once.
 * - `enabled` (default true): false = every caller sends directly, concurrency is the caller's.
 * - `num_consumers` (default 10): batches exported concurrently.
 * - `queue_size` (default 1000): batches that may WAIT (not counting the ones in flight); 0 = no count limit
 *   (then `queue_bytes` must be set).
 * - `queue_bytes` (default 0 = no byte limit): encoded bytes that may wait.
 * - `drain_timeout` (default 10s): how long shutdown waits for queued and in-flight batches before it
 *   stops their retries and rejects them retriably (nothing is acknowledged that was not exported).
 * When full, consumeTraces rejects with BackpressureError (retriable): the sender slows down, nothing is dropped.
 */
export const sendingQueueSchema = z
  .object({
    enabled: bool().default(true),
    num_consumers: int({ min: 1, max: 1000 }).default(DEFAULT_NUM_CONSUMERS),
    queue_size: int({ min: 0 }).default(DEFAULT_QUEUE_SIZE),
    queue_bytes: byteSize().prefault(0),
    drain_timeout: duration({ min: 0 }).prefault(DEFAULT_QUEUE_DRAIN_TIMEOUT),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.enabled && c.queue_size === 0 && c.queue_bytes === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['queue_size'],
        message: 'the queue must be bounded: set queue_size or queue_bytes above 0',
      });
    }
  })
  .prefault({});

/** SendingQueueConfig is the parsed `sending_queue` section. */
export type SendingQueueConfig = z.output<typeof sendingQueueSchema>;

/**
 * not_ready_after: how long an exporter may fail with no success before its health (and /readyz) turns not
 * ready, naming the endpoint and the cause. A duration; 0 = at the first failure. `fallback` is the
 * exporter's default (DEFAULT_NOT_READY_AFTER for the HTTP/gRPC exporters).
 */
export function notReadyAfterSchema(fallback: string = DEFAULT_NOT_READY_AFTER) {
  return duration({ min: 0 }).prefault(fallback);
}

/** headers: extra request headers / gRPC metadata (e.g. `authorization`), name -> value. Default none. */
export const headersSchema = z.record(z.string().min(1), z.string()).default({});

/**
 * tls: client TLS settings, used when the endpoint is https:// (or gRPC with `insecure: false`). The keys
 * are pipeline/sdk/tls-config.ts `clientTlsFields` (`ca_file`, `cert_file` / `key_file` (both or neither),
 * `insecure_skip_verify`, `server_name_override` (default '' = the endpoint's host)). Absent = all defaults.
 */
export const tlsSchema = z
  .object({ ...clientTlsFields })
  .strict()
  .superRefine(checkClientTls)
  .prefault({});

/** TlsConfig is the parsed `tls` section. */
export type TlsConfig = z.output<typeof tlsSchema>;

/**
 * Dead-letter fields: `dead_letter`, the section of pipeline/sdk/kafka/dead-letter.ts `deadLetterSchema`
 * (topic, Kafka client settings, topic creation). Absent = no dead-lettering: rejected traces and log records
 * are counted and logged only. An exporter has no Kafka settings of its own, so the section needs `brokers`.
 */
export const deadLetterFields = {
  dead_letter: deadLetterSchema.optional(),
};

/** checkDeadLetter adds an issue when a dead_letter section has no brokers. */
export function checkDeadLetter(c: { dead_letter?: DeadLetterConfig }, ctx: z.RefinementCtx): void {
  if (c.dead_letter && c.dead_letter.brokers === undefined) {
    const message = 'required: an exporter has no Kafka settings of its own to write dead letters with';
    ctx.addIssue({ code: 'custom', path: ['dead_letter', 'brokers'], message });
  }
}
