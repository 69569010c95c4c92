// The one codec of a decision record (LedgerRecord): the value stored in the Redis ledger and the entry of
// the local store of recent decisions (decision-cache.ts). A compact separator-joined string without the
// trace id (the hash field / map key), versioned so that fields can be added without breaking replicas
// that run the previous version. Layout, compatibility rules and sizes: state/README.md, "Ledger record".

import { PipelineError } from '../../../pipeline/sdk/errors';
import { parseThreshold, thresholdAdjustedCount } from '../../../pipeline/sdk/otlp/index';
import { FINGERPRINT_POLICY, INPUT_ADJUSTED_COUNT, INPUT_SAMPLING_THRESHOLD, type LedgerRecord } from './types';

/**
 * LEDGER_FORMAT_VERSION is the newest record layout this code reads and writes. A record says its version
 * in a `v<n>` item of the shared field; a record without one is version 1, so version 1 costs no byte.
 * Additive changes (a new tagged item, which older readers skip) keep the version; a change that older
 * readers would misread bumps it, and readers reject versions above their own instead of misreading them.
 */
export const LEDGER_FORMAT_VERSION = 1;

/** ERR_LEDGER_RECORD is the code of LedgerRecordError. */
export const ERR_LEDGER_RECORD = 'ERR_LEDGER_RECORD';

/** Why a value is not a record this code can read: not one at all / damaged, or written by a newer layout. */
export type LedgerRecordProblem = 'malformed' | 'unsupported_version';

/** LedgerRecordError says why a ledger value could not be decoded (handed to decodeDecision's `onError`). */
export class LedgerRecordError extends PipelineError {
  constructor(
    readonly problem: LedgerRecordProblem,
    readonly traceId: string,
    detail: string,
  ) {
    super(ERR_LEDGER_RECORD, `ledger record of trace ${traceId}: ${detail}`, { retriable: false });
    this.name = 'LedgerRecordError';
  }
}

/** Separator of the fields of a record (JSON escapes it, so it never occurs inside `inputs`). */
const SEP = '\x1f';
/** Escape character of the policy field: `\x1e0` stands for itself, `\x1e1` for SEP. */
const ESC = '\x1e';
/** Separator of the items of the shared field (replica ids are base64url and thresholds hex: neither has it). */
const ITEM_SEP = ',';
/** Tags of the shared field's items. Unknown tags are skipped, so items can be added without breaking readers. */
const TAG_REPLICA = 'r';
const TAG_THRESHOLD = 't';
const TAG_VERSION = 'v';
/** `f<window ms, base 36>`: the shared ledger holds only a fingerprint (LedgerRecord.fingerprintOnly); local only. */
const TAG_FINGERPRINT = 'f';
const CODE_S = 115; // 's'
const CODE_N = 110; // 'n'

type InputValue = LedgerRecord['inputs'][string];

/** Whether JSON.stringify would change or drop an input value. */
function needsTag(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)));
}

/** JSON.stringify replacer that tags the inputs JSON cannot carry. */
function tagInput(this: unknown, key: string, v: unknown): unknown {
  if (key === '' || !needsTag(v)) return v;
  if (v === undefined) return { u: 1 };
  return { n: Object.is(v, -0) ? '-0' : String(v) };
}

function escapePolicy(policy: string): string {
  if (policy.indexOf(SEP) < 0 && policy.indexOf(ESC) < 0) return policy;
  return policy.replaceAll(ESC, `${ESC}0`).replaceAll(SEP, `${ESC}1`);
}

function unescapePolicy(field: string): string | undefined {
  if (field.indexOf(ESC) < 0) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c !== ESC) {
      out += c;
      continue;
    }
    const e = field[++i];
    if (e === '0') out += ESC;
    else if (e === '1') out += SEP;
    else return undefined;
  }
  return out;
}

/**
 * encodeDecision renders a record without its trace id:
 * `<s|n><policy>␟<decidedAt, base-36 ms>␟<shared>␟<reason>␟<inputs as JSON, empty when none>`, where `shared`
 * holds comma-separated tagged items: `r<replica id>` (the replica that decided, `decidedBy`) and, for a
 * decision kept by a probability, `t<sampling threshold>` (the tracestate `th` hex; the adjusted count
 * follows from it). This full form is the local store's entry; Redis stores its `shortDecision` head.
 * `decidedAt` is kept to the whole millisecond (a non-finite time is written as 0). Inputs that JSON cannot
 * carry (Infinity, NaN, -0, undefined) are tagged and come back unchanged.
 */
export function encodeDecision(r: LedgerRecord, decidedBy = r.decidedBy): string {
  const values = r.inputs;
  let some = false;
  let tagged = false;
  for (const k in values) {
    some = true;
    if (needsTag(values[k])) {
      tagged = true;
      break;
    }
  }
  const inputs = !some ? '' : tagged ? JSON.stringify(values, tagInput) : JSON.stringify(values);
  // Joined, not concatenated: a concatenation is a rope of its parts (~280 B more per entry until it is first
  // read and flattened), and most entries of the local store are never read.
  return [decisionHead(r, decidedBy), r.reason, SEP, inputs].join('');
}

/** sharedField is the shared field of an encoded decision: replica, sampling threshold, fingerprint window. */
function sharedField(r: LedgerRecord, decidedBy: string | undefined): string {
  let shared = decidedBy === undefined ? '' : TAG_REPLICA + decidedBy;
  const threshold = r.inputs[INPUT_SAMPLING_THRESHOLD];
  if (r.decision === 'sampled' && typeof threshold === 'string' && parseThreshold(threshold) !== undefined) {
    shared += (shared === '' ? '' : ITEM_SEP) + TAG_THRESHOLD + threshold;
  }
  if (r.fingerprintOnly !== undefined) {
    shared +=
      (shared === '' ? '' : ITEM_SEP) +
      TAG_FINGERPRINT +
      Math.max(0, Math.round(r.fingerprintOnly.windowMs)).toString(36);
  }
  return shared;
}

/**
 * decisionHead is `shortDecision(encodeDecision(r, decidedBy))` without the reason and the inputs (no JSON):
 * what a decision that keeps no full record needs.
 */
export function decisionHead(r: LedgerRecord, decidedBy = r.decidedBy): string {
  const at = Number.isFinite(r.decidedAt) ? Math.round(r.decidedAt) : 0;
  const d = r.decision === 'sampled' ? 's' : 'n';
  return [d, escapePolicy(r.policy), SEP, at.toString(36), SEP, sharedField(r, decidedBy), SEP].join('');
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
 * readers of the layout before `shared` existed, `<s|n><policy>␟<decidedAt>`, read `shared` as the reason
 * and still follow the decision during a rolling upgrade.)
 */
export function shortDecision(text: string): string {
  const i1 = text.indexOf(SEP);
  const i2 = i1 < 0 ? -1 : text.indexOf(SEP, i1 + 1);
  const i3 = i2 < 0 ? -1 : text.indexOf(SEP, i2 + 1);
  return i3 < 0 ? text : text.slice(0, i3 + 1);
}

/**
 * fingerprintOnlyDecision is the local entry of a dropped trace whose full record is not kept (not in the sample
 * of dropped traces): `shortDecision` plus the item `f0`: decision, policy, exact time and replica, no reason nor
 * inputs (~30 bytes instead of ~300). The shared ledger holds only the trace id's fingerprint.
 */
export function fingerprintOnlyDecision(text: string): string {
  const short = shortDecision(text);
  const i3 = short.length - 1;
  const i2 = short.lastIndexOf(SEP, i3 - 1);
  if (i3 < 0 || short[i3] !== SEP || i2 < 0) return short;
  // Joined: a new flat string. Slices and concatenations would keep the full entry alive behind them.
  return [short.slice(0, i3), i3 === i2 + 1 ? '' : ITEM_SEP, TAG_FINGERPRINT, '0', SEP].join('');
}

/**
 * fingerprintDecision is the local entry of a decision read from a fingerprint in the shared ledger: not
 * sampled, policy FINGERPRINT_POLICY, `decidedAt` = the start of the bucket the fingerprint is in, `windowMs`
 * its width (the decision was taken in [bucketStart, bucketStart + windowMs)).
 */
export function fingerprintDecision(bucketStart: number, windowMs: number): string {
  const shared = TAG_FINGERPRINT + Math.max(0, Math.round(windowMs)).toString(36);
  return ['n', FINGERPRINT_POLICY, SEP, Math.round(bucketStart).toString(36), SEP, shared, SEP].join('');
}

/** reject reports a value that is not a readable record to `onError` (if any) and returns undefined. */
function reject(
  onError: ((err: LedgerRecordError) => void) | undefined,
  problem: LedgerRecordProblem,
  traceId: string,
  detail: string,
): undefined {
  onError?.(new LedgerRecordError(problem, traceId, detail));
  return undefined;
}

/** decodeInputs parses the inputs JSON of a full record; undefined when it is not an object of inputs. */
function decodeInputs(json: string): Record<string, InputValue> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const inputs = v as Record<string, unknown>;
  for (const k of Object.keys(inputs)) {
    const x = inputs[k];
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') continue;
    if (typeof x !== 'object' || x === null) return undefined;
    const tag = x as Partial<Record<'n' | 'u', unknown>>;
    let value: unknown;
    if (typeof tag.n === 'string') value = Number(tag.n);
    else if (tag.u !== 1) return undefined;
    // Defined, not assigned: an own "__proto__" key must stay a property, not become the prototype.
    Object.defineProperty(inputs, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return inputs as Record<string, InputValue>;
}

/**
 * decodeDecision parses an `encodeDecision` or `shortDecision` value for `traceId`, and the short form of the
 * layout before `shared` existed (`<s|n><policy>␟<decidedAt>`). A value that is not such a record (damaged,
 * foreign, or of a layout newer than LEDGER_FORMAT_VERSION) gives undefined and a LedgerRecordError to
 * `onError`; it never throws.
 */
export function decodeDecision(
  traceId: string,
  text: string,
  onError?: (err: LedgerRecordError) => void,
): LedgerRecord | undefined {
  const d = text.charCodeAt(0);
  if (d !== CODE_S && d !== CODE_N) {
    return reject(onError, 'malformed', traceId, 'not a decision (does not start with s or n)');
  }
  const i1 = text.indexOf(SEP);
  if (i1 < 0) return reject(onError, 'malformed', traceId, 'no decision time');
  const i2 = text.indexOf(SEP, i1 + 1);
  const i3 = i2 < 0 ? -1 : text.indexOf(SEP, i2 + 1);
  if (i2 >= 0 && i3 < 0) return reject(onError, 'malformed', traceId, 'truncated (shared items without their end)');
  const i4 = text.lastIndexOf(SEP);
  const full = i3 >= 0 && i4 > i3;
  if (i3 >= 0 && !full && i3 !== text.length - 1) return reject(onError, 'malformed', traceId, 'reason without inputs');
  const time = i2 < 0 ? text.slice(i1 + 1) : text.slice(i1 + 1, i2);
  const decidedAt = /^-?[0-9a-z]+$/.test(time) ? parseInt(time, 36) : NaN;
  if (!Number.isSafeInteger(decidedAt)) {
    return reject(onError, 'malformed', traceId, `decision time "${time}" is not a base-36 integer`);
  }
  const policy = unescapePolicy(text.slice(1, i1));
  if (policy === undefined) return reject(onError, 'malformed', traceId, 'bad escape in the policy name');
  let decidedBy: string | undefined;
  let threshold: string | undefined;
  let windowMs: number | undefined;
  if (i3 >= 0) {
    for (const item of text.slice(i2 + 1, i3).split(ITEM_SEP)) {
      if (item.length < 2) continue;
      const tag = item[0];
      if (tag === TAG_REPLICA) decidedBy = item.slice(1);
      else if (tag === TAG_THRESHOLD) threshold = item.slice(1);
      else if (tag === TAG_FINGERPRINT) {
        const w = /^[0-9a-z]+$/.test(item.slice(1)) ? parseInt(item.slice(1), 36) : NaN;
        if (Number.isSafeInteger(w)) windowMs = w;
      } else if (tag === TAG_VERSION) {
        const version = Number(item.slice(1));
        if (!(version <= LEDGER_FORMAT_VERSION)) {
          const detail = `layout v${item.slice(1)} is newer than v${LEDGER_FORMAT_VERSION}`;
          return reject(onError, 'unsupported_version', traceId, detail);
        }
      }
    }
  }
  let inputs: Record<string, InputValue> = {};
  if (full) {
    if (i4 + 1 < text.length) {
      const parsed = decodeInputs(text.slice(i4 + 1));
      if (parsed === undefined) return reject(onError, 'malformed', traceId, 'inputs are not a JSON object of inputs');
      inputs = parsed;
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
    decision: d === CODE_S ? 'sampled' : 'not_sampled',
    policy,
    reason: full ? text.slice(i3 + 1, i4) : '',
    inputs,
    decidedAt,
  };
  const withBy = decidedBy === undefined ? record : { ...record, decidedBy };
  return windowMs === undefined ? withBy : { ...withBy, fingerprintOnly: { windowMs } };
}
