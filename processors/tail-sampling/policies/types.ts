// The policy contract: what a policy sees of a trace (TraceView), what it answers (Decision), and what it
// may read while deciding (PolicyContext). Every file in this folder implements PolicyEvaluator.

import type { PolicyConfig } from './config';
import type { SamplingState } from '../state/types';

/** AttributeValue is a decoded attribute value a policy can match. */
export type AttributeValue = string | number | boolean;

/**
 * SpanSummary is the part of a span the sampler decodes (architecture.md, contract 5). It is a structural
 * subset of the codec's SpanIndex, so indexes from pipeline/sdk/otlp flow in unchanged.
 */
export interface SpanSummary {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  /** Start and end, integer microseconds since the epoch. */
  readonly startUs: number;
  readonly endUs: number;
  /** OTLP status: 0 unset, 1 ok, 2 error. */
  readonly statusCode: 0 | 1 | 2;
  /** service.name of the span's resource ('' when absent). */
  readonly service: string;
  /** W3C tracestate of the span ('' when absent). */
  readonly traceState: string;
  /** Only the attribute keys the configured policies name (resource attributes, overridden by the span's). */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** The span's flags field (W3C trace flags in the low 8 bits; bit 0 = sampled). Unset reads as 0. */
  readonly flags?: number;
  /** Encoded size of the span, bytes (bytes_limiting). Unset reads as 0. */
  readonly sizeBytes?: number;
  /**
   * Every span attribute (not merged with the resource's) and the span events, decoded on first read from the
   * span's bytes (off the hot path: only ottl_condition reads them). Unset: no attributes, no events.
   */
  readonly details?: SpanDetailsSummary;
}

/** SpanDetailsSummary is the rarely read part of a span: its own attributes, every key, and its events. */
export interface SpanDetailsSummary {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly events: readonly {
    readonly name: string;
    readonly timeUs: number;
    readonly attributes: Readonly<Record<string, AttributeValue>>;
  }[];
}

/** TraceView is one buffered trace as policies see it. Built once per decision; read-only. */
export interface TraceView {
  /** Lowercase 32-char hex trace id. */
  readonly traceId: string;
  /** Every span buffered for the trace (empty for a trace known only from its logs). */
  readonly spans: readonly SpanSummary[];
  /** The root span (no parent); if none arrived, the earliest span; undefined when there are no spans. */
  readonly root: SpanSummary | undefined;
  /** True when a span without parent arrived. */
  readonly hasRoot: boolean;
  /** service.name and span name of `root` ('' when there are no spans). */
  readonly service: string;
  readonly operation: string;
  /** `${service}:${operation}`, the key of throughput budgets and latency quantiles. */
  readonly key: string;
  /** Duration of `root`, microseconds. */
  readonly rootDurationUs: number;
  /** Earliest start to latest end over all spans, microseconds. */
  readonly durationUs: number;
  /** True when any span has status ERROR. */
  readonly hasError: boolean;
  /** Deterministic uniform value in [0, 1) from the trace id (unsalted); equal on every replica. */
  readonly hash: number;
  /** Unix ms when the first span or log of the trace was buffered here. */
  readonly firstSeenMs: number;
}

/** Verdict of one policy. `dropped` is only produced by `drop` policies and overrides every other vote. */
export type Verdict = 'sampled' | 'not_sampled' | 'dropped';

/** Decision is a policy's answer, with what is needed to explain it. */
export interface Decision {
  readonly verdict: Verdict;
  /** One sentence: why. */
  readonly reason: string;
  /** The inputs used (thresholds, quantiles, rates...). */
  readonly inputs?: Readonly<Record<string, AttributeValue>>;
  /**
   * Set when a probability decided: the keep probability p (0 < p <= 1) compared with the trace-id hash.
   * A kept trace then stands for 1/p traces (sampling.adjusted_count). Unset = the verdict is not random.
   */
  readonly probability?: number;
  /**
   * Set by a consistent-probability decision (OpenTelemetry tracestate `th`/`rv` rules): the 56-bit
   * rejection threshold T compared with the trace's randomness R (kept iff R >= T). Unset otherwise.
   */
  readonly threshold?: bigint;
}

/** PolicyEvaluator is implemented by every policy type. Must not throw for any trace (a throw counts as an error vote). */
export interface PolicyEvaluator {
  evaluate(trace: TraceView): Decision | Promise<Decision>;
}

/**
 * PolicyWarn reports something a policy ignored in the data it read (e.g. an invalid tracestate `ot` value):
 * `kind` is a short stable label (a metric label), `message` says what. The processor counts and logs it.
 */
export type PolicyWarn = (policy: string, kind: string, message: string) => void;

/** PolicyContext is what a policy may use: the state snapshot (synchronous reads only) and the clock. */
export interface PolicyContext {
  readonly state: SamplingState;
  /** Current time, unix milliseconds. */
  now(): number;
  /** Reports ignored input (counted and logged by the processor); unset = not reported. */
  readonly warn?: PolicyWarn;
  /** Builds a nested policy (used by composites). */
  build(config: PolicyConfig, name: string): PolicyEvaluator;
}

/** sampled builds a "sampled" decision (`threshold` only for consistent-probability decisions). */
export function sampled(
  reason: string,
  inputs?: Decision['inputs'],
  probability?: number,
  threshold?: bigint,
): Decision {
  return decision('sampled', reason, inputs, probability, threshold);
}

/** notSampled builds a "not sampled" decision. */
export function notSampled(
  reason: string,
  inputs?: Decision['inputs'],
  probability?: number,
  threshold?: bigint,
): Decision {
  return decision('not_sampled', reason, inputs, probability, threshold);
}

function decision(
  verdict: 'sampled' | 'not_sampled',
  reason: string,
  inputs: Decision['inputs'],
  probability: number | undefined,
  threshold: bigint | undefined,
): Decision {
  if (probability === undefined) return { verdict, reason, inputs };
  return threshold === undefined
    ? { verdict, reason, inputs, probability }
    : { verdict, reason, inputs, probability, threshold };
}
