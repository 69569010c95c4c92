// drop: a veto. When every sub-policy samples the trace, the verdict is "dropped", which wins over every
// other policy's vote (the trace is not kept). Allowed at the top level only.

import type { DropConfig } from './config';
import { combine, evaluateAll, isPromise, type NamedDecision } from './and';
import { notSampled, type Decision, type PolicyContext, type PolicyEvaluator, type TraceView } from './types';

/** Drop vetoes traces that all its sub-policies match. */
export class Drop implements PolicyEvaluator {
  private readonly _subs: { name: string; policy: PolicyEvaluator }[];

  constructor(cfg: DropConfig, name: string, ctx: PolicyContext) {
    this._subs = cfg.policies.map((p, i) => {
      const sub = p.name ?? `${name}[${i}]`;
      return { name: sub, policy: ctx.build(p, sub) };
    });
  }

  evaluate(trace: TraceView): Decision | Promise<Decision> {
    const r = evaluateAll(this._subs, trace);
    return isPromise(r) ? r.then(conclude) : conclude(r);
  }
}

function conclude({ all, decisions }: { all: boolean; decisions: NamedDecision[] }): Decision {
  const { inputs, reason } = combine(decisions);
  return all ? { verdict: 'dropped', reason: `dropped: all sub-policies matched (${reason})`, inputs } : notSampled(`drop not applied (${reason})`, inputs);
}
