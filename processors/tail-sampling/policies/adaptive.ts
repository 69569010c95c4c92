// adaptive: the seed's policy. A keep probability p per trace, compared with the trace-id hash:
//   p0 = base_rate, or in target mode clamp(target_traces_per_sec / clusterRate(key), min_rate, 1) per
//        (service, operation) key, so every key converges toward the target kept traces/s cluster-wide
//        (like Jaeger's adaptive sampling) while rare keys (rate below target) are kept in full and hot keys
//        never drop under the floor;
//   p  = min(1, p0 x error_multiplier (trace has an error span) x slow_multiplier (root slower than the live
//        slow_quantile of its key) x the service's error-state boost).
// Because p is compared with a deterministic hash of the trace id, replicas and replays agree as long as
// they see the same state snapshot; the ledger settles the rest (first decision wins).

import type { SamplingState } from '../state/types';
import type { AdaptiveConfig } from './config';
import { traceIdHash } from '../trace-view';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** Adaptive samples with a per-key probability boosted for errors, slowness and degraded services. */
export class Adaptive implements PolicyEvaluator {
  constructor(
    private readonly _cfg: AdaptiveConfig,
    private readonly _state: SamplingState,
  ) {}

  evaluate(trace: TraceView): Decision {
    const cfg = this._cfg;
    const inputs: Record<string, string | number | boolean> = { key: trace.key };
    let p = cfg.base_rate;
    if (cfg.target_traces_per_sec !== undefined) {
      const rate = this._state.clusterRate(trace.key);
      inputs.target_traces_per_sec = cfg.target_traces_per_sec;
      if (rate !== undefined && rate > 0) {
        p = clamp(cfg.target_traces_per_sec / rate, cfg.min_rate, 1);
        inputs.cluster_rate = round(rate);
      } else {
        inputs.cluster_rate = 'unknown';
      }
    }
    inputs.base_p = round(p);
    if (trace.hasError && cfg.error_multiplier !== 1) {
      p *= cfg.error_multiplier;
      inputs.error_multiplier = cfg.error_multiplier;
    }
    const q = this._state.latencyQuantiles(trace.service, trace.operation);
    if (q !== undefined && q.count >= cfg.min_observations && q.count > 0) {
      const limit = q[cfg.slow_quantile];
      inputs[`${cfg.slow_quantile}_us`] = limit;
      inputs.duration_us = trace.rootDurationUs;
      if (trace.rootDurationUs > limit && cfg.slow_multiplier !== 1) {
        p *= cfg.slow_multiplier;
        inputs.slow_multiplier = cfg.slow_multiplier;
      }
    }
    if (cfg.use_error_boost && trace.service !== '') {
      const es = this._state.serviceErrorState(trace.service);
      if (es.boost !== 1) {
        p *= es.boost;
        inputs.service_boost = es.boost;
      }
    }
    p = clamp(p, 0, 1);
    const h = cfg.hash_salt === '' ? trace.hash : traceIdHash(trace.traceId, cfg.hash_salt);
    inputs.p = round(p);
    inputs.hash = round(h);
    if (p > 0 && h < p) return sampled(`trace-id hash ${round(h)} < p ${round(p)} for ${trace.key}`, inputs, p);
    return notSampled(`trace-id hash ${round(h)} >= p ${round(p)} for ${trace.key}`, inputs, p > 0 ? p : undefined);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
