// probabilistic with mode "proportional" | "equalizing": the OpenTelemetry consistent-probability rules
// (tracestate-probability-sampling.md). The trace's randomness R is the `rv` of the `ot` tracestate entry
// (the root span's first, else the first span that has one), else the trace id's 56 low bits; its incoming
// threshold is the largest valid `th` of its spans. The policy's threshold T is threshold(p x incoming p)
// (proportional) or threshold(p) (equalizing); the trace is kept iff R >= T, and kept spans' `th` become
// max(their th, T) (evaluation.ts, the "consistent" writer rule): never lowered, so never upsampled.
// Invalid `ot` values and thresholds inconsistent with R are ignored and reported (ctx.warn).

import {
  encodeThreshold,
  probabilityToThreshold,
  readOtSampling,
  thresholdToProbability,
  traceIdRandomness,
  type OtSampling,
} from '../../../pipeline/sdk/otlp/index';
import type { ProbabilisticConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type PolicyWarn, type TraceView } from './types';

/** RANDOM_FLAG is the W3C trace-context level 2 "random" trace flag (the trace id's 56 low bits are random). */
export const RANDOM_FLAG = 0x02;

/** Where a trace's randomness came from. */
export type RandomnessSource = 'rv' | 'trace_id' | 'trace_id_unflagged';

/** TraceSampling is what a trace's spans say for consistent sampling. */
export interface TraceSampling {
  /** The 56-bit randomness R. */
  readonly randomness: bigint;
  readonly source: RandomnessSource;
  /** The largest valid `th` consistent with R (R >= th) over the spans; undefined when none has one. */
  readonly incoming?: bigint;
  /** What was ignored, one entry per distinct problem. */
  readonly ignored: readonly string[];
}

/**
 * readTraceSampling reads a trace's randomness and incoming threshold from its spans. `rv` wins over the
 * trace id; without `rv` the trace id is used even when no span has the W3C random flag (`trace_id_unflagged`,
 * as the spec's TraceIdRatioBased sampler presumes during the migration to W3C level 2 trace ids).
 */
export function readTraceSampling(trace: TraceView): TraceSampling {
  const seen = new Map<string, OtSampling>();
  const ignored = new Set<string>();
  let rv: bigint | undefined;
  let flagged = false;
  const read = (state: string): OtSampling => {
    let ot = seen.get(state);
    if (ot === undefined) {
      ot = readOtSampling(state);
      seen.set(state, ot);
      if (ot.invalid !== undefined) ignored.add(ot.invalid);
    }
    return ot;
  };
  if (trace.root !== undefined) rv = read(trace.root.traceState).randomness;
  for (const s of trace.spans) {
    if (((s.flags ?? 0) & RANDOM_FLAG) !== 0) flagged = true;
    const ot = read(s.traceState);
    rv ??= ot.randomness;
  }
  const randomness = rv ?? traceIdRandomness(trace.traceId);
  let incoming: bigint | undefined;
  for (const [state, ot] of seen) {
    if (ot.threshold === undefined) continue;
    if (ot.threshold > randomness) {
      ignored.add(`th in "${state}" is inconsistent with the trace's randomness (R < th)`);
    } else if (incoming === undefined || ot.threshold > incoming) {
      incoming = ot.threshold;
    }
  }
  const source: RandomnessSource = rv !== undefined ? 'rv' : flagged ? 'trace_id' : 'trace_id_unflagged';
  return { randomness, source, incoming, ignored: [...ignored] };
}

/** ConsistentProbabilistic is the probabilistic policy in a consistent mode. */
export class ConsistentProbabilistic implements PolicyEvaluator {
  private readonly _rate: number;
  private readonly _equalizing: boolean;
  private readonly _precision: number | undefined;
  /** Equalizing: the fixed threshold of the rate (undefined for rate 0: nothing is kept). */
  private readonly _fixed: bigint | undefined;

  constructor(
    cfg: ProbabilisticConfig,
    private readonly _name: string,
    private readonly _warn?: PolicyWarn,
  ) {
    this._rate = cfg.rate ?? (cfg.percentage ?? 0) / 100;
    this._equalizing = cfg.mode === 'equalizing';
    this._precision = cfg.sampling_precision;
    this._fixed = probabilityToThreshold(this._rate, this._precision);
  }

  evaluate(trace: TraceView): Decision {
    const ts = readTraceSampling(trace);
    if (ts.ignored.length > 0 && this._warn !== undefined) {
      for (const what of ts.ignored) this._warn(this._name, 'tracestate_ignored', `trace ${trace.traceId}: ${what}`);
    }
    const incoming = ts.incoming ?? 0n;
    // Equalizing: T = threshold(p) whatever arrived (spans that arrived with a larger `th` have R >= it, so
    // they are kept and the writer leaves their `th`: never lowered). Proportional: T = threshold(p x the
    // incoming probability), at least the incoming threshold; a product below 2^-56 keeps nothing.
    let t = this._equalizing
      ? this._fixed
      : probabilityToThreshold(this._rate * thresholdToProbability(incoming), this._precision);
    if (!this._equalizing && t !== undefined && t < incoming) t = incoming;
    const inputs: Record<string, string | number | boolean> = {
      mode: this._equalizing ? 'equalizing' : 'proportional',
      rate: this._rate,
      randomness: ts.randomness.toString(16).padStart(14, '0'),
      randomness_source: ts.source,
    };
    if (ts.incoming !== undefined) inputs.incoming_threshold = encodeThreshold(ts.incoming);
    if (ts.ignored.length > 0) inputs.tracestate_ignored = ts.ignored.join('; ');
    if (t === undefined) return notSampled(`rate ${this._rate} keeps no trace`, inputs);
    inputs.threshold = encodeThreshold(t);
    // The probability this stage kept the trace with, given it arrived: p(T) / p(incoming).
    const p = Math.min(1, thresholdToProbability(t) / thresholdToProbability(incoming));
    const r = inputs.randomness as string;
    if (ts.randomness >= t) return sampled(`randomness ${r} >= threshold ${inputs.threshold}`, inputs, p, t);
    return notSampled(`randomness ${r} < threshold ${inputs.threshold}`, inputs, p, t);
  }
}
