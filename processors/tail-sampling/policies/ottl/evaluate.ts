// Evaluates parsed OTTL conditions (parser.ts) against a span or one of its events, with OTTL's comparison
// rules: values of different types are never equal (== false, != true, ordering false); nil equals only
// nil; strings order lexicographically; ints (int64) and floats compare numerically; booleans only by
// == and !=. Math on a non-number is a run-time error (OttlEvalError), handled by the policy's error_mode.

import type { AttributeValue, SpanSummary } from '../types';
import type { BoolExpr, CmpOp, Field, ValueExpr } from './parser';

/** OttlValue is a value during evaluation: ints are bigint (int64), floats number, nil null. */
export type OttlValue = string | number | bigint | boolean | null;

/** OttlEvalError is a run-time failure of a condition (e.g. math on a string attribute). */
export class OttlEvalError extends Error {
  readonly code = 'ERR_OTTL_EVAL';
  constructor(message: string) {
    super(message);
    this.name = 'OttlEvalError';
  }
}

/** OttlEvent is the span event a spanevent condition looks at. */
export interface OttlEvent {
  readonly name: string;
  readonly timeUs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** OttlTarget is what a condition reads: the span, and for spanevent conditions the event. */
export interface OttlTarget {
  readonly span: SpanSummary;
  readonly event?: OttlEvent;
}

function fromAttr(v: AttributeValue | undefined): OttlValue {
  if (v === undefined) return null;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return v;
}

/**
 * spanAttribute reads a span's own attribute. The index holds resource attributes overridden by the span's
 * for the keys policies name: a key absent there is absent on the span too (no decoding); a key present is
 * checked against the span's own attributes (decoded once per span, only then).
 */
function spanAttribute(span: SpanSummary, key: string): OttlValue {
  const merged = span.attributes?.[key];
  if (merged === undefined) return null;
  if (span.details === undefined) return fromAttr(merged);
  return fromAttr(span.details.attributes[key]);
}

function readField(f: Field, target: OttlTarget): OttlValue {
  const span = target.span;
  if (f.of === 'event') {
    const ev = target.event;
    if (ev === undefined) return null;
    if (f.kind === 'attributes') return fromAttr(ev.attributes[f.key]);
    return f.kind === 'name' ? ev.name : BigInt(ev.timeUs) * 1000n;
  }
  if (f.kind === 'attributes') {
    // Resource attributes: the index's value (the span's own value wins when both have the key).
    return f.of === 'resource' ? fromAttr(span.attributes?.[f.key]) : spanAttribute(span, f.key);
  }
  switch (f.kind) {
    case 'name':
      return span.name;
    case 'kind':
      return BigInt(span.kind);
    case 'status.code':
      return BigInt(span.statusCode);
    case 'start_time_unix_nano':
      return BigInt(span.startUs) * 1000n;
    case 'end_time_unix_nano':
      return BigInt(span.endUs) * 1000n;
    case 'trace_state':
      return span.traceState;
  }
}

function isNum(v: OttlValue): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

function math(op: '+' | '-' | '*' | '/', a: OttlValue, b: OttlValue, text: string): OttlValue {
  if (!isNum(a) || !isNum(b)) throw new OttlEvalError(`${text}: math needs numbers, got ${typeOf(a)} and ${typeOf(b)}`);
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (op === '/' && b === 0n) throw new OttlEvalError(`${text}: division by zero`);
    return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
  }
  const x = Number(a);
  const y = Number(b);
  return op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
}

function typeOf(v: OttlValue): string {
  return v === null ? 'nil' : typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v;
}

/** value evaluates a value expression. */
export function value(e: ValueExpr, target: OttlTarget): OttlValue {
  switch (e.t) {
    case 'lit':
      return e.value;
    case 'path':
      return readField(e.field, target);
    case 'neg': {
      const v = value(e.expr, target);
      if (typeof v === 'bigint') return -v;
      if (typeof v === 'number') return -v;
      throw new OttlEvalError(`cannot negate ${typeOf(v)}`);
    }
    case 'math':
      return math(e.op, value(e.left, target), value(e.right, target), `column ${e.col}`);
    case 'call':
      return isMatch(e.regex, value(e.target, target));
  }
}

function isMatch(re: RegExp, v: OttlValue): boolean {
  if (v === null) return false;
  const s = typeof v === 'string' ? v : String(v);
  return re.test(s);
}

/** compare applies OTTL's comparison rules. */
export function compareOttl(op: CmpOp, a: OttlValue, b: OttlValue): boolean {
  let c: number | undefined; // -1, 0, 1 when comparable
  if (a === null || b === null) c = a === b ? 0 : undefined;
  else if (isNum(a) && isNum(b)) {
    if (typeof a === 'bigint' && typeof b === 'bigint') c = a < b ? -1 : a > b ? 1 : 0;
    else c = Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : Number(a) === Number(b) ? 0 : undefined;
  } else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'boolean' && typeof b === 'boolean') {
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    return false;
  }
  if (c === undefined) return op === '!=';
  if (a === null || b === null) return op === '==' ? c === 0 : op === '!=' ? c !== 0 : false;
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/** test evaluates a condition; throws OttlEvalError on a run-time failure. */
export function test(e: BoolExpr, target: OttlTarget): boolean {
  switch (e.t) {
    case 'or':
      return e.items.some((x) => test(x, target));
    case 'and':
      return e.items.every((x) => test(x, target));
    case 'not':
      return !test(e.expr, target);
    case 'const':
      return e.value;
    case 'cmp':
      return compareOttl(e.op, value(e.left, target), value(e.right, target));
    case 'call':
      return isMatch(e.regex, value(e.target, target));
  }
}
