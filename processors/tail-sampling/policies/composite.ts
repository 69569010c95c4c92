// composite: the Collector's composite policy. Sub-policies are asked in policy_order (default: the order
// of `policies`); the FIRST that samples decides: the trace is sampled when that sub-policy's span budget
// for the current wall-clock second still holds the trace's spans (and so does max_total_spans_per_second),
// else it is not sampled (later sub-policies are not asked). Budgets: rate_allocation gives a sub-policy
// percent x max_total_spans_per_second (an entry with percent 0: an equal share, max / number of
// sub-policies), truncated to an integer; a sub-policy without an entry gets 0 and never samples. Counters
// restart every second. Local to this replica.

import type { CompositeConfig } from './config';
import { isPromise } from './and';
import { notSampled, sampled, type Decision, type PolicyContext, type PolicyEvaluator, type TraceView } from './types';

interface Sub {
  readonly name: string;
  readonly policy: PolicyEvaluator;
  /** Spans per second this sub-policy may sample. */
  readonly allocated: number;
  /** Spans sampled by it in the current second. */
  used: number;
}

/** allocations computes each sub-policy's spans-per-second budget, as the Collector does. */
export function allocations(cfg: CompositeConfig, names: readonly string[]): Map<string, number> {
  const max = cfg.max_total_spans_per_second;
  const equal = max / names.length;
  const out = new Map<string, number>(names.map((n) => [n, 0]));
  for (const a of cfg.rate_allocation) out.set(a.policy, Math.trunc(a.percent > 0 ? (a.percent / 100) * max : equal));
  return out;
}

/** Composite samples with the first sampling sub-policy, within per-sub-policy span budgets per second. */
export class Composite implements PolicyEvaluator {
  private readonly _subs: Sub[];
  private _second = -1;

  constructor(
    private readonly _cfg: CompositeConfig,
    name: string,
    private readonly _ctx: PolicyContext,
  ) {
    const names = _cfg.policies.map((p, i) => p.name ?? `${name}[${i}]`);
    const budget = allocations(_cfg, names);
    const built = _cfg.policies.map((p, i) => ({
      name: names[i],
      policy: _ctx.build(p, names[i]),
      allocated: budget.get(names[i]) ?? 0,
      used: 0,
    }));
    const order = _cfg.policy_order ?? names;
    this._subs = order.map((n) => built.find((b) => b.name === n) as Sub);
  }

  evaluate(trace: TraceView): Decision | Promise<Decision> {
    const second = Math.floor(this._ctx.now() / 1000);
    if (second !== this._second) {
      this._second = second;
      for (const s of this._subs) s.used = 0;
    }
    return this._from(0, trace);
  }

  private _from(i: number, trace: TraceView): Decision | Promise<Decision> {
    for (; i < this._subs.length; i++) {
      const sub = this._subs[i];
      const d = sub.policy.evaluate(trace);
      if (isPromise(d)) {
        const next = i + 1;
        return d.then((r) => (r.verdict === 'sampled' ? this._spend(sub, trace, r) : this._from(next, trace)));
      }
      if (d.verdict === 'sampled') return this._spend(sub, trace, d);
    }
    return notSampled('no sub-policy sampled the trace');
  }

  private _spend(sub: Sub, trace: TraceView, d: Decision): Decision {
    const spans = trace.spans.length;
    const after = sub.used + spans;
    const inputs = { composite_policy: sub.name, spans, allocated_sps: sub.allocated, used_sps: sub.used };
    if (after <= sub.allocated && after <= this._cfg.max_total_spans_per_second) {
      sub.used = after;
      return sampled(`${sub.name}: ${d.reason} (within ${sub.allocated} spans/s)`, inputs);
    }
    return notSampled(`${sub.name} sampled, but its ${sub.allocated} spans/s are used up this second`, inputs);
  }
}
