// What GET /v1/decisions/{traceId} answers: the decision record, which kind of ledger entry it comes from, and,
// when this replica does not hold the full explanation, where it is or what can still be said. With a shared
// ledger (state: redis) only the deciding replica keeps the reason and inputs (in memory); the others read
// decision, policy, time, the deciding replica's id and the sampling threshold from Redis. Dropped traces
// outside the sample recorded in full leave only a fingerprint of their id in Redis (and, on the replica that
// decided, decision, policy and time): the answer says so instead of showing an empty reason as if complete.

import { FINGERPRINT_POLICY, isFingerprintMatch, type LedgerRecord } from './state/types';

/**
 * DecisionEntryKind says what the ledger holds for a trace: a kept trace's full record (`kept`), a dropped
 * trace in the sample recorded in full (`dropped-sampled`), or a dropped trace recorded by a fingerprint of its
 * id only (`dropped-fingerprint`: no reason nor inputs; read from Redis, no policy either).
 */
export type DecisionEntryKind = 'kept' | 'dropped-sampled' | 'dropped-fingerprint';

/** DecisionExplanation is the admin API's answer for one trace. */
export interface DecisionExplanation extends LedgerRecord {
  /** What the ledger holds for the trace. */
  readonly kind: DecisionEntryKind;
  /**
   * Set when the answer has no reason and inputs (only the compact ledger entry): which replica holds them
   * and how to get them, or why they are gone.
   */
  readonly explanation?: string;
}

/** ExplainContext is what the processor can recompute for a fingerprint-only answer. */
export interface ExplainContext {
  /** The trace-id hash the probability policies compare with their rate (trace-view.ts traceIdHash). */
  readonly traceIdHash?: number;
}

/** kindOf classifies a record by the ledger entry it comes from. */
export function kindOf(record: LedgerRecord): DecisionEntryKind {
  if (record.decision === 'sampled') return 'kept';
  return record.fingerprintOnly === undefined ? 'dropped-sampled' : 'dropped-fingerprint';
}

/**
 * explainRecord turns a ledger record into the answer of replica `self` (its state's replicaId; undefined
 * for an unshared store). A record with a reason is complete and returned as it is (with its kind); otherwise
 * the explanation names the deciding replica, or says what a fingerprint-only entry tells.
 */
export function explainRecord(
  record: LedgerRecord,
  self: string | undefined,
  ctx: ExplainContext = {},
): DecisionExplanation {
  const kind = kindOf(record);
  if (kind === 'dropped-fingerprint') return { ...record, kind, explanation: fingerprintExplanation(record, ctx) };
  if (record.reason !== '') return { ...record, kind };
  const by = record.decidedBy;
  if (by === undefined) {
    return {
      ...record,
      kind,
      explanation:
        'decided by another replica; the ledger entry does not name it (written by an older version). ' +
        'Only that replica held the reason and inputs.',
    };
  }
  if (by === self) {
    return {
      ...record,
      kind,
      explanation:
        `decided by this replica (${by}); its reason and inputs are no longer in its memory ` +
        '(evicted from its local store of recent decisions); the shared ledger keeps decision, policy and time only.',
    };
  }
  return {
    ...record,
    kind,
    explanation:
      `held by replica ${by}: the replica that decided keeps the reason and inputs in memory. Ask its admin API ` +
      `(GET /v1/decisions/${record.traceId}; its /readyz shows "replica ${by}"). They are gone if it restarted since.`,
  };
}

function fingerprintExplanation(record: LedgerRecord, ctx: ExplainContext): string {
  const hash =
    ctx.traceIdHash === undefined
      ? ''
      : ` Its trace-id hash is ${ctx.traceIdHash.toPrecision(6)}: ` +
        'a probability policy keeps it only at a rate above that.';
  const sample = 'dropped and not in the sample of dropped traces recorded in full (redis.ledger_dropped_sample)';
  if (isFingerprintMatch(record) || record.policy === FINGERPRINT_POLICY) {
    const w = record.fingerprintOnly?.windowMs ?? 0;
    const from = new Date(record.decidedAt).toISOString();
    const to = new Date(record.decidedAt + w).toISOString();
    return (
      `${sample}: the shared ledger holds only a 5-byte fingerprint of its id, recorded between ${from} and ${to}, ` +
      "so the deciding policy, reason and inputs are not known (a fingerprint may, rarely, be another trace's)." +
      hash
    );
  }
  const by = record.decidedBy === undefined ? '' : ` by replica ${record.decidedBy}`;
  return (
    `${sample}: decided${by} by policy ${record.policy}; its reason and inputs were not kept, ` +
    'and the shared ledger holds only a fingerprint of its id.' +
    hash
  );
}
