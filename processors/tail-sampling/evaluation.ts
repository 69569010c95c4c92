// The combination rule (same as the OpenTelemetry Collector's tail sampler):
//   1. `drop` policies run first, in config order; the first that matches decides: NOT sampled.
//   2. Every other policy runs, in config order (all of them, so rate limiters and metrics see every trace;
//      with sample_on_first_match, only until the first that samples).
//   3. The trace is sampled when ANY policy sampled it; the FIRST such policy in config order is the
//      deciding policy (sampling.policy). Otherwise it is not sampled (policy "(none)").
// A policy that throws counts as "not sampled" for that policy and is counted in policy_errors.
// Adjusted count: 1 when any sampling vote was not random; otherwise 1/p_max over the sampling votes'
// probabilities (every probability rule compares with the same trace-id hash, so the trace is kept
// exactly when hash < max p), and the same p_max as an OpenTelemetry sampling threshold (`th`, 4 hex
// digits), which the processor writes into the kept spans' tracestate. When every sampling vote is a
// consistent-probability one (tracestate randomness R >= threshold T), the smallest T is written instead,
// raising (never lowering) each span's own `th` (INPUT_THRESHOLD_RULE).

import { encodeThreshold, MAX_THRESHOLD, probabilityToThreshold } from '../../pipeline/sdk/otlp/index';
import type { Decision, PolicyEvaluator, TraceView } from './policies/types';
import { isPromise } from './policies/and';
import { INPUT_ADJUSTED_COUNT, INPUT_SAMPLING_THRESHOLD } from './state/types';

/** NamedPolicy is one top-level policy with its configured name. */
export interface NamedPolicy {
  readonly name: string;
  readonly isDrop: boolean;
  /**
   * A policy whose keep must never be lost to a fingerprint false positive of the ledger (status_code, latency):
   * re-evaluated, with the drop policies, before a fingerprint-only "dropped" answer is followed.
   */
  readonly mustKeep?: boolean;
  readonly policy: PolicyEvaluator;
}

/**
 * INPUT_THRESHOLD_RULE is set to "consistent" in a kept trace's inputs when its INPUT_SAMPLING_THRESHOLD
 * came from consistent-probability votes: the writer raises span thresholds to it (max), not multiplies.
 */
export const INPUT_THRESHOLD_RULE = 'sampling_threshold_rule';

/** NO_POLICY is the policy name recorded when no policy sampled the trace. */
export const NO_POLICY = '(none)';

/** Outcome is the combined result for one trace. */
export interface Outcome {
  readonly decision: 'sampled' | 'not_sampled';
  readonly policy: string;
  readonly reason: string;
  /** A fresh object per outcome, owned by the caller (the decider extends it into the ledger record). */
  readonly inputs: Record<string, string | number | boolean>;
  /** Set when the kept trace stands for more than one (1/p). */
  readonly adjustedCount?: number;
}

type Named = { name: string; decision: Decision };

/** PolicySplit is a policy list split into its drop policies and the others, each in config order. */
interface PolicySplit {
  readonly drops: readonly NamedPolicy[];
  readonly others: readonly NamedPolicy[];
}

/** Splits per policy list (the decider passes the same array for every trace until a reconfigure). */
const splits = new WeakMap<readonly NamedPolicy[], PolicySplit>();

function splitOf(policies: readonly NamedPolicy[]): PolicySplit {
  let split = splits.get(policies);
  if (split === undefined) {
    split = { drops: policies.filter((p) => p.isDrop), others: policies.filter((p) => !p.isDrop) };
    splits.set(policies, split);
  }
  return split;
}

/** failedVote is the vote of a policy that threw or rejected (counted through onError). */
function failedVote(name: string, err: unknown, onError: (policy: string, err: unknown) => void): Named {
  onError(name, err);
  return {
    name,
    decision: { verdict: 'not_sampled', reason: `policy failed: ${err instanceof Error ? err.message : String(err)}` },
  };
}

/** runPolicies evaluates every policy of `list` in order; synchronous unless one answers with a promise. */
function runPolicies(
  list: readonly NamedPolicy[],
  trace: TraceView,
  onError: (policy: string, err: unknown) => void,
): Named[] | Promise<Named[]> {
  const out: (Named | Promise<Named>)[] = new Array<Named | Promise<Named>>(list.length);
  let pending = false;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    try {
      const d = p.policy.evaluate(trace);
      if (isPromise(d)) {
        pending = true;
        out[i] = d.then(
          (r) => ({ name: p.name, decision: r }),
          (err: unknown) => failedVote(p.name, err, onError),
        );
      } else {
        out[i] = { name: p.name, decision: d };
      }
    } catch (err) {
      out[i] = failedVote(p.name, err, onError);
    }
  }
  return pending ? Promise.all(out.map(async (vote) => vote)) : (out as Named[]);
}

/**
 * runUntilSampled evaluates `list` in order and stops after the first "sampled" vote (sample_on_first_match);
 * synchronous unless a policy answers with a promise.
 */
function runUntilSampled(
  list: readonly NamedPolicy[],
  trace: TraceView,
  onError: (policy: string, err: unknown) => void,
  from = 0,
  out: Named[] = [],
): Named[] | Promise<Named[]> {
  for (let i = from; i < list.length; i++) {
    const p = list[i];
    let d: Decision | Promise<Decision>;
    try {
      d = p.policy.evaluate(trace);
    } catch (err) {
      out.push(failedVote(p.name, err, onError));
      continue;
    }
    if (isPromise(d)) {
      return d
        .then(
          (r) => ({ name: p.name, decision: r }),
          (err: unknown) => failedVote(p.name, err, onError),
        )
        .then((v) => {
          out.push(v);
          return v.decision.verdict === 'sampled' ? out : runUntilSampled(list, trace, onError, i + 1, out);
        });
    }
    out.push({ name: p.name, decision: d });
    if (d.verdict === 'sampled') return out;
  }
  return out;
}

/** EvaluationOptions are the processor options of the combination rule. */
export interface EvaluationOptions {
  /** Stop at the first policy that samples (the Collector's sample_on_first_match); later ones are not asked. */
  readonly sampleOnFirstMatch?: boolean;
}

/** evaluatePolicies applies the combination rule; synchronous unless a policy answers with a promise. */
export function evaluatePolicies(
  policies: readonly NamedPolicy[],
  trace: TraceView,
  onError: (policy: string, err: unknown) => void,
  options: EvaluationOptions = {},
): Outcome | Promise<Outcome> {
  const { drops, others } = splitOf(policies);
  const afterDrops = (dropVotes: Named[]): Outcome | Promise<Outcome> => {
    for (const v of dropVotes) {
      if (v.decision.verdict === 'dropped')
        return { decision: 'not_sampled', policy: v.name, reason: v.decision.reason, inputs: { ...v.decision.inputs } };
    }
    const votes = options.sampleOnFirstMatch
      ? runUntilSampled(others, trace, onError)
      : runPolicies(others, trace, onError);
    return isPromise(votes) ? votes.then(combine) : combine(votes);
  };
  if (drops.length === 0) return afterDrops([]);
  const dropVotes = runPolicies(drops, trace, onError);
  return isPromise(dropVotes) ? dropVotes.then(afterDrops) : afterDrops(dropVotes);
}

function combine(votes: readonly Named[]): Outcome {
  const yes = votes.filter((v) => v.decision.verdict === 'sampled');
  if (yes.length === 0) {
    const inputs: Record<string, string | number | boolean> = {};
    for (const v of votes) {
      const own = v.decision.inputs;
      if (own === undefined) continue;
      // Own enumerable string keys in Object.entries order (for..in lists them in the same order).
      for (const k in own) if (Object.prototype.hasOwnProperty.call(own, k)) inputs[`${v.name}.${k}`] = own[k];
    }
    const reason =
      votes.length === 0
        ? 'no policy configured'
        : `no policy sampled the trace (${votes.map((v) => `${v.name}: ${v.decision.reason}`).join('; ')})`;
    return { decision: 'not_sampled', policy: NO_POLICY, reason, inputs };
  }
  const first = yes[0];
  const inputs: Record<string, string | number | boolean> = { ...first.decision.inputs };
  let adjustedCount: number | undefined;
  if (yes.every((v) => v.decision.threshold !== undefined)) {
    // Consistent votes compare one randomness R with their thresholds: kept iff R >= the smallest.
    const t = yes.reduce(
      (m, v) => ((v.decision.threshold as bigint) < m ? (v.decision.threshold as bigint) : m),
      MAX_THRESHOLD,
    );
    const pMax = Math.max(...yes.map((v) => v.decision.probability ?? 1));
    if (pMax < 1) adjustedCount = inputs[INPUT_ADJUSTED_COUNT] = 1 / pMax;
    if (t > 0n) {
      inputs[INPUT_SAMPLING_THRESHOLD] = encodeThreshold(t);
      inputs[INPUT_THRESHOLD_RULE] = 'consistent';
    }
  } else if (yes.every((v) => v.decision.probability !== undefined && v.decision.probability < 1)) {
    const pMax = Math.max(...yes.map((v) => v.decision.probability as number));
    adjustedCount = 1 / pMax;
    inputs[INPUT_ADJUSTED_COUNT] = adjustedCount;
    const threshold = probabilityToThreshold(pMax);
    if (threshold !== undefined && threshold > 0n) inputs[INPUT_SAMPLING_THRESHOLD] = encodeThreshold(threshold);
  }
  if (yes.length > 1)
    inputs.also_sampled_by = yes
      .slice(1)
      .map((v) => v.name)
      .join(',');
  return { decision: 'sampled', policy: first.name, reason: first.decision.reason, inputs, adjustedCount };
}
