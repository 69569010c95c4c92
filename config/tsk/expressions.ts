// Expressions: `cond ? a : b` and `a + b + c` text concatenation, recognised only
// outside quotes and brackets. Conditions support == != > < >= <= (numeric when both sides are
// numbers, text otherwise) or a bare truthiness test. `+` is never arithmetic.

import { MAX_VALUE_DEPTH, type Ctx } from './context';
import { isTruthy, textOf } from './model';
import { findTop, type Structure } from './scan';
import { trimRange, type Span } from './source';
import type { TskValue } from './types';

/** Ternary holds the indexes of `?` and `:` of a top-level ternary. */
export interface Ternary {
  q: number;
  c: number;
}

/** findTernary finds a top-level `cond ? a : b` in [a, b) with all three parts non-empty. */
export function findTernary(st: Structure, a: number, b: number): Ternary | null {
  const t = st.t;
  const q = findTop(st, a, b, (i) => t[i] === '?');
  if (q < 0) return null;
  const c = findTop(st, q + 1, b, (i) => t[i] === ':');
  if (c < 0) return null;
  const nonEmpty = (x: number, y: number) => {
    const [p, r] = trimRange(t, x, y);
    return p < r;
  };
  return nonEmpty(a, q) && nonEmpty(q + 1, c) && nonEmpty(c + 1, b) ? { q, c } : null;
}

/** evalTernary evaluates the condition and resolves only the chosen branch (as a value, at `path`). */
export function evalTernary(ctx: Ctx, s: Span, tern: Ternary, depth: number, path: string | null): TskValue {
  const cond = evalCondition(ctx, { src: s.src, a: s.a, b: tern.q }, depth + 1);
  const branch: Span = cond ? { src: s.src, a: tern.q + 1, b: tern.c } : { src: s.src, a: tern.c + 1, b: s.b };
  return ctx.resolve(branch, depth + 1, path);
}

/** evalConcat resolves each ` + ` part and joins their text forms exactly. */
export function evalConcat(ctx: Ctx, s: Span, parts: Array<[number, number]>, depth: number): string {
  let out = '';
  for (const [x, y] of parts) out += textOf(ctx.resolve({ src: s.src, a: x, b: y }, depth + 1, null));
  return out;
}

const OPS = ['==', '!=', '>=', '<=', '>', '<'] as const;
type Op = (typeof OPS)[number];

/** opAt returns the comparison operator starting at t[i], if any. */
function opAt(t: string, i: number): Op | null {
  for (const op of OPS) if (t.startsWith(op, i)) return op;
  return null;
}

/** evalCondition evaluates `left OP right` or the truthiness of one value. */
export function evalCondition(ctx: Ctx, s: Span, depth: number): boolean {
  const t = s.src.text;
  const [a, b] = trimRange(t, s.a, s.b);
  if (depth > MAX_VALUE_DEPTH) {
    ctx.diag.add(
      'TSK_DEPTH_LIMIT',
      s.src.pos(a),
      `condition nested deeper than ${MAX_VALUE_DEPTH} levels; treated as false`,
    );
    return false;
  }
  const st = s.src.structure;
  const logic = findTop(
    st,
    a,
    b,
    (i) => t.startsWith('&&', i) || t.startsWith('||', i) || (t[i] === '!' && t[i + 1] !== '='),
  );
  if (logic >= 0) {
    ctx.diag.add(
      'TSK_UNSUPPORTED_EXPRESSION',
      s.src.pos(logic),
      `'${t.slice(logic, logic + (t[logic] === '!' ? 1 : 2))}' is not supported in conditions (only == != > < >= <=)`,
    );
  }
  const at = findTop(st, a, b, (i) => opAt(t, i) !== null);
  if (at < 0) return isTruthy(ctx.resolve({ src: s.src, a, b }, depth + 1, null));
  const op = opAt(t, at) as Op;
  const left = ctx.resolve({ src: s.src, a, b: at }, depth + 1, null);
  const right = ctx.resolve({ src: s.src, a: at + op.length, b }, depth + 1, null);
  return compare(left, right, op);
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

function asNumber(v: TskValue): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v);
  return null;
}

/** compare applies op numerically when both sides are numbers (or numeric text), else to the text forms. */
export function compare(left: TskValue, right: TskValue, op: Op): boolean {
  const x = asNumber(left);
  const y = asNumber(right);
  const numeric = x !== null && y !== null;
  const l: number | string = numeric ? (x as number) : textOf(left);
  const r: number | string = numeric ? (y as number) : textOf(right);
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
  }
}
