// The contract between the tail-sampling processor and its state store (memory for the embedded mode,
// Redis for a cluster): latency quantiles per (service, operation), error state per service, cluster-wide
// throughput budgets and the decision ledger. Reads never wait on the network: they answer from the last
// synced snapshot; writes are aggregated locally and exchanged in batches (architecture.md, contract 4).

import type { ComponentHealth, DecisionRecord } from '../../../pipeline/sdk/component';

/**
 * Keys of `DecisionRecord.inputs` that the ledger keeps even in its compact shared form, because kept
 * spans are stamped from them (sampling.adjusted_count, tracestate `th`) wherever the trace's late spans go.
 */
export const INPUT_ADJUSTED_COUNT = 'adjusted_count';
export const INPUT_SAMPLING_THRESHOLD = 'sampling_threshold';

/**
 * LedgerRecord is a DecisionRecord as the sampling state holds it: with the replica that decided, when the
 * ledger is shared. A shared ledger keeps the full reason and inputs only on the deciding replica; other
 * replicas get `reason: ''` and only the compact inputs (INPUT_SAMPLING_THRESHOLD, INPUT_ADJUSTED_COUNT).
 */
export interface LedgerRecord extends DecisionRecord {
  /** `replicaId` of the state instance whose processor decided; unset for an unshared store or an entry that does not say. */
  readonly decidedBy?: string;
  /**
   * Set for a dropped trace whose full record was not kept (it is not in the sample of dropped traces the ledger
   * records in full, `ledgerDroppedSample`): the shared ledger holds only a 5-byte fingerprint of its id. Read
   * from Redis, the record has policy FINGERPRINT_POLICY and `decidedAt` = the start of the time bucket the
   * fingerprint is in, of width `windowMs`; on the replica that decided, policy and `decidedAt` are exact
   * (`windowMs` 0) and only the reason and inputs are gone. A fingerprint can match another trace id (rarely,
   * see state/README.md): the processor re-evaluates its drop and must-keep policies before following one.
   */
  readonly fingerprintOnly?: { readonly windowMs: number };
}

/**
 * isFingerprintMatch says whether a record was read from a fingerprint match in the shared ledger (windowMs > 0),
 * which may, rarely, be another trace's: the processor re-checks its must-keep policies before following it.
 */
export function isFingerprintMatch(r: LedgerRecord): boolean {
  return r.fingerprintOnly !== undefined && r.fingerprintOnly.windowMs > 0;
}

/** FINGERPRINT_POLICY is the policy of a decision read from a fingerprint only (the deciding policy is not stored). */
export const FINGERPRINT_POLICY = '(unrecorded)';

/** LatencyQuantiles of one (service, operation), cluster-wide where the store is shared. Microseconds. */
export interface LatencyQuantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Number of observations behind the figures (a policy may ignore keys with too few). */
  readonly count: number;
}

/** ServiceErrorState says whether a service is currently degraded and by how much its traces are boosted. */
export interface ServiceErrorState {
  /** Recent error rate of the service's traces (0..1). */
  readonly errorRate: number;
  /** Long-run baseline error rate (0..1). */
  readonly baseline: number;
  /** True while the recent rate is well above the baseline (and for a decay period after). */
  readonly degraded: boolean;
  /** Multiplier a policy may apply to the service's keep probability (1 when not degraded). */
  readonly boost: number;
  /**
   * While degraded: unix ms at which the boost ends if the error rate stays under the threshold (the last time it
   * was above it plus the decay period). While `aboveThreshold`, every evaluation moves it forward. Unset otherwise.
   */
  readonly boostUntil?: number;
  /** While degraded: true when the recent error rate is above the threshold now (not only decaying). */
  readonly aboveThreshold?: boolean;
}

/**
 * SamplingStateStats are the store's own counters, for metrics and benchmarks (e.g. Redis commands per span).
 * Counters only grow; a memory store reports zeros for the Redis fields.
 */
export interface SamplingStateStats {
  /** Requests sent to Redis and awaited (one pipeline or one script call = one round trip). */
  readonly roundTrips: number;
  /** Redis commands sent (a pipeline of n commands counts n; one EVALSHA counts 1). */
  readonly commands: number;
  /** Redis requests that failed (connection down, timeout, script error). */
  readonly errors: number;
  /** Duration of the last sync tick (flush + read), ms; 0 before the first. */
  readonly lastSyncMs: number;
  /** Unix ms of the last successful sync with Redis; 0 if none yet (memory: 0). */
  readonly lastSyncAt: number;
  /** Successful sync ticks. */
  readonly syncs: number;
  /** Local observations (latency, outcomes, seen) not yet flushed to Redis. */
  readonly pendingObservations: number;
  /** Ledger decisions recorded locally while Redis was unreachable, waiting to be written. */
  readonly pendingDecisions: number;
  /** Observations or decisions dropped because a bound was reached (pending caps, key caps). */
  readonly dropped: number;
  /** Ledger records ignored because they could not be decoded (malformed, foreign, or of a newer layout). */
  readonly undecodable: number;
}

/** SamplingState is implemented by state/memory.ts and state/redis.ts. */
export interface SamplingState {
  /**
   * Id of this instance in a shared ledger (random per process start, shown in its health detail), or
   * undefined when the store is not shared (memory). Decisions this replica records carry it as `decidedBy`.
   */
  readonly replicaId?: string;
  /** Connects and starts the background sync loop; returns quickly (Redis down is not an error: degraded). */
  start(): Promise<void>;
  /** Flushes what is pending (best effort, bounded) and stops; idempotent, safe without start. */
  shutdown(): Promise<void>;
  /** Ready/degraded report for /readyz and metrics. */
  health(): ComponentHealth;

  /** Records one root-span latency observation (local aggregation only; no I/O). */
  recordLatency(service: string, operation: string, durationUs: number): void;
  /** Records one decided trace of a service and whether it had an error (local only). */
  recordTraceOutcome(service: string, hadError: boolean): void;
  /** Records that one trace of `key` was seen, before deciding (feeds the cluster-wide rate). */
  recordSeen(key: string): void;

  /** Latency quantiles of (service, operation) from the last sync, or undefined if unknown. */
  latencyQuantiles(service: string, operation: string): LatencyQuantiles | undefined;
  /** Error state of a service from the last sync. */
  serviceErrorState(service: string): ServiceErrorState;
  /** Cluster-wide rate at which traces of `key` are seen (traces/s, all replicas together), or undefined before the first sync. */
  clusterRate(key: string): number | undefined;

  /**
   * Records decisions in the ledger in one batch; for each trace where a decision already existed (another
   * replica or an earlier run decided first), the map returned holds that earlier decision, which wins.
   * Rejects only when the store is unusable AND the caller must not decide without it (never for memory).
   * `overriding`: trace ids whose fingerprint-only "dropped" answer the caller does not follow (its must-keep
   * policies keep what arrived): for them only a full earlier record wins, and the new record is stored in full.
   */
  recordDecisions(
    records: readonly LedgerRecord[],
    overriding?: ReadonlySet<string>,
  ): Promise<Map<string, LedgerRecord>>;
  /** Looks decisions up in one batch (late spans, replays, the admin API). */
  lookupDecisions(traceIds: readonly string[]): Promise<Map<string, LedgerRecord>>;
  /**
   * The decision this store holds locally for a trace (recorded, looked up or remembered through it, not yet
   * expired or evicted), without I/O; undefined otherwise. Late spans follow it synchronously. The local store
   * is bounded by `ledgerMaxEntries` (the processor's `decision_cache_size`).
   */
  recentDecision(traceId: string): LedgerRecord | undefined;
  /**
   * Keeps a decision that is not recorded in the ledger in the local store, so that `recentDecision` answers
   * for it: a logs-only trace (the owner of its spans decides for the ledger) or a decision taken while
   * `recordDecisions` failed. No I/O; never written to a shared ledger; a decision held already stays.
   */
  rememberDecision(record: LedgerRecord): void;

  /** Optional counters of the store's own work (added; both built-in stores implement it). */
  stats?(): SamplingStateStats;
}
