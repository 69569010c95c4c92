// A controllable SamplingState for unit tests: quantiles, rates and error states are set by the test; the
// ledger is a Map with first-decision-wins; every call is counted so tests can check batching. With a
// replicaId it answers like a shared (Redis) ledger: decisions of other replicas come back in the compact
// form the Redis ledger stores (state/ledger.ts shortDecision: no reason, compact inputs, decidedBy).

import type { ComponentHealth } from '../../../../pipeline/sdk/component';
import { decodeDecision, encodeDecision, shortDecision } from '../../../../processors/tail-sampling/state/ledger';
import type {
  LatencyQuantiles,
  LedgerRecord,
  SamplingState,
  ServiceErrorState,
} from '../../../../processors/tail-sampling/state/types';

/** FakeSamplingState implements SamplingState in memory with knobs for tests. */
export class FakeSamplingState implements SamplingState {
  readonly quantiles = new Map<string, LatencyQuantiles>();
  readonly rates = new Map<string, number>();
  readonly errorStates = new Map<string, ServiceErrorState>();
  /** The ledger; may be shared between two fakes to model a shared Redis. */
  ledger: Map<string, LedgerRecord>;
  /** What this replica holds locally (like a store's local store): recorded, looked up or remembered. */
  readonly local = new Map<string, LedgerRecord>();
  /** The decisions handed to rememberDecision (not recorded in the ledger). */
  readonly remembered = new Map<string, LedgerRecord>();
  readonly calls = {
    recordDecisions: 0,
    lookupDecisions: 0,
    recentDecision: 0,
    rememberDecision: 0,
    recordLatency: 0,
    recordTraceOutcome: 0,
    recordSeen: 0,
    start: 0,
    shutdown: 0,
  };
  readonly latencies: { service: string; operation: string; durationUs: number }[] = [];
  readonly outcomes: { service: string; hadError: boolean }[] = [];
  readonly seen: string[] = [];
  /** Every trace id asked by lookupDecisions, in order. */
  readonly lookedUp: string[] = [];
  /** The `overriding` argument of every recordDecisions call, in order. */
  readonly overridings: Array<ReadonlySet<string> | undefined> = [];
  failRecord = false;
  failLookup = false;

  constructor(
    ledger?: Map<string, LedgerRecord>,
    readonly replicaId?: string,
  ) {
    this.ledger = ledger ?? new Map();
  }

  /** What this replica reads of a ledger record: all of it for its own (or unshared) decisions, else the shared form. */
  private _asSeen(r: LedgerRecord): LedgerRecord {
    if (this.replicaId === undefined || r.decidedBy === this.replicaId) return r;
    const shared = decodeDecision(r.traceId, shortDecision(encodeDecision(r)));
    if (shared === undefined) throw new Error(`the ledger codec cannot read back ${r.traceId}`);
    return shared;
  }

  async start(): Promise<void> {
    this.calls.start++;
  }
  async shutdown(): Promise<void> {
    this.calls.shutdown++;
  }
  health(): ComponentHealth {
    return { ready: true };
  }
  recordLatency(service: string, operation: string, durationUs: number): void {
    this.calls.recordLatency++;
    this.latencies.push({ service, operation, durationUs });
  }
  recordTraceOutcome(service: string, hadError: boolean): void {
    this.calls.recordTraceOutcome++;
    this.outcomes.push({ service, hadError });
  }
  recordSeen(key: string): void {
    this.calls.recordSeen++;
    this.seen.push(key);
  }
  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined {
    return this.quantiles.get(`${service}:${operation}`);
  }
  serviceErrorState(service: string): ServiceErrorState {
    return this.errorStates.get(service) ?? { errorRate: 0, baseline: 0, degraded: false, boost: 1 };
  }
  clusterRate(key: string): number | undefined {
    return this.rates.get(key);
  }
  async recordDecisions(
    records: readonly LedgerRecord[],
    overriding?: ReadonlySet<string>,
  ): Promise<Map<string, LedgerRecord>> {
    this.calls.recordDecisions++;
    this.overridings.push(overriding);
    if (this.failRecord) throw new Error('ledger down');
    const earlier = new Map<string, LedgerRecord>();
    for (const r of records) {
      // For an overridden trace only a full earlier record wins over the new one (SamplingState.recordDecisions).
      const found = this.ledger.get(r.traceId);
      const prior = found?.fingerprintOnly !== undefined && overriding?.has(r.traceId) ? undefined : found;
      if (prior) earlier.set(r.traceId, this._asSeen(prior));
      else this.ledger.set(r.traceId, r);
      this.local.set(r.traceId, prior ? this._asSeen(prior) : r);
    }
    return earlier;
  }
  async lookupDecisions(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>> {
    this.calls.lookupDecisions++;
    this.lookedUp.push(...traceIds);
    if (this.failLookup) throw new Error('ledger down');
    const out = new Map<string, LedgerRecord>();
    for (const id of traceIds) {
      const r = this.ledger.get(id);
      if (r) {
        out.set(id, this._asSeen(r));
        this.local.set(id, this._asSeen(r));
      }
    }
    return out;
  }
  recentDecision(traceId: string): LedgerRecord | undefined {
    this.calls.recentDecision++;
    return this.local.get(traceId);
  }
  rememberDecision(record: LedgerRecord): void {
    this.calls.rememberDecision++;
    this.remembered.set(record.traceId, record);
    if (!this.local.has(record.traceId)) this.local.set(record.traceId, record);
  }
}
