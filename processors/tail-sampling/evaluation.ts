// The combination rule (same as the OpenTelemetry Collector's tail sampler):
//   1. `drop` policies run first, in config order; the first that matches decides: NOT sampled.
//   2. Every other policy runs, in config order (all of them, so rate limiters and metrics see every trace).
//   3. The trace is sampled when ANY policy sampled it; the FIRST such policy in config order is the
//      deciding policy (sampling.policy). Otherwise it is not sampled (policy "(none)").
// A policy that throws counts as "not sampled" for that policy and is counted in policy_errors.
// Adjusted count: 1 when any sampling vote was not random; otherwise 1/p_max over the sampling votes'
// probabilities (every probability rule compares with the same trace-id hash, so the trace is kept
// exactly when hash < max p), and the same p_max as an OpenTelemetry sampling threshold (`th`, 4 hex
// digits), which the processor writes into the kept spans' tracestate.

import { encodeThreshold, probabilityToThreshold } from '../../pipeline/otlp/tracestate';
import type { Decision, PolicyEvaluator, TraceView } from './policies/types';
import { isPromise } from './policies/and';
import { INPUT_ADJUSTED_COUNT, INPUT_SAMPLING_THRESHOLD } from './state/types';

/** NamedPolicy is one top-level policy with its configured name. */
export interface NamedPolicy {
  readonly name: string;
  readonly isDrop: boolean;
  readonly policy: PolicyEvaluator;
}

/** NO_POLICY is the policy name recorded when no policy sampled the trace. */
export const NO_POLICY = '(none)';

/** Outcome is the combined result for one trace. */
export interface Outcome {
  readonly decision: 'sampled' | 'not_sampled';
  readonly policy: string;
  readonly reason: string;
  readonly inputs: Record<string, string | number | boolean>;
  /** Set when the kept trace stands for more than one (1/p). */
  readonly adjustedCount?: number;
}

type Named = { name: string; decision: Decision };

/** evaluatePolicies applies the combination rule; synchronous unless a policy answers with a promise. */
export function evaluatePolicies(policies: readonly NamedPolicy[], trace: TraceView, onError: (policy: string, err: unknown) => void): Outcome | Promise<Outcome> {
  const drops = policies.filter((p) => p.isDrop);
  const others = policies.filter((p) => !p.isDrop);
  const run = (list: readonly NamedPolicy[]): Named[] | Promise<Named[]> => {
    const out: (Named | Promise<Named>)[] = list.map((p) => {
      const safe = (err: unknown): Named => {
        onError(p.name, err);
        return { name: p.name, decision: { verdict: 'not_sampled', reason: `policy failed: ${err instanceof Error ? err.message : String(err)}` } };
      };
      try {
        const d = p.policy.evaluate(trace);
        return isPromise(d) ? d.then((r) => ({ name: p.name, decision: r }), safe) : { name: p.name, decision: d };
      } catch (err) {
        return safe(err);
      }
    });
    return out.some(isPromise) ? Promise.all(out) : (out as Named[]);
  };
  const afterDrops = (dropVotes: Named[]): Outcome | Promise<Outcome> => {
    const dropped = dropVotes.find((v) => v.decision.verdict === 'dropped');
    if (dropped) return { decision: 'not_sampled', policy: dropped.name, reason: dropped.decision.reason, inputs: { ...dropped.decision.inputs } };
    const votes = run(others);
    return isPromise(votes) ? votes.then(combine) : combine(votes);
  };
  const dropVotes = run(drops);
  return isPromise(dropVotes) ? dropVotes.then(afterDrops) : afterDrops(dropVotes);
}

function combine(votes: readonly Named[]): Outcome {
  const yes = votes.filter((v) => v.decision.verdict === 'sampled');
  if (yes.length === 0) {
    const inputs: Record<string, string | number | boolean> = {};
    for (const v of votes) for (const [k, val] of Object.entries(v.decision.inputs ?? {})) inputs[`${v.name}.${k}`] = val;
    const reason = votes.length === 0 ? 'no policy configured' : `no policy sampled the trace (${votes.map((v) => `${v.name}: ${v.decision.reason}`).join('; ')})`;
    return { decision: 'not_sampled', policy: NO_POLICY, reason, inputs };
  }
  const first = yes[0];
  const inputs: Record<string, string | number | boolean> = { ...first.decision.inputs };
  let adjustedCount: number | undefined;
  if (yes.every((v) => v.decision.probability !== undefined && v.decision.probability < 1)) {
    const pMax = Math.max(...yes.map((v) => v.decision.probability as number));
    adjustedCount = 1 / pMax;
    inputs[INPUT_ADJUSTED_COUNT] = adjustedCount;
    const threshold = probabilityToThreshold(pMax);
    if (threshold !== undefined && threshold > 0n) inputs[INPUT_SAMPLING_THRESHOLD] = encodeThreshold(threshold);
  }
  if (yes.length > 1) inputs.also_sampled_by = yes.slice(1).map((v) => v.name).join(',');
  return { decision: 'sampled', policy: first.name, reason: first.decision.reason, inputs, adjustedCount };
}
