// probabilistic: keeps a fixed fraction of traces, decided by comparing a hash of the trace id with the
// rate, so every replica (and a replay) reaches the same verdict for the same trace id. hash_algorithm
// "sha256" (default) shares the trace-id hash with adaptive (probability rules nest); "fnv1a64" takes the
// OpenTelemetry Collector's decision for the same salt and trace id (collector-hash.ts).

import type { ProbabilisticConfig } from './config';
import { traceIdHash } from '../trace-view';
import { CollectorSampler } from './collector-hash';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** Probabilistic samples a trace when hash(salt, trace id) < rate (or, with fnv1a64, the Collector's rule). */
export class Probabilistic implements PolicyEvaluator {
  private readonly _rate: number;
  private readonly _salt: string;
  private readonly _collector: CollectorSampler | undefined;

  constructor(cfg: ProbabilisticConfig) {
    this._rate = cfg.rate ?? (cfg.percentage ?? 0) / 100;
    this._salt = cfg.hash_salt;
    this._collector = cfg.hash_algorithm === 'fnv1a64' ? new CollectorSampler(cfg.hash_salt, this._rate) : undefined;
  }

  evaluate(trace: TraceView): Decision {
    const c = this._collector;
    if (c !== undefined) {
      const h = c.hash(trace.traceId);
      const u = round((h.hi * 2 ** 32 + h.lo) / 2 ** 64);
      const inputs = { rate: this._rate, hash: u, hash_algorithm: 'fnv1a64' };
      // A rate of 0 keeps only a trace hashing to exactly 0: not a keep-with-p event (no adjusted count).
      const p = this._rate > 0 ? Math.min(1, this._rate) : undefined;
      if (c.sampled(h)) return sampled(`FNV-1a hash ${u} <= rate ${this._rate}`, inputs, p);
      return notSampled(`FNV-1a hash ${u} > rate ${this._rate}`, inputs, p);
    }
    const h = this._salt === '' ? trace.hash : traceIdHash(trace.traceId, this._salt);
    const inputs = { rate: this._rate, hash: round(h) };
    if (this._rate > 0 && h < this._rate)
      return sampled(`trace-id hash ${round(h)} < rate ${this._rate}`, inputs, this._rate);
    return notSampled(`trace-id hash ${round(h)} >= rate ${this._rate}`, inputs, this._rate);
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
