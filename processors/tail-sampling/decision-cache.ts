// A bounded LRU of the recent decisions the sampling state does not hold (those of logs-only traces, which
// are not written to the ledger, and those taken while the ledger call failed), so late spans and logs
// follow them and explainDecision answers for them. Every other decision is in the state's local ledger.
// Entries are held as ONE flat string per trace (the record without its trace id, as a JSON array), not as
// a LedgerRecord with its inputs object and reason string: the cache holds tens of thousands of entries
// for a long time, and every major GC marks what it holds. `get` rebuilds an equal record on demand
// (numbers JSON cannot carry, such as Infinity, NaN and -0, are tagged so they come back unchanged).

import { LruTtlMap } from './lru';
import type { LedgerRecord } from './state/types';

type InputValue = LedgerRecord['inputs'][string];

/** A number JSON cannot carry exactly (non-finite, or -0), as `{ "n": String(value) }`. */
interface TaggedNumber {
  readonly n: string;
}

/** An input value that JSON would drop or turn into null (undefined), as `{ "u": 1 }`. */
interface TaggedUndefined {
  readonly u: 1;
}

type EncodedValue = string | number | boolean | null | TaggedNumber | TaggedUndefined;

/** Positions in the encoded array: decision flag, decidedAt, policy, reason, deciding replica (or null), then key/value pairs of inputs. */
const AT_DECISION = 0;
const AT_DECIDED_AT = 1;
const AT_POLICY = 2;
const AT_REASON = 3;
const AT_DECIDED_BY = 4;
const AT_INPUTS = 5;

function encodeValue(v: unknown): EncodedValue {
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { n: Object.is(v, -0) ? '-0' : String(v) };
  if (v === undefined) return { u: 1 };
  return v as EncodedValue;
}

function decodeValue(v: EncodedValue): InputValue {
  if (v !== null && typeof v === 'object') return ('n' in v ? Number(v.n) : undefined) as InputValue;
  return v as InputValue;
}

/** encodeCachedDecision renders a record (without its trace id) as one flat string; decodeCachedDecision inverts it. */
export function encodeCachedDecision(r: LedgerRecord): string {
  const parts: EncodedValue[] = [r.decision === 'sampled' ? 1 : 0, encodeValue(r.decidedAt), r.policy, r.reason, r.decidedBy ?? null];
  const inputs = r.inputs;
  for (const k in inputs) {
    if (!Object.prototype.hasOwnProperty.call(inputs, k)) continue;
    parts.push(k, encodeValue(inputs[k]));
  }
  return JSON.stringify(parts);
}

/** decodeCachedDecision rebuilds the record `encodeCachedDecision` encoded for `traceId`. */
export function decodeCachedDecision(traceId: string, text: string): LedgerRecord {
  const parts = JSON.parse(text) as EncodedValue[];
  const inputs: Record<string, InputValue> = {};
  for (let i = AT_INPUTS; i + 1 < parts.length; i += 2) {
    const key = parts[i] as string;
    const value = decodeValue(parts[i + 1]);
    // An own "__proto__" key (spread creates those) must stay a property, not become the prototype.
    if (key === '__proto__') Object.defineProperty(inputs, key, { value, enumerable: true, writable: true, configurable: true });
    else inputs[key] = value;
  }
  return {
    traceId,
    decision: parts[AT_DECISION] === 1 ? 'sampled' : 'not_sampled',
    policy: parts[AT_POLICY] as string,
    reason: parts[AT_REASON] as string,
    inputs,
    decidedAt: decodeValue(parts[AT_DECIDED_AT]) as number,
    ...(typeof parts[AT_DECIDED_BY] === 'string' ? { decidedBy: parts[AT_DECIDED_BY] } : {}),
  };
}

/** DecisionCache keeps the last `capacity` decisions (least recently used evicted first). */
export class DecisionCache {
  private readonly _map: LruTtlMap<string, string>;

  constructor(capacity: number) {
    this._map = new LruTtlMap(capacity);
  }

  get size(): number {
    return this._map.size;
  }

  /** get returns (a rebuilt copy of) a decision and marks it recently used. */
  get(traceId: string): LedgerRecord | undefined {
    const encoded = this._map.get(traceId);
    return encoded === undefined ? undefined : decodeCachedDecision(traceId, encoded);
  }

  /** set stores a decision, evicting the least recently used beyond capacity. */
  set(record: LedgerRecord): void {
    this._map.set(record.traceId, encodeCachedDecision(record));
  }
}
