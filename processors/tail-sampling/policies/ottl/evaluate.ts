// Evaluates parsed OTTL conditions (parser.ts) against a span or one of its events, with OTTL's comparison
// rules: values of different types are never equal (== false, != true, ordering false); nil equals only
// nil (nil == nil, <= and >= hold too); strings order lexicographically; ints (int64) and floats compare
// numerically; false < true; ids by == and != (bytes literals byte-wise). Math on a
// non-number, or a converter's failure, is a run-time error (OttlEvalError), handled by error_mode.

import type { AttributeValue, SpanSummary } from '../types';
import type { ArgExpr, BoolExpr, CallExpr, CmpOp, Field, ValueExpr } from './parser';
import type { FnArg } from './functions';
import { OttlBytes, OttlEvalError, type OttlTarget, type OttlValue } from './values';

export { OttlEvalError, OttlTypeError } from './values';
export type { OttlEvent, OttlTarget, OttlValue } from './values';

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
    case 'trace_id':
    case 'span_id':
    case 'parent_span_id': {
      const hex = f.kind === 'trace_id' ? span.traceId : f.kind === 'span_id' ? span.spanId : span.parentSpanId;
      if (f.string) return hex;
      return new OttlBytes(hex === '' ? '0000000000000000' : hex, true);
    }
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
  if (v === null) return 'nil';
  if (v instanceof OttlBytes) return 'bytes';
  return typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v;
}

function arg(a: ArgExpr, target: OttlTarget): FnArg {
  if (a.t === 'pattern') return a.regex;
  if (a.t === 'list') return a.items.map((x) => value(x, target));
  return value(a, target);
}

function call(e: CallExpr, target: OttlTarget): OttlValue {
  return e.fn.call(
    e.args.map((a) => arg(a, target)),
    target,
    e.name,
  );
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
      return call(e, target);
  }
}

function compareBytes(op: CmpOp, a: OttlBytes, b: OttlValue): boolean {
  if (!(b instanceof OttlBytes) || a.id !== b.id) return op === '!=';
  const c = a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0;
  if (a.id && op !== '==' && op !== '!=') return false;
  return ordered(op, c);
}

function ordered(op: CmpOp, c: number): boolean {
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

/** compare applies OTTL's comparison rules. */
export function compareOttl(op: CmpOp, a: OttlValue, b: OttlValue): boolean {
  if (a === null && b === null) return op === '==' || op === '<=' || op === '>=';
  if (a === null || b === null) return op === '!=';
  if (a instanceof OttlBytes) return compareBytes(op, a, b);
  if (b instanceof OttlBytes) return op === '!=';
  let c: number | undefined; // -1, 0, 1 when comparable
  if (isNum(a) && isNum(b)) {
    if (typeof a === 'bigint' && typeof b === 'bigint') c = a < b ? -1 : a > b ? 1 : 0;
    else c = Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : Number(a) === Number(b) ? 0 : undefined;
  } else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'boolean' && typeof b === 'boolean') c = Number(a) - Number(b); // false < true
  if (c === undefined) return op === '!=';
  return ordered(op, c);
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
    case 'call': {
      const v = call(e, target);
      if (typeof v !== 'boolean') throw new OttlEvalError(`${e.name} did not return a boolean`);
      return v;
    }
  }
}
