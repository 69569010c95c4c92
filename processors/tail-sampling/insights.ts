// The tail sampler's window for the web console (pipeline/sdk/insights.ts): it wraps the sampling state to
// note which (service, operation) keys, services and rate keys exist and to keep a bounded ring of recent
// decisions, then answers snapshots (live quantiles, thresholds, error states, targets) without I/O.

import type { ComponentHealth } from '../../pipeline/sdk/component';
import type {
  DecisionSummary,
  LatencyInsight,
  SamplingInsights,
  ServiceErrorInsight,
  TargetInsight,
} from '../../pipeline/sdk/insights';
import type { TailSamplingConfig } from './config';
import type { PolicyConfig } from './policies/config';
import type {
  LatencyQuantiles,
  LedgerRecord,
  SamplingState,
  SamplingStateStats,
  ServiceErrorState,
} from './state/types';

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

/**
 * ObservedState is a SamplingState that forwards every call to the real store and notes, at the cost of a
 * Set look-up per decided trace, what the console lists. Behaviour of the store is unchanged.
 */
class ObservedState implements SamplingState {
  readonly latencyKeys = new Map<string, { service: string; operation: string }>();
  readonly services = new Set<string>();
  readonly rateKeys = new Set<string>();
  /** Ring of recent decisions (oldest overwritten first). */
  readonly recent: DecisionSummary[] = [];
  private _next = 0;

  constructor(private readonly _inner: SamplingState) {
    const stats = _inner.stats?.bind(_inner);
    if (stats) this.stats = stats;
  }

  get replicaId(): string | undefined {
    return this._inner.replicaId;
  }

  start(): Promise<void> {
    return this._inner.start();
  }

  shutdown(): Promise<void> {
    return this._inner.shutdown();
  }

  health(): ComponentHealth {
    return this._inner.health();
  }

  recordLatency(service: string, operation: string, durationUs: number): void {
    const key = `${service}\u0000${operation}`;
    if (!this.latencyKeys.has(key) && this.latencyKeys.size < MAX_KEYS)
      this.latencyKeys.set(key, { service, operation });
    this._inner.recordLatency(service, operation, durationUs);
  }

  recordTraceOutcome(service: string, hadError: boolean): void {
    if (this.services.size < MAX_KEYS) this.services.add(service);
    this._inner.recordTraceOutcome(service, hadError);
  }

  recordSeen(key: string): void {
    if (this.rateKeys.size < MAX_KEYS) this.rateKeys.add(key);
    this._inner.recordSeen(key);
  }

  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined {
    return this._inner.latencyQuantiles(service, operation);
  }

  serviceErrorState(service: string): ServiceErrorState {
    return this._inner.serviceErrorState(service);
  }

  clusterRate(key: string): number | undefined {
    return this._inner.clusterRate(key);
  }

  async recordDecisions(
    records: readonly LedgerRecord[],
    overriding?: ReadonlySet<string>,
  ): Promise<Map<string, LedgerRecord>> {
    const earlier = await this._inner.recordDecisions(records, overriding);
    for (const r of records) this._remember(earlier.get(r.traceId) ?? r);
    return earlier;
  }

  lookupDecisions(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>> {
    return this._inner.lookupDecisions(traceIds);
  }

  recentDecision(traceId: string): LedgerRecord | undefined {
    return this._inner.recentDecision(traceId);
  }

  rememberDecision(record: LedgerRecord): void {
    this._inner.rememberDecision(record);
  }

  /** Present when the wrapped store has it. */
  readonly stats?: () => SamplingStateStats;

  private _remember(r: LedgerRecord): void {
    const { service, operation, root_duration_us: rootUs } = r.inputs;
    const summary: DecisionSummary = {
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
    if (this.recent.length < MAX_RECENT_DECISIONS) this.recent.push(summary);
    else this.recent[this._next] = summary;
    this._next = (this._next + 1) % MAX_RECENT_DECISIONS;
  }
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
 * SamplerInsights gives the console its snapshot of one tail_sampling processor. `state` is the wrapped
 * store the processor must use so that the console sees its keys and decisions.
 */
export class SamplerInsights {
  private readonly _observed: ObservedState;

  constructor(
    inner: SamplingState,
    private readonly _config: () => TailSamplingConfig,
    private readonly _stats: () => BufferStats,
  ) {
    this._observed = new ObservedState(inner);
  }

  /** The store the processor uses: the real one, observed. */
  get state(): SamplingState {
    return this._observed;
  }

  /** snapshot answers InsightsProvider.insights(). */
  snapshot(): SamplingInsights {
    const cfg = this._config();
    const st = this._observed;
    const latencyPolicies = cfg.policies.filter((p): p is PolicyConfig & { type: 'latency' } => p.type === 'latency');
    const latency: LatencyInsight[] = [];
    for (const { service, operation } of st.latencyKeys.values()) {
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
    const services: ServiceErrorInsight[] = [...st.services]
      .sort()
      .map((service) => ({ service, ...st.serviceErrorState(service) }));
    const targets: TargetInsight[] = [];
    for (const p of cfg.policies) {
      if (p.type !== 'adaptive' || p.target_traces_per_sec === undefined) continue;
      for (const key of [...st.rateKeys].sort()) {
        targets.push({
          policy: p.name ?? 'adaptive',
          key,
          targetPerSec: p.target_traces_per_sec,
          seenPerSec: st.clusterRate(key) ?? null,
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
    return [...this._observed.recent].sort((a, b) => b.decidedAt - a.decidedAt).slice(0, Math.max(0, limit));
  }
}
