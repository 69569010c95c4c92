// not: inverts one sub-policy: sampled when it does not sample, not sampled when it does. A probability of
// the sub-policy is not carried over (the inverted verdict is not a keep-with-p event).

import type { NotConfig } from './config';
import { isPromise } from './and';
import { notSampled, sampled, type Decision, type PolicyContext, type PolicyEvaluator, type TraceView } from './types';

/** Not inverts its sub-policy. */
export class Not implements PolicyEvaluator {
  private readonly _sub: PolicyEvaluator;
  private readonly _subName: string;

  constructor(cfg: NotConfig, name: string, ctx: PolicyContext) {
    this._subName = cfg.policy.name ?? `${name}[0]`;
    this._sub = ctx.build(cfg.policy, this._subName);
  }

  evaluate(trace: TraceView): Decision | Promise<Decision> {
    const d = this._sub.evaluate(trace);
    return isPromise(d) ? d.then((r) => this._invert(r)) : this._invert(d);
  }

  private _invert(d: Decision): Decision {
    const inputs: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(d.inputs ?? {})) inputs[`${this._subName}.${k}`] = v;
    return d.verdict === 'sampled'
      ? notSampled(`not (${this._subName}: ${d.reason})`, inputs)
      : sampled(`not (${this._subName}: ${d.reason})`, inputs);
  }
}
