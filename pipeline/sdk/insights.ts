// What a component may show on the web console: a small, read-only snapshot interface. The runtime asks
// every component that implements InsightsProvider; it never reaches into a component's internals.

/** One decision as the console lists it (the recent-decisions stream). */
export interface DecisionSummary {
  readonly traceId: string;
  readonly decision: 'sampled' | 'not_sampled';
  readonly policy: string;
  readonly reason: string;
  /** Unix milliseconds. */
  readonly decidedAt: number;
  /** Root service and operation, when the trace had a root span here. */
  readonly service?: string;
  readonly operation?: string;
  /** Root span duration, microseconds. */
  readonly rootDurationUs?: number;
  /** Replica that decided (shared ledger only). */
  readonly decidedBy?: string;
}

/** Live latency figures of one (service, operation) and the threshold the latency policies apply to it. */
export interface LatencyInsight {
  readonly service: string;
  readonly operation: string;
  /** Microseconds; cluster-wide where the state is shared. */
  readonly p50Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  /** Observations behind the figures. */
  readonly count: number;
  /** Per latency policy: the duration above which a root span is kept (µs), or null while too few observations. */
  readonly thresholds: ReadonlyArray<{ readonly policy: string; readonly thresholdUs: number | null }>;
}

/** Error state of one service. */
export interface ServiceErrorInsight {
  readonly service: string;
  /** Recent error rate of its traces, 0..1. */
  readonly errorRate: number;
  /** Long-run baseline error rate, 0..1. */
  readonly baseline: number;
  /** True while the recent rate is well above the baseline. */
  readonly degraded: boolean;
  /** Keep-probability multiplier applied while degraded (1 otherwise). */
  readonly boost: number;
  /**
   * Unix ms at which the boost ends if the error rate stays under the threshold; while `aboveThreshold` it moves
   * forward with time. Null when not degraded.
   */
  readonly boostUntil: number | null;
  /** True while the recent error rate is above the degraded threshold (not only decaying). */
  readonly aboveThreshold: boolean;
}

/** A throughput target of a policy (target mode) against the rate seen cluster-wide. */
export interface TargetInsight {
  readonly policy: string;
  /** Key of the rate (e.g. `service/operation`). */
  readonly key: string;
  /** Target kept traces/s for the key. */
  readonly targetPerSec: number;
  /** Traces/s of the key seen cluster-wide (before sampling); null before the first sync. */
  readonly seenPerSec: number | null;
  /** Traces/s of the key kept cluster-wide (by any policy), from the same rate counts; null before the first sync. */
  readonly keptPerSec: number | null;
}

/** SamplingInsights is the snapshot a sampling processor gives the console. */
export interface SamplingInsights {
  readonly kind: 'sampling';
  /** Policy names in evaluation order, with their type. */
  readonly policies: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  /** Id of this replica in a shared state, or undefined for an unshared one. */
  readonly replicaId?: string;
  /** Where the shared figures come from: `memory` (this process) or `redis` (cluster-wide). */
  readonly state: string;
  readonly latency: readonly LatencyInsight[];
  readonly services: readonly ServiceErrorInsight[];
  readonly targets: readonly TargetInsight[];
  /** Buffered traces, spans and bytes, and bytes of kept traces being exported. */
  readonly buffer: {
    readonly traces: number;
    readonly spans: number;
    readonly bytes: number;
    readonly exportingBytes: number;
  };
}

/** InsightsProvider is implemented by components that have something to show on the console. */
export interface InsightsProvider {
  /** A fresh snapshot; cheap (no I/O), called at most a few times per second. */
  insights(): SamplingInsights;
  /** The most recent decisions, newest first, at most `limit`. */
  recentDecisions?(limit: number): DecisionSummary[];
  /**
   * Hands every later batch of decisions (newest last) to `listener` until the returned function is called. The
   * listener runs on the component's decision path: it must be quick and must not throw.
   */
  subscribeDecisions?(listener: (batch: readonly DecisionSummary[]) => void): () => void;
}

/** isInsightsProvider tells whether a component implements InsightsProvider. */
export function isInsightsProvider(c: unknown): c is InsightsProvider {
  return typeof c === 'object' && c !== null && typeof (c as Partial<InsightsProvider>).insights === 'function';
}
