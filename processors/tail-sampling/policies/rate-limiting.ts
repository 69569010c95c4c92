// rate_limiting: lets at most N spans (or traces) per second through, as a token bucket holding one second
// of burst. The bucket is LOCAL to this replica: in a cluster of R replicas the total is R x N unless you
// combine it with the cluster-wide budget (adaptive target_traces_per_sec). Every trace it is asked about
// takes tokens when it passes, whether or not another policy also samples the trace; inside `and` it is
// only asked about traces that passed the sub-policies before it.

import type { RateLimitingConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** RateLimiting samples traces while the local token bucket has tokens for them. */
export class RateLimiting implements PolicyEvaluator {
  private readonly _perSecond: number;
  private readonly _unit: 'spans' | 'traces';
  private _tokens: number;
  private _lastMs: number;

  constructor(
    cfg: RateLimitingConfig,
    private readonly _now: () => number,
  ) {
    this._unit = cfg.spans_per_second !== undefined ? 'spans' : 'traces';
    this._perSecond = cfg.spans_per_second ?? cfg.traces_per_second ?? 0;
    this._tokens = this._perSecond;
    this._lastMs = _now();
  }

  evaluate(trace: TraceView): Decision {
    const now = this._now();
    this._tokens = Math.min(this._perSecond, this._tokens + ((now - this._lastMs) / 1000) * this._perSecond);
    this._lastMs = now;
    const cost = this._unit === 'spans' ? trace.spans.length : 1;
    const inputs = { limit_per_second: this._perSecond, unit: this._unit, cost, tokens: Math.floor(this._tokens) };
    if (cost <= this._tokens && this._perSecond > 0) {
      this._tokens -= cost;
      return sampled(`within ${this._perSecond} ${this._unit}/s (local)`, inputs);
    }
    return notSampled(`over ${this._perSecond} ${this._unit}/s (local)`, inputs);
  }
}
