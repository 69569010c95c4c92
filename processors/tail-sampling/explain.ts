// What GET /v1/decisions/{traceId} answers: the decision record plus, when this replica does not hold the
// full explanation, where it is. With a shared ledger (state: redis) only the deciding replica keeps the
// reason and inputs (in memory); the others read decision, policy, time, the deciding replica's id and
// the sampling threshold from Redis. The answer says so instead of showing an empty reason as if complete.

import type { LedgerRecord } from './state/types';

/** DecisionExplanation is the admin API's answer for one trace. */
export interface DecisionExplanation extends LedgerRecord {
  /**
   * Set when the answer has no reason and inputs (only the compact ledger entry): which replica holds them
   * and how to get them, or why they are gone.
   */
  readonly explanation?: string;
}

/**
 * explainRecord turns a ledger record into the answer of replica `self` (its state's replicaId; undefined
 * for an unshared store). A record with a reason is complete and returned as it is; otherwise the
 * explanation names the deciding replica.
 */
export function explainRecord(record: LedgerRecord, self: string | undefined): DecisionExplanation {
  if (record.reason !== '') return record;
  const by = record.decidedBy;
  if (by === undefined) {
    return {
      ...record,
      explanation:
        'decided by another replica; the ledger entry does not name it (written by an older version). ' +
        'Only that replica held the reason and inputs.',
    };
  }
  if (by === self) {
    return {
      ...record,
      explanation:
        `decided by this replica (${by}); its reason and inputs are no longer in its memory ` +
        '(evicted from its local store of recent decisions); the shared ledger keeps decision, policy and time only.',
    };
  }
  return {
    ...record,
    explanation:
      `held by replica ${by}: the replica that decided keeps the reason and inputs in memory. Ask its admin API ` +
      `(GET /v1/decisions/${record.traceId}; its /readyz shows "replica ${by}"). They are gone if it restarted since.`,
  };
}
