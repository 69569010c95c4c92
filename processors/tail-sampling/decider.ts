// Decides a batch of due traces in one go: follows earlier decisions found in the ledger, feeds the state
// (seen, latency, outcome), evaluates the policies with the combination rule, and records the whole
// batch in the ledger with ONE state.recordDecisions call (first decision wins: an earlier one returned
// by the ledger replaces ours). A "dropped" answer the ledger gave from a fingerprint only (which can, rarely,
// be another trace's) is followed only when the drop and must-keep policies do not keep what arrived; otherwise
// the trace is decided anew (counted). Never touches the state per span. An observer (the console's
// insights) may watch each decided batch through one hook call per batch (Decider.onDecided).

import type { Logger } from 'pino';
import { evaluatePolicies, type EvaluationOptions, type NamedPolicy, type Outcome } from './evaluation';
import { isPromise } from './policies/and';
import type { SamplerMetrics } from './metrics';
import type { PolicyConfig } from './policies/config';
import type { PolicyWarn, TraceView } from './policies/types';
import { buildPolicy } from './policies/registry';
import { isFingerprintMatch, type LedgerRecord, type SamplingState } from './state/types';
import type { BufferedTrace } from './trace-buffer';
import { buildPackedTraceView } from './trace-view';

/** Decided is one trace with its final decision. */
export interface Decided {
  readonly trace: BufferedTrace;
  /** The decision; `decidedBy` is this replica's id for its own decisions (with a shared state). */
  readonly record: LedgerRecord;
  /** True when the decision came from the ledger (an earlier run or another replica decided first). */
  readonly followed: boolean;
  /**
   * True when the state holds the decision (recorded by this batch, or followed from it), so that its
   * `recentDecision` answers for the trace; false for a logs-only trace or when the ledger call failed.
   */
  readonly recorded: boolean;
  /** What the policies saw of a trace evaluated in this batch; absent when the ledger's decision was followed as is. */
  readonly view?: DecidedFacts;
}

/** DecidedFacts is what the decider keeps of an evaluated trace's view (not the view: its span objects die young). */
export type DecidedFacts = Pick<TraceView, 'key' | 'service' | 'operation' | 'rootDurationUs' | 'hasError'>;

/**
 * DecisionHook observes the decisions of one batch, called once per `decide` after the ledger call, with every
 * trace of the batch. It must not hold the array past the call; what it throws is logged, never propagated.
 */
export type DecisionHook = (batch: readonly Decided[]) => void;

/** Policy types whose keep a fingerprint false positive must never turn into a drop (see NamedPolicy.mustKeep). */
export const MUST_KEEP_POLICY_TYPES: ReadonlySet<string> = new Set(['status_code', 'latency']);

/** buildPolicies builds the top-level evaluators of validated policy configs. */
export function buildPolicies(
  configs: readonly PolicyConfig[],
  state: SamplingState,
  now: () => number,
  warn?: PolicyWarn,
): NamedPolicy[] {
  return configs.map((cfg, i) => {
    const name = cfg.name ?? `policy[${i}]`;
    const mustKeep = MUST_KEEP_POLICY_TYPES.has(cfg.type);
    return { name, isDrop: cfg.type === 'drop', mustKeep, policy: buildPolicy(cfg, name, { state, now, warn }) };
  });
}

/** WARN_LOG_INTERVAL_MS is how often one (policy, kind) of policy warnings is logged; each is counted. */
export const WARN_LOG_INTERVAL_MS = 60_000;

/** policyWarner counts every policy warning and logs one per (policy, kind) per WARN_LOG_INTERVAL_MS. */
export function policyWarner(metrics: SamplerMetrics, logger: Logger, now: () => number): PolicyWarn {
  const loggedAt = new Map<string, number>();
  return (policy, kind, message) => {
    metrics.policyWarnings.inc({ policy, kind });
    const key = `${policy}\u0000${kind}`;
    const t = now();
    const last = loggedAt.get(key);
    if (last !== undefined && t - last < WARN_LOG_INTERVAL_MS) return;
    loggedAt.set(key, t);
    logger.warn({ policy, kind }, `sampling policy ignored input: ${message}`);
  };
}

/** Decider turns due traces into recorded decisions. */
export class Decider {
  private _hook: DecisionHook | undefined;

  constructor(
    private _policies: NamedPolicy[],
    private readonly _state: SamplingState,
    private readonly _metrics: SamplerMetrics,
    private readonly _logger: Logger,
    private _options: EvaluationOptions = {},
  ) {}

  /** setPolicies swaps the policies and options (reconfigure); traces already being decided use the old ones. */
  setPolicies(policies: NamedPolicy[], options: EvaluationOptions = this._options): void {
    this._policies = policies;
    this._options = options;
  }

  /** onDecided sets the hook that observes each decided batch (one at a time; a later call replaces it). */
  onDecided(hook: DecisionHook | undefined): void {
    this._hook = hook;
  }

  /** decide evaluates and records a batch of traces; resolves with the final decision of each. */
  async decide(traces: readonly BufferedTrace[], nowMs: number): Promise<Decided[]> {
    const policies = this._policies;
    const pending: { trace: BufferedTrace; view: TraceView; outcome: Outcome | Promise<Outcome> }[] = [];
    const out: Decided[] = [];
    const onError =
      (traceId: string) =>
      (policy: string, err: unknown): void => {
        this._metrics.policyErrors.inc({ policy });
        this._logger.warn({ err, policy, traceId }, 'sampling policy failed; counted as not sampled');
      };
    // Fingerprint "dropped" answers overridden: only a full earlier record wins over our decision for them.
    const overriding = new Set<string>();
    const keepsWhatArrived = this._guard(policies, onError);
    for (const t of traces) {
      const follow = t.ledger !== undefined && !isFingerprintMatch(t.ledger);
      const view = follow ? undefined : buildPackedTraceView(t.traceId, t.spans, t.chunks, t.firstSeenMs);
      if (t.ledger) {
        if (view === undefined || t.spans.count === 0) {
          out.push({ trace: t, record: t.ledger, followed: true, recorded: true });
          continue;
        }
        const keep = await keepsWhatArrived(t.traceId, view);
        this._metrics.fingerprintFollows.inc({ result: keep ? 'overridden' : 'followed' });
        if (!keep) {
          out.push({ trace: t, record: t.ledger, followed: true, recorded: true });
          continue;
        }
        overriding.add(t.traceId);
      }
      if (view === undefined) continue; // unreachable: a trace without a ledger record always has a view
      if (t.spans.count > 0) this._state.recordSeen(view.key);
      const outcome = evaluatePolicies(policies, view, onError(t.traceId), this._options);
      pending.push({ trace: t, view, outcome });
    }

    const replica = this._state.replicaId;
    // What the state is fed after the ledger call; the whole view (`full`) only for this batch's fingerprint
    // check, never in what is returned (its span objects can die young).
    const mine: { trace: BufferedTrace; view: DecidedFacts; record: LedgerRecord; full: TraceView }[] = [];
    for (const p of pending) {
      const o = isPromise(p.outcome) ? await p.outcome : p.outcome;
      // evaluatePolicies returns a fresh inputs object per outcome: extended in place, not copied (same keys, same order).
      const inputs = o.inputs;
      inputs.trigger = p.trace.trigger;
      inputs.spans = p.trace.spans.count;
      if (p.view.root) {
        inputs.service = p.view.service;
        inputs.operation = p.view.operation;
        inputs.root_duration_us = p.view.rootDurationUs;
      }
      mine.push({
        trace: p.trace,
        view: {
          key: p.view.key,
          service: p.view.service,
          operation: p.view.operation,
          rootDurationUs: p.view.rootDurationUs,
          hasError: p.view.hasError,
        },
        full: p.view,
        record: {
          traceId: p.trace.traceId,
          decision: o.decision,
          policy: o.policy,
          reason: o.reason,
          inputs,
          decidedAt: nowMs,
          ...(replica === undefined ? {} : { decidedBy: replica }),
        },
      });
    }

    // Logs-only traces (no span here) are decided locally but not recorded: the spans' owner decides for the ledger.
    const recordable = mine.filter((m) => m.trace.spans.count > 0);
    const earlier = new Map<string, LedgerRecord>();
    let recorded = recordable.length > 0;
    if (recordable.length > 0) {
      try {
        await this._record(recordable, overriding, earlier, keepsWhatArrived);
      } catch (err) {
        recorded = false;
        this._metrics.stateErrors.inc({ op: 'record_decisions' });
        this._logger.warn({ err, traces: recordable.length }, 'decision ledger unavailable; keeping local decisions');
      }
    }

    for (const m of mine) {
      const prior = earlier.get(m.trace.traceId);
      if (prior) {
        this._metrics.ledgerConflicts.inc();
        out.push({ trace: m.trace, record: prior, followed: true, recorded: true, view: m.view });
        continue;
      }
      if (m.trace.spans.count > 0) {
        this._state.recordLatency(m.view.service, m.view.operation, m.view.rootDurationUs);
        this._state.recordTraceOutcome(m.view.service, m.view.hasError);
      }
      out.push({
        trace: m.trace,
        record: m.record,
        followed: false,
        recorded: recorded && m.trace.spans.count > 0,
        view: m.view,
      });
    }
    if (this._hook !== undefined) {
      try {
        this._hook(out);
      } catch (err) {
        this._logger.warn({ err }, 'decision observer failed; decisions are unaffected');
      }
    }
    return out;
  }

  /**
   * _guard returns the check of a fingerprint "dropped" answer: do the drop and must-keep policies keep what
   * arrived of the trace? (Those policies are chosen once per batch, and only if some answer needs them.)
   */
  private _guard(
    policies: readonly NamedPolicy[],
    onError: (traceId: string) => (policy: string, err: unknown) => void,
  ): (traceId: string, view: TraceView) => Promise<boolean> {
    let guard: NamedPolicy[] | undefined;
    return async (traceId, view) => {
      guard ??= policies.filter((p) => p.isDrop || p.mustKeep === true);
      const checked = guard.length === 0 ? undefined : evaluatePolicies(guard, view, onError(traceId));
      return checked !== undefined && (isPromise(checked) ? await checked : checked).decision === 'sampled';
    };
  }

  /**
   * _record writes the batch's decisions first-wins and puts the earlier decision of each trace that had one
   * into `earlier`. The write itself may answer "dropped" from a fingerprint for a trace nobody asked the ledger
   * about before (its first chunk held its root: no lookup, see TailSamplingProcessor): if our policies kept the
   * trace and the drop and must-keep ones keep what arrived, the decision is written again, overriding the
   * fingerprint (counted like an override found by a lookup); otherwise the fingerprint's drop is followed.
   */
  private async _record(
    batch: ReadonlyArray<{ readonly trace: BufferedTrace; readonly record: LedgerRecord; readonly full: TraceView }>,
    overriding: Set<string>,
    earlier: Map<string, LedgerRecord>,
    keepsWhatArrived: (traceId: string, view: TraceView) => Promise<boolean>,
  ): Promise<void> {
    const found = await this._state.recordDecisions(
      batch.map((m) => m.record),
      overriding.size > 0 ? overriding : undefined,
    );
    const again: LedgerRecord[] = [];
    const againIds = new Set<string>();
    for (const m of batch) {
      const prior = found.get(m.trace.traceId);
      if (prior === undefined) continue;
      const recheck = isFingerprintMatch(prior) && !overriding.has(m.trace.traceId) && m.record.decision === 'sampled';
      const keep = recheck && (await keepsWhatArrived(m.trace.traceId, m.full));
      if (recheck) this._metrics.fingerprintFollows.inc({ result: keep ? 'overridden' : 'followed' });
      if (keep) {
        again.push(m.record);
        againIds.add(m.trace.traceId);
      } else earlier.set(m.trace.traceId, prior);
    }
    if (again.length === 0) return;
    for (const [id, prior] of await this._state.recordDecisions(again, againIds)) earlier.set(id, prior);
  }
}
