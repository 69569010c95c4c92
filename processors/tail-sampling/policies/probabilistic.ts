// probabilistic: keeps a fixed fraction of traces, decided by comparing a hash of the trace id with the
// rate, so every replica (and a replay) reaches the same verdict for the same trace id.

import type { ProbabilisticConfig } from './config';
import { traceIdHash } from '../trace-view';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** Probabilistic samples a trace when hash(salt, trace id) < rate. */
export class Probabilistic implements PolicyEvaluator {
  private readonly _rate: number;
  private readonly _salt: string;

  constructor(cfg: ProbabilisticConfig) {
    this._rate = cfg.rate ?? (cfg.percentage ?? 0) / 100;
    this._salt = cfg.hash_salt;
  }

  evaluate(trace: TraceView): Decision {
    const h = this._salt === '' ? trace.hash : traceIdHash(trace.traceId, this._salt);
    const inputs = { rate: this._rate, hash: round(h) };
    if (this._rate > 0 && h < this._rate) return sampled(`trace-id hash ${round(h)} < rate ${this._rate}`, inputs, this._rate);
    return notSampled(`trace-id hash ${round(h)} >= rate ${this._rate}`, inputs, this._rate);
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
