// A controllable SamplingState for unit tests: quantiles, rates and error states are set by the test; the
// ledger is a Map with first-decision-wins; every call is counted so tests can check batching.

import type { ComponentHealth, DecisionRecord } from '../../../../pipeline/component';
import type { LatencyQuantiles, SamplingState, ServiceErrorState } from '../../../../processors/tail-sampling/state/types';

/** FakeSamplingState implements SamplingState in memory with knobs for tests. */
export class FakeSamplingState implements SamplingState {
  readonly quantiles = new Map<string, LatencyQuantiles>();
  readonly rates = new Map<string, number>();
  readonly errorStates = new Map<string, ServiceErrorState>();
  /** The ledger; may be shared between two fakes to model a shared Redis. */
  ledger: Map<string, DecisionRecord>;
  readonly calls = { recordDecisions: 0, lookupDecisions: 0, recordLatency: 0, recordTraceOutcome: 0, recordSeen: 0, start: 0, shutdown: 0 };
  readonly latencies: { service: string; operation: string; durationUs: number }[] = [];
  readonly outcomes: { service: string; hadError: boolean }[] = [];
  readonly seen: string[] = [];
  failRecord = false;
  failLookup = false;

  constructor(ledger?: Map<string, DecisionRecord>) {
    this.ledger = ledger ?? new Map();
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
  async recordDecisions(records: readonly DecisionRecord[]): Promise<Map<string, DecisionRecord>> {
    this.calls.recordDecisions++;
    if (this.failRecord) throw new Error('ledger down');
    const earlier = new Map<string, DecisionRecord>();
    for (const r of records) {
      const prior = this.ledger.get(r.traceId);
      if (prior) earlier.set(r.traceId, prior);
      else this.ledger.set(r.traceId, r);
    }
    return earlier;
  }
  async lookupDecisions(traceIds: readonly string[]): Promise<Map<string, DecisionRecord>> {
    this.calls.lookupDecisions++;
    if (this.failLookup) throw new Error('ledger down');
    const out = new Map<string, DecisionRecord>();
    for (const id of traceIds) {
      const r = this.ledger.get(id);
      if (r) out.set(id, r);
    }
    return out;
  }
}
