// latency: samples slow traces. Absolute rule (threshold_ms): the trace's duration, earliest span start to
// latest span end, is at least threshold_ms; with upper_threshold_ms, the Collector's rule
// threshold_ms < duration <= upper_threshold_ms in whole ms, tested span by span in arrival order.
// Relative rule (above: p50|p95|p99): the ROOT span's duration exceeds factor x the live quantile of
// root spans of the same (service, operation), read from the state snapshot, once the quantile has
// min_observations behind it. With both set, the trace must clear both (the absolute
// threshold is a floor under the relative one).

import type { SamplingState } from '../state/types';
import type { LatencyConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** Latency samples traces slower than an absolute threshold, a live quantile, or both. */
export class Latency implements PolicyEvaluator {
  constructor(
    private readonly _cfg: LatencyConfig,
    private readonly _state: SamplingState,
  ) {}

  evaluate(trace: TraceView): Decision {
    const cfg = this._cfg;
    const upperUs = cfg.upper_threshold_ms === undefined ? Infinity : cfg.upper_threshold_ms * 1000;
    if (cfg.above === undefined && cfg.upper_threshold_ms !== undefined) {
      return collectorRange(trace, cfg.threshold_ms ?? 0, cfg.upper_threshold_ms);
    }
    if (cfg.above === undefined) {
      const thresholdUs = (cfg.threshold_ms ?? 0) * 1000;
      const inputs = withUpper({ duration_us: trace.durationUs, threshold_us: thresholdUs }, upperUs);
      if (trace.durationUs >= thresholdUs && trace.durationUs < upperUs) {
        return sampled(`trace duration ${trace.durationUs}µs >= threshold ${thresholdUs}µs`, inputs);
      }
      return notSampled(`trace duration ${trace.durationUs}µs not in [${thresholdUs}µs, ${upperUs}µs)`, inputs);
    }

    const q = this._state.latencyQuantiles(trace.service, trace.operation);
    const duration = trace.rootDurationUs;
    const inputs: Record<string, number | string> = withUpper(
      { duration_us: duration, quantile: cfg.above, observations: q?.count ?? 0 },
      upperUs,
    );
    if (q === undefined || q.count < cfg.min_observations || q.count === 0) {
      if (cfg.threshold_ms === undefined) {
        return notSampled(
          `${cfg.above} of ${trace.key} has ${q?.count ?? 0} < ${cfg.min_observations} observations`,
          inputs,
        );
      }
      // Not enough data for the relative rule: the absolute threshold alone decides.
      const thresholdUs = cfg.threshold_ms * 1000;
      inputs.threshold_us = thresholdUs;
      if (duration >= thresholdUs && duration < upperUs)
        return sampled(
          `root duration ${duration}µs >= threshold ${thresholdUs}µs (too few observations for ${cfg.above})`,
          inputs,
        );
      return notSampled(
        `root duration ${duration}µs below threshold ${thresholdUs}µs (too few observations for ${cfg.above})`,
        inputs,
      );
    }
    const quantileUs = q[cfg.above];
    const limitUs = Math.max(quantileUs * cfg.factor, (cfg.threshold_ms ?? 0) * 1000);
    inputs[`${cfg.above}_us`] = quantileUs;
    inputs.limit_us = limitUs;
    if (duration > limitUs && duration < upperUs) {
      return sampled(
        `root duration ${duration}µs > ${cfg.factor === 1 ? '' : `${cfg.factor}x `}${cfg.above} ${quantileUs}µs of ${trace.key}`,
        inputs,
      );
    }
    return notSampled(`root duration ${duration}µs <= limit ${limitUs}µs (${cfg.above} of ${trace.key})`, inputs);
  }
}

/**
 * collectorRange is the Collector's rule with an upper bound: spans in arrival order, the duration of the
 * spans seen so far (earliest start to latest end, whole milliseconds) is tested after each span, and the
 * trace is sampled as soon as threshold < duration <= upper holds.
 */
function collectorRange(trace: TraceView, thresholdMs: number, upperMs: number): Decision {
  let minStart = Infinity;
  let maxEnd = -Infinity;
  const inputs = { duration_us: trace.durationUs, threshold_ms: thresholdMs, upper_threshold_ms: upperMs };
  for (const s of trace.spans) {
    if (s.startUs < minStart) minStart = s.startUs;
    if (s.endUs > maxEnd) maxEnd = s.endUs;
    const ms = Math.floor(Math.max(0, maxEnd - minStart) / 1000);
    if (thresholdMs < ms && ms <= upperMs) {
      return sampled(`trace duration ${ms}ms in (${thresholdMs}ms, ${upperMs}ms]`, inputs);
    }
  }
  return notSampled(`trace duration not in (${thresholdMs}ms, ${upperMs}ms]`, inputs);
}

function withUpper<T extends Record<string, number | string>>(inputs: T, upperUs: number): T {
  return upperUs === Infinity ? inputs : { ...inputs, upper_threshold_us: upperUs };
}
