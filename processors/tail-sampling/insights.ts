// The tail sampler's window for the web console (pipeline/sdk/insights.ts): it observes each decided batch
// through the decider's hook to note which (service, operation) keys, services and rate keys exist, keep a
// bounded ring of recent decisions and feed the decision stream, then answers snapshots (live quantiles,
// thresholds, error states with the boost's end, targets with the actual kept rate) without I/O.

import type {
  DecisionSummary,
  LatencyInsight,
  SamplingInsights,
  ServiceErrorInsight,
  TargetInsight,
} from '../../pipeline/sdk/insights';
import type { TailSamplingConfig } from './config';
import type { PolicyConfig } from './policies/config';
import type { Decided } from './decider';
import type { LatencyQuantiles, LedgerRecord, SamplingState } from './state/types';

/** Bounds: the console is a view, it must never grow the sampler's memory without limit. */
export const MAX_RECENT_DECISIONS = 1000;
export const MAX_KEYS = 2000;

/** Buffer figures the processor reports (TailSamplingProcessor.stats). */
export interface BufferStats {
  readonly traces: number;
  readonly spans: number;
  readonly bytes: number;
  readonly exportingBytes: number;
}

/** The rate key under which the kept traces of a throughput-target key are counted (see keptRateKey). */
const KEPT_PREFIX = '\u0000kept\u0000';

/**
 * keptRateKey names the state's rate count of traces kept for `key` by this sampler. It is counted like the
 * seen rate the adaptive policy's budgets use (locally, then summed cluster-wide through Redis in the same
 * batched sync), so `clusterRate(keptRateKey(k))` is the actual kept traces/s of `k` across all replicas.
 */
export function keptRateKey(key: string): string {
  return KEPT_PREFIX + key;
}

/** A listener of decided batches (the console's decision stream). */
export type DecisionListener = (batch: readonly DecisionSummary[]) => void;

function summarize(r: LedgerRecord): DecisionSummary {
  const { service, operation, root_duration_us: rootUs } = r.inputs;
  return {
    traceId: r.traceId,
    decision: r.decision,
    policy: r.policy,
    reason: r.reason,
    decidedAt: r.decidedAt,
    ...(typeof service === 'string' ? { service } : {}),
    ...(typeof operation === 'string' ? { operation } : {}),
    ...(typeof rootUs === 'number' ? { rootDurationUs: rootUs } : {}),
    ...(r.decidedBy === undefined ? {} : { decidedBy: r.decidedBy }),
  };
}

/**
 * thresholdUs is the root duration above which a latency policy keeps a trace of this key; null while it
 * cannot tell yet (too few observations for its quantile).
 */
function thresholdUs(p: PolicyConfig & { type: 'latency' }, q: LatencyQuantiles | undefined): number | null {
  const floor = (p.threshold_ms ?? 0) * 1000;
  if (p.above === undefined) return floor;
  if (q === undefined || q.count === 0 || q.count < p.min_observations)
    return p.threshold_ms === undefined ? null : floor;
  return Math.max(q[p.above] * p.factor, floor);
}

/**
 * SamplerInsights gives the console its snapshot of one tail_sampling processor. It reads the store the
 * processor uses and learns what to list from the decider's hook (`observe`, one call per decided batch):
 * the (service, operation) keys, services and rate keys it saw, a bounded ring of recent decisions, and the
 * kept count of each throughput-target key (recorded in the store's rate counts, see keptRateKey).
 */
export class SamplerInsights {
  private readonly _latencyKeys = new Map<string, { service: string; operation: string }>();
  private readonly _services = new Set<string>();
  private readonly _rateKeys = new Set<string>();
  /** Ring of recent decisions (oldest overwritten first). */
  private readonly _recent: DecisionSummary[] = [];
  private _next = 0;
  private readonly _listeners = new Set<DecisionListener>();

  constructor(
    private readonly _state: SamplingState,
    private readonly _config: () => TailSamplingConfig,
    private readonly _stats: () => BufferStats,
  ) {}

  /**
   * observe is the decider's hook (Decider.onDecided): notes the keys of the traces evaluated here, counts the
   * kept ones of throughput-target keys, keeps the decisions in the ring and hands them to the listeners.
   * A Set look-up per decided trace; no I/O.
   */
  observe(batch: readonly Decided[]): void {
    const targets = this._config().policies.some((p) => p.type === 'adaptive' && p.target_traces_per_sec !== undefined);
    const fresh: DecisionSummary[] | undefined = this._listeners.size > 0 ? [] : undefined;
    for (const d of batch) {
      if (d.trace.spans.count === 0) continue; // logs only: the owner of the spans decides for the ledger
      const v = d.view;
      if (v !== undefined) {
        if (this._rateKeys.size < MAX_KEYS) this._rateKeys.add(v.key);
        if (!d.followed) {
          const key = `${v.service}\u0000${v.operation}`;
          if (!this._latencyKeys.has(key) && this._latencyKeys.size < MAX_KEYS)
            this._latencyKeys.set(key, { service: v.service, operation: v.operation });
          if (this._services.size < MAX_KEYS) this._services.add(v.service);
          if (targets && d.record.decision === 'sampled' && this._rateKeys.has(v.key))
            this._state.recordSeen(keptRateKey(v.key));
        }
      }
      const summary = summarize(d.record);
      if (this._recent.length < MAX_RECENT_DECISIONS) this._recent.push(summary);
      else this._recent[this._next] = summary;
      this._next = (this._next + 1) % MAX_RECENT_DECISIONS;
      fresh?.push(summary);
    }
    if (fresh !== undefined && fresh.length > 0) for (const l of this._listeners) l(fresh);
  }

  /** subscribe hands every later decided batch to `listener` until the returned function is called. */
  subscribe(listener: DecisionListener): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** snapshot answers InsightsProvider.insights(). */
  snapshot(): SamplingInsights {
    const cfg = this._config();
    const st = this._state;
    const latencyPolicies = cfg.policies.filter((p): p is PolicyConfig & { type: 'latency' } => p.type === 'latency');
    const latency: LatencyInsight[] = [];
    for (const { service, operation } of this._latencyKeys.values()) {
      const q = st.latencyQuantiles(service, operation);
      latency.push({
        service,
        operation,
        p50Us: q?.p50 ?? 0,
        p95Us: q?.p95 ?? 0,
        p99Us: q?.p99 ?? 0,
        count: q?.count ?? 0,
        thresholds: latencyPolicies.map((p) => ({ policy: p.name ?? 'latency', thresholdUs: thresholdUs(p, q) })),
      });
    }
    latency.sort((a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
    const services: ServiceErrorInsight[] = [...this._services].sort().map((service) => {
      const e = st.serviceErrorState(service);
      return {
        service,
        errorRate: e.errorRate,
        baseline: e.baseline,
        degraded: e.degraded,
        boost: e.boost,
        boostUntil: e.boostUntil ?? null,
        aboveThreshold: e.aboveThreshold ?? false,
      };
    });
    const targets: TargetInsight[] = [];
    for (const p of cfg.policies) {
      if (p.type !== 'adaptive' || p.target_traces_per_sec === undefined) continue;
      for (const key of [...this._rateKeys].sort()) {
        targets.push({
          policy: p.name ?? 'adaptive',
          key,
          targetPerSec: p.target_traces_per_sec,
          seenPerSec: st.clusterRate(key) ?? null,
          keptPerSec: st.clusterRate(keptRateKey(key)) ?? (st.clusterRate(key) === undefined ? null : 0),
        });
      }
    }
    return {
      kind: 'sampling',
      policies: cfg.policies.map((p) => ({ name: p.name ?? p.type, type: p.type })),
      ...(st.replicaId === undefined ? {} : { replicaId: st.replicaId }),
      state: cfg.state,
      latency,
      services,
      targets,
      buffer: this._stats(),
    };
  }

  /** recentDecisions lists up to `limit` decisions, newest first. */
  recentDecisions(limit: number): DecisionSummary[] {
    return [...this._recent].sort((a, b) => b.decidedAt - a.decidedAt).slice(0, Math.max(0, limit));
  }
}
