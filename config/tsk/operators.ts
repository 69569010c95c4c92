// @operators: a call `@name(args)` must be the whole value; arguments are split on
// top-level commas and each is resolved with the value grammar, so calls nest (`@int(@env("X", 3))`).
// Core operators are evaluated synchronously; IO and exotic ones (@query, @file, @json, @go, ...)
// are never run: they stay literal text with a TSK_UNKNOWN_OPERATOR diagnostic.

import type { Ctx } from './context';
import { formatDate } from './date';
import { evalCondition, evalTernary, findTernary } from './expressions';
import { clip } from './lines';
import { textOf } from './model';
import { matchClose, isWordChar, quotedToken, splitTop, unescape } from './scan';
import { trimRange, type Span } from './source';
import type { TskValue } from './types';

/** IO_OPERATORS are documented operators that need IO or a runtime; the parser never evaluates them. */
const IO_OPERATORS = new Set([
  'query',
  'q',
  'file',
  'json',
  'request',
  'feature',
  'php',
  'shell',
  'import',
  'var',
  'peanut',
]);
const CROSS_FILE = /^([A-Za-z0-9_-]+)\.tsk\.(get|set)$/;
const TTL = /^\d+[smhd]?$/;
const SCALAR = /^(-?\d+(\.\d+)?|true|false|null)$/;

/** Call is a parsed `@name(args)` that spans the whole value. */
interface Call {
  name: string;
  args: Span[];
  whole: Span;
  literal: string;
}

/** callOperator evaluates `s` when it is one whole `@name(...)` call; otherwise returns undefined. */
export function callOperator(ctx: Ctx, s: Span, depth: number, path: string | null): TskValue | undefined {
  const call = parseCall(s);
  if (!call) return undefined;
  const pos = s.src.pos(s.a);
  const cross = CROSS_FILE.exec(call.name);
  if (cross) return crossFile(ctx, call, cross[1], cross[2] as 'get' | 'set', depth);
  const arg = (i: number, p: string | null = null) => ctx.resolve(call.args[i], depth + 1, p);
  switch (call.name) {
    case 'env':
      return opEnv(ctx, call, depth, path);
    case 'int':
    case 'float':
    case 'bool':
    case 'string':
      if (call.args.length !== 1) return bad(ctx, call, `@${call.name} takes exactly one argument`);
      return convert(ctx, call.name, arg(0), call);
    case 'if':
      return opIf(ctx, call, depth, path);
    case 'date':
      return opDate(ctx, call, depth);
    case 'cache': {
      if (call.args.length !== 2) return bad(ctx, call, '@cache takes ("ttl", value)');
      const ttl = textOf(arg(0)).trim();
      if (!TTL.test(ttl)) {
        ctx.diag.add(
          'TSK_BAD_ARGUMENTS',
          call.args[0].src.pos(call.args[0].a),
          `@cache ttl '${clip(ttl)}' is not seconds or \\d+[smhd]; value used anyway`,
        );
      }
      return arg(1, path);
    }
    case 'metrics':
    case 'learn':
    case 'optimize':
      return opHook(ctx, call, depth);
    case 'include':
      ctx.diag.add(
        'TSK_UNKNOWN_OPERATOR',
        pos,
        '@include is a statement: write @include("path") on its own line; kept as text',
      );
      return call.literal;
    default: {
      const why = IO_OPERATORS.has(call.name)
        ? 'is an IO operator the parser never evaluates'
        : 'is not a known operator';
      ctx.diag.add('TSK_UNKNOWN_OPERATOR', pos, `@${call.name} ${why}; kept as literal text`);
      ctx.opts.note({ kind: 'unknown-operator', name: call.name, path, pos });
      return call.literal;
    }
  }
}

/** parseCall recognises `@name(...)` (name may be dotted for @x.tsk.get) covering all of s. */
function parseCall(s: Span): Call | null {
  const t = s.src.text;
  let j = s.a + 1;
  while (j < s.b && (isWordChar(t[j]) || t[j] === '.' || t[j] === '-')) j++;
  if (j === s.a + 1 || t[j] !== '(' || matchClose(s.src.structure, j, s.b) !== s.b - 1) return null;
  const name = t.slice(s.a + 1, j);
  const [ia, ib] = trimRange(t, j + 1, s.b - 1);
  const args =
    ia >= ib
      ? []
      : splitTop(s.src.structure, ia, ib, ',').map(([x, y]) => {
          const [p, r] = trimRange(t, x, y);
          return { src: s.src, a: p, b: r };
        });
  return { name, args, whole: s, literal: t.slice(s.a, s.b) };
}

/** bad reports unusable arguments and keeps the call as literal text. */
function bad(ctx: Ctx, call: Call, message: string): string {
  ctx.diag.add(
    'TSK_BAD_ARGUMENTS',
    call.whole.src.pos(call.whole.a),
    `${message}; kept as literal text: ${clip(call.literal)}`,
  );
  return call.literal;
}

/** quotedArg returns the text of an argument that is one quoted string, or null. */
function quotedArg(ctx: Ctx, s: Span): string | null {
  const t = s.src.text;
  const tok = quotedToken(t, s.a, s.b);
  if (!tok) return null;
  return tok.q === '"' && !ctx.opts.compat ? unescape(t, tok.a, tok.b) : t.slice(tok.a, tok.b);
}

function opEnv(ctx: Ctx, call: Call, depth: number, path: string | null): TskValue {
  if (call.args.length < 1 || call.args.length > 2) return bad(ctx, call, '@env takes ("NAME") or ("NAME", default)');
  const name = quotedArg(ctx, call.args[0]);
  if (name === null || name === '') return bad(ctx, call, '@env needs a quoted variable name');
  const value = ctx.opts.env()[name];
  if (value !== undefined && value !== '') return value;
  if (call.args.length === 1) {
    if (value === undefined) ctx.opts.note({ kind: 'env-unset', name, path, pos: call.whole.src.pos(call.whole.a) });
    return '';
  }
  // the default is raw text with one layer of quotes removed; expressions are resolved
  const d = call.args[1];
  const quoted = quotedArg(ctx, d);
  if (quoted !== null) return quoted;
  const raw = d.src.text.slice(d.a, d.b);
  if (SCALAR.test(raw)) return raw;
  return textOf(ctx.resolve(d, depth + 1, null));
}

/** convert implements the pure conversions @int, @float, @bool and @string. */
function convert(ctx: Ctx, op: string, v: TskValue, call: Call): TskValue {
  if (op === 'string') return textOf(v);
  const fail = (): TskValue => {
    ctx.diag.add(
      'TSK_BAD_CONVERSION',
      call.whole.src.pos(call.whole.a),
      `@${op} cannot convert ${clip(JSON.stringify(v) ?? String(v))}; value kept unconverted`,
    );
    return v;
  };
  if (op === 'bool') {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    if (v === null) return false;
    if (typeof v !== 'string') return fail();
    const w = v.trim().toLowerCase();
    if (w === 'true' || w === '1' || w === 'yes' || w === 'on') return true;
    if (w === 'false' || w === '0' || w === 'no' || w === 'off' || w === '' || w === 'null') return false;
    fail();
    return false;
  }
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'boolean') n = v ? 1 : 0;
  else if (typeof v === 'string' && v.trim() !== '') n = Number(v.trim());
  else return fail();
  if (!Number.isFinite(n)) return fail();
  const out = op === 'int' ? Math.trunc(n) : n;
  return out === 0 ? 0 : out;
}

function opIf(ctx: Ctx, call: Call, depth: number, path: string | null): TskValue {
  if (call.args.length === 3) {
    const cond = evalCondition(ctx, call.args[0], depth + 1);
    return ctx.resolve(call.args[cond ? 1 : 2], depth + 1, path);
  }
  if (call.args.length === 1) {
    const s = call.args[0];
    const tern = findTernary(s.src.structure, s.a, s.b);
    if (tern) return evalTernary(ctx, s, tern, depth, path);
  }
  return bad(ctx, call, '@if takes (cond ? a : b) or (cond, a, b)');
}

function opDate(ctx: Ctx, call: Call, depth: number): TskValue {
  if (call.args.length < 1 || call.args.length > 2)
    return bad(ctx, call, '@date takes ("format") or ("format", unixSeconds)');
  const fmt = ctx.resolve(call.args[0], depth + 1, null);
  if (typeof fmt !== 'string') return bad(ctx, call, '@date needs a format string');
  let when = ctx.opts.now();
  if (call.args.length === 2) {
    const ts = ctx.resolve(call.args[1], depth + 1, null);
    const secs = typeof ts === 'number' ? ts : typeof ts === 'string' && /^-?\d+(\.\d+)?$/.test(ts) ? Number(ts) : NaN;
    if (!Number.isFinite(secs) || Math.abs(secs) > 8.64e12)
      return bad(ctx, call, '@date timestamp must be unix seconds');
    when = new Date(secs * 1000);
  }
  if (Number.isNaN(when.getTime())) return bad(ctx, call, '@date clock returned an invalid date');
  return formatDate(fmt, when);
}

function opHook(ctx: Ctx, call: Call, depth: number): TskValue {
  if (call.args.length < 1 || call.args.length > 2) return bad(ctx, call, `@${call.name} takes ("name", value)`);
  const name = textOf(ctx.resolve(call.args[0], depth + 1, null));
  const dflt = call.args.length === 2 ? ctx.resolve(call.args[1], depth + 1, null) : null;
  const hooks = ctx.opts.hooks;
  const hook = call.name === 'metrics' ? hooks.metrics : call.name === 'learn' ? hooks.learn : hooks.optimize;
  if (!hook) return dflt;
  const pos = call.whole.src.pos(call.whole.a);
  try {
    const out: unknown = hook.call(hooks, name, dflt);
    if (out === undefined) return dflt; // a void hook (e.g. one that only records a metric)
    if (typeof out === 'object' && out !== null && typeof (out as { then?: unknown }).then === 'function') {
      ctx.diag.add(
        'TSK_HOOK_FAILED',
        pos,
        `@${call.name} hook returned a Promise (hooks are synchronous); default used`,
      );
      return dflt;
    }
    return toTskValue(out);
  } catch (err) {
    ctx.diag.add(
      'TSK_HOOK_FAILED',
      pos,
      `@${call.name} hook threw: ${clip(err instanceof Error ? err.message : String(err), 120)}; default used`,
    );
    return dflt;
  }
}

/** toTskValue keeps a hook result JSON-shaped (functions, symbols, bigints, NaN become text/null). */
function toTskValue(v: unknown, depth = 0): TskValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (depth > 32 || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map((x) => toTskValue(x, depth + 1));
  const out: { [k: string]: TskValue } = {};
  for (const k of Object.keys(v))
    Object.defineProperty(out, k, {
      value: toTskValue((v as Record<string, unknown>)[k], depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

function crossFile(ctx: Ctx, call: Call, name: string, op: 'get' | 'set', depth: number): TskValue {
  const want = op === 'get' ? 1 : 2;
  if (call.args.length !== want)
    return bad(ctx, call, op === 'get' ? `@${name}.tsk.get takes ("key")` : `@${name}.tsk.set takes ("key", value)`);
  const key = ctx.resolve(call.args[0], depth + 1, null);
  if (typeof key !== 'string' || key === '') return bad(ctx, call, `@${name}.tsk.${op} needs a key string`);
  const pos = call.whole.src.pos(call.whole.a);
  if (op === 'get') return ctx.crossFile.get(name, key, ctx.dir, pos);
  return ctx.crossFile.set(name, key, ctx.resolve(call.args[1], depth + 1, null), ctx.dir, pos);
}
