// and: samples when every sub-policy samples. Sub-policies run in order and evaluation stops at the first
// that does not sample (so a rate limiter placed last only spends tokens on traces that passed the others).
// When probabilities applied, the result carries the smallest one (all share the trace-id hash, so the
// trace passes them all exactly when it passes the smallest).

import type { AndConfig, PolicyConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyContext, type PolicyEvaluator, type TraceView } from './types';

/** NamedDecision is a sub-policy's decision with its name. */
export interface NamedDecision {
  name: string;
  decision: Decision;
}
/** AllResult says whether every sub-policy sampled, with the decisions made until evaluation stopped. */
export type AllResult = { all: boolean; decisions: NamedDecision[] };

/** isPromise tells a thenable from a plain value (policies may answer either way). */
export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/**
 * evaluateAll runs sub-policies in order and reports whether all sampled (shared by and + drop). Stays
 * synchronous while the sub-policies are, so a tick of synchronous policies never awaits.
 */
export function evaluateAll(
  subs: readonly { name: string; policy: PolicyEvaluator }[],
  trace: TraceView,
  from = 0,
  decisions: NamedDecision[] = [],
): AllResult | Promise<AllResult> {
  for (let i = from; i < subs.length; i++) {
    const { name, policy } = subs[i];
    const d = policy.evaluate(trace);
    if (isPromise(d)) {
      return d.then((resolved) => {
        decisions.push({ name, decision: resolved });
        return resolved.verdict !== 'sampled' ? { all: false, decisions } : evaluateAll(subs, trace, i + 1, decisions);
      });
    }
    decisions.push({ name, decision: d });
    if (d.verdict !== 'sampled') return { all: false, decisions };
  }
  return { all: true, decisions };
}

/** combinedInputs merges sub-decisions' inputs under `<sub>.` prefixes and finds the smallest probability. */
export function combine(decisions: readonly NamedDecision[]): {
  inputs: Record<string, string | number | boolean>;
  reason: string;
  probability?: number;
  threshold?: bigint;
} {
  const inputs: Record<string, string | number | boolean> = {};
  let probability: number | undefined;
  // Consistent thresholds of one trace's randomness R: all kept iff R >= the largest. Only when every random
  // sub-decision is consistent (a hash-based one has no threshold).
  let threshold: bigint | undefined;
  let consistent = true;
  for (const { name, decision } of decisions) {
    for (const [k, v] of Object.entries(decision.inputs ?? {})) inputs[`${name}.${k}`] = v;
    if (decision.probability !== undefined) probability = Math.min(probability ?? 1, decision.probability);
    if (decision.threshold !== undefined) {
      if (threshold === undefined || decision.threshold > threshold) threshold = decision.threshold;
    } else if (decision.probability !== undefined) consistent = false;
  }
  const reason = decisions.map(({ name, decision }) => `${name}: ${decision.reason}`).join('; ');
  return { inputs, reason, probability, threshold: consistent ? threshold : undefined };
}

/**
 * AllOf is what `and` and `drop` share: sub-policies built in order (an unnamed one is `<name>[i]`) and
 * run with evaluateAll; `conclude` turns the result into the composite's decision.
 */
export class AllOf implements PolicyEvaluator {
  private readonly _subs: { name: string; policy: PolicyEvaluator }[];

  constructor(
    policies: readonly PolicyConfig[],
    name: string,
    ctx: PolicyContext,
    private readonly _conclude: (r: AllResult) => Decision,
  ) {
    this._subs = policies.map((p, i) => {
      const sub = p.name ?? `${name}[${i}]`;
      return { name: sub, policy: ctx.build(p, sub) };
    });
  }

  evaluate(trace: TraceView): Decision | Promise<Decision> {
    const r = evaluateAll(this._subs, trace);
    return isPromise(r) ? r.then(this._conclude) : this._conclude(r);
  }
}

/** And samples a trace when all sub-policies do. */
export class And extends AllOf {
  constructor(cfg: AndConfig, name: string, ctx: PolicyContext) {
    super(cfg.policies, name, ctx, conclude);
  }
}

function conclude({ all, decisions }: AllResult): Decision {
  const { inputs, reason, probability, threshold } = combine(decisions);
  return all
    ? sampled(`all sub-policies sampled (${reason})`, inputs, probability, threshold)
    : notSampled(`not all sub-policies sampled (${reason})`, inputs);
}
