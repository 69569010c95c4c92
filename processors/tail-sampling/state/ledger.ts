// The compact string codec of a decision record, as stored in Redis and in the local ledger (a bounded LRU
// map whose entries expire after a TTL, ../lru.ts; the trace id is the key, so it is not repeated).

import { parseThreshold, thresholdAdjustedCount } from '../../../pipeline/sdk/otlp/tracestate';
import { INPUT_ADJUSTED_COUNT, INPUT_SAMPLING_THRESHOLD, type LedgerRecord } from './types';

/** Separator of the fields of an encoded decision (JSON escapes it, so it never occurs inside `inputs`). */
const SEP = '\x1f';
/** Separator of the items of the shared field (replica ids are base64url and thresholds hex: neither has it). */
const ITEM_SEP = ',';
/** Tags of the shared field's items. Unknown tags are skipped, so items can be added without breaking readers. */
const TAG_REPLICA = 'r';
const TAG_THRESHOLD = 't';

/**
 * encodeDecision renders a record compactly without its trace id (the hash field / map key):
 * `<s|n><policy>␟<decidedAt, base-36 ms>␟<shared>␟<reason>␟<inputs as JSON, empty when none>`, where
 * `shared` holds comma-separated tagged items: `r<replica id>` (the replica that decided, `decidedBy`) and,
 * for a decision kept by a probability, `t<sampling threshold>` (the tracestate `th` hex; the adjusted count
 * follows from it). This one string is the entry of the local ledger (one string per trace instead of a
 * record object graph); `decodeDecision` materializes the record only when one is asked for. Redis stores
 * its `shortDecision` head, which ends after `shared`.
 */
export function encodeDecision(r: LedgerRecord, decidedBy = r.decidedBy): string {
  let inputs = '';
  for (const _ in r.inputs) {
    inputs = JSON.stringify(r.inputs);
    break;
  }
  let shared = decidedBy === undefined ? '' : TAG_REPLICA + decidedBy;
  const threshold = r.inputs[INPUT_SAMPLING_THRESHOLD];
  if (r.decision === 'sampled' && typeof threshold === 'string' && parseThreshold(threshold) !== undefined) {
    shared += (shared === '' ? '' : ITEM_SEP) + TAG_THRESHOLD + threshold;
  }
  return `${r.decision === 'sampled' ? 's' : 'n'}${r.policy}${SEP}${r.decidedAt.toString(36)}${SEP}${shared}${SEP}${r.reason}${SEP}${inputs}`;
}

/** decisionOutcome is the "<s|n><policy>" head of an encoded decision (what following a decision needs). */
export function decisionOutcome(text: string): string {
  const i = text.indexOf(SEP);
  return i < 0 ? text : text.slice(0, i);
}

/**
 * shortDecision cuts an encoded decision to `<s|n><policy>␟<decidedAt>␟<shared>␟` (no reason, no inputs):
 * the value stored in Redis, ~20-40 bytes. It decodes to a record with `reason: ''`, `decidedBy`, and as
 * inputs only the sampling threshold and the adjusted count derived from it. (The trailing separator makes
 * readers of the previous layout, `<s|n><policy>␟<decidedAt>`, read `shared` as the reason and still follow
 * the decision during a rolling upgrade.)
 */
export function shortDecision(text: string): string {
  const i1 = text.indexOf(SEP);
  const i2 = i1 < 0 ? -1 : text.indexOf(SEP, i1 + 1);
  const i3 = i2 < 0 ? -1 : text.indexOf(SEP, i2 + 1);
  return i3 < 0 ? text : text.slice(0, i3 + 1);
}

/**
 * decodeDecision parses `encodeDecision` or `shortDecision` output for `traceId`, and the short form of the
 * previous layout (`<s|n><policy>␟<decidedAt>`, no `shared`); undefined when malformed.
 */
export function decodeDecision(traceId: string, text: string): LedgerRecord | undefined {
  const d = text.charCodeAt(0);
  if (d !== 115 /* s */ && d !== 110 /* n */) return undefined;
  const i1 = text.indexOf(SEP);
  if (i1 < 0) return undefined;
  const i2 = text.indexOf(SEP, i1 + 1);
  const i3 = i2 < 0 ? -1 : text.indexOf(SEP, i2 + 1);
  if (i2 >= 0 && i3 < 0) return undefined; // a third field without its end
  const i4 = text.lastIndexOf(SEP);
  const full = i3 >= 0 && i4 > i3;
  if (i3 >= 0 && !full && i3 !== text.length - 1) return undefined; // short form with something after it
  const time = i2 < 0 ? text.slice(i1 + 1) : text.slice(i1 + 1, i2);
  const decidedAt = /^-?[0-9a-z]+$/.test(time) ? parseInt(time, 36) : NaN;
  if (!Number.isSafeInteger(decidedAt)) return undefined;
  let decidedBy: string | undefined;
  let threshold: string | undefined;
  if (i3 >= 0) {
    for (const item of text.slice(i2 + 1, i3).split(ITEM_SEP)) {
      if (item.length < 2) continue;
      if (item[0] === TAG_REPLICA) decidedBy = item.slice(1);
      else if (item[0] === TAG_THRESHOLD) threshold = item.slice(1);
    }
  }
  const inputs: Record<string, string | number | boolean> = {};
  if (full) {
    if (i4 + 1 < text.length) {
      let v: unknown;
      try {
        v = JSON.parse(text.slice(i4 + 1));
      } catch {
        return undefined;
      }
      if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') inputs[k] = x;
        }
      }
    }
  } else if (threshold !== undefined) {
    const t = parseThreshold(threshold);
    if (t !== undefined && t > 0n) {
      inputs[INPUT_SAMPLING_THRESHOLD] = threshold;
      inputs[INPUT_ADJUSTED_COUNT] = thresholdAdjustedCount(t);
    }
  }
  const record: LedgerRecord = {
    traceId,
    decision: d === 115 ? 'sampled' : 'not_sampled',
    policy: text.slice(1, i1),
    reason: full ? text.slice(i3 + 1, i4) : '',
    inputs,
    decidedAt,
  };
  return decidedBy === undefined ? record : { ...record, decidedBy };
}
