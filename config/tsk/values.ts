// Value resolver: turns the text of one value into a TskValue. Order: quoted
// string, true/false/null, integer/float/range, [array]/{object} (recursive, with positions),
// $global, section-local bare reference, @operator call, ternary / concatenation, bare string.
// Multi-line `"""` strings and bracket continuation are handled per statement by the parser.

import { MAX_VALUE_DEPTH, type Ctx } from './context';
import { evalConcat, findTernary, evalTernary } from './expressions';
import { callOperator } from './operators';
import { clip } from './lines';
import { cloneLimited, setOwn } from './model';
import { interpolate, matchClose, opensQuote, quotedToken, skipQuote, splitTop, findTop, unescape } from './scan';
import { trimRange, type Span } from './source';
import type { TskObject, TskValue } from './types';

const INT = /^-?\d+$/;
const FLOAT = /^-?\d+\.\d+$/;
const RANGE = /^(\d+)-(\d+)$/;
const GLOBAL_REF = /^\$([A-Za-z_][\w-]*)$/;
const LOCAL_REF = /^[A-Za-z_]\w*$/;

/** resolveValue resolves the value grammar for the span; `path` (or null) receives positions of nested values. */
export function resolveValue(ctx: Ctx, span: Span, depth: number, path: string | null): TskValue {
  const { src } = span;
  const t = src.text;
  const [a, b] = trimRange(t, span.a, span.b);
  if (a >= b) return '';
  if (depth > MAX_VALUE_DEPTH) {
    ctx.diag.add('TSK_DEPTH_LIMIT', src.pos(a), `value nested deeper than ${MAX_VALUE_DEPTH} levels; kept as text`);
    return t.slice(a, b);
  }
  const s: Span = { src, a, b };

  // 3. one complete quoted string
  const str = quotedString(ctx, s);
  if (str !== null) return str;

  const v = t.slice(a, b);
  // 4. keywords
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'null') return null;

  // 5. numbers and ranges
  const c0 = t[a];
  if ((c0 >= '0' && c0 <= '9') || c0 === '-') {
    const num = numberLiteral(ctx, s, v);
    if (num !== undefined) return num;
  }

  // 6. arrays and inline objects
  if ((c0 === '[' || c0 === '{') && matchClose(src.structure, a, b) === b - 1) {
    return c0 === '[' ? parseArray(ctx, s, depth, path) : parseObject(ctx, s, depth, path);
  }

  // 7. $global
  if (c0 === '$') {
    const m = GLOBAL_REF.exec(v);
    if (m) return globalRef(ctx, m[1], s);
  }

  // 8. bare reference to a key defined earlier in this section
  if (ctx.locals !== null && LOCAL_REF.test(v)) {
    const local = ctx.locals.get(v);
    if (local !== undefined) return copyOf(ctx, local, s, v);
  }

  // 9. @operator(...) as the whole value
  if (c0 === '@') {
    const r = callOperator(ctx, s, depth, path);
    if (r !== undefined) return r;
  }

  // 10. expressions (ternary binds loosest, so its branches may be concatenations)
  const tern = findTernary(src.structure, a, b);
  if (tern) return evalTernary(ctx, s, tern, depth, path);
  const parts = splitTop(src.structure, a, b, ' + ');
  if (parts.length > 1) return evalConcat(ctx, s, parts, depth);

  // 11. bare string
  if (opensQuote(t, a) && !skipQuote(t, a, b).closed) {
    ctx.diag.add('TSK_UNTERMINATED_STRING', src.pos(a), `unterminated ${t[a]}-quoted string; kept as text: ${clip(v)}`);
  }
  if (ctx.opts.interpolate && !ctx.opts.compat) return interpolate(t, a, b, interpolator(ctx, s));
  return v;
}

/** quotedString returns the string of a value that is one complete quoted token, or null. */
export function quotedString(ctx: Ctx, s: Span): string | null {
  const t = s.src.text;
  if (ctx.opts.compat) {
    // reference behaviour: first and last characters are the same quote; no escapes
    const q = t[s.a];
    return (q === '"' || q === "'") && s.b - s.a >= 2 && t[s.b - 1] === q ? t.slice(s.a + 1, s.b - 1) : null;
  }
  const tok = quotedToken(t, s.a, s.b);
  if (!tok) return null;
  if (tok.q === "'") return t.slice(tok.a, tok.b);
  return unescape(t, tok.a, tok.b, ctx.opts.interpolate ? interpolator(ctx, s) : undefined);
}

function interpolator(ctx: Ctx, s: Span): (name: string, at: number) => string {
  return (name, at) => {
    const v = ctx.globals.get(name);
    if (v !== undefined) return typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
    ctx.diag.add('TSK_UNDEFINED_VARIABLE', s.src.pos(at), `undefined variable \${${name}}; using ""`);
    return '';
  };
}

/** numberLiteral parses an integer, float or range (the scalar table), or returns undefined. */
function numberLiteral(ctx: Ctx, s: Span, v: string): TskValue | undefined {
  const pos = () => s.src.pos(s.a);
  if (INT.test(v) || FLOAT.test(v)) {
    const n = Number(v);
    if (!Number.isFinite(n)) {
      ctx.diag.add('TSK_NUMBER_RANGE', pos(), `number too large to represent; kept as text: ${clip(v)}`);
      return v;
    }
    if (Number.isInteger(n) && !Number.isSafeInteger(n) && INT.test(v)) {
      ctx.diag.add(
        'TSK_NUMBER_RANGE',
        pos(),
        `integer ${clip(v)} is beyond 2^53 and loses precision; quote it to keep it exact`,
      );
    }
    return n === 0 ? 0 : n;
  }
  const m = RANGE.exec(v);
  if (m) {
    const min = Number(m[1]);
    const max = Number(m[2]);
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      ctx.diag.add('TSK_NUMBER_RANGE', pos(), `range bound too large; kept as text: ${clip(v)}`);
      return v;
    }
    return { min, max, type: 'range' };
  }
  return undefined;
}

function globalRef(ctx: Ctx, name: string, s: Span): TskValue {
  const v = ctx.globals.get(name);
  if (v !== undefined) return copyOf(ctx, v, s, `$${name}`);
  ctx.diag.add(
    'TSK_UNDEFINED_VARIABLE',
    s.src.pos(s.a),
    `undefined variable $${name} (globals must be defined above their use); using ""`,
  );
  return '';
}

/** copyOf copies a referenced value within the parse's copy budget (else "" and TSK_SIZE_LIMIT). */
function copyOf(ctx: Ctx, v: TskValue, s: Span, what: string): TskValue {
  const c = cloneLimited(v, ctx.copyBudget);
  if (c !== undefined) return c;
  ctx.diag.add(
    'TSK_SIZE_LIMIT',
    s.src.pos(s.a),
    `copying ${what} exceeds the parser's size or depth limit for references; using ""`,
  );
  return '';
}

/** elementRanges splits the inside of [..] / {..} on depth-0 commas, allowing one trailing comma. */
function elementRanges(ctx: Ctx, s: Span): Array<[number, number]> {
  const t = s.src.text;
  const [ia, ib] = trimRange(t, s.a + 1, s.b - 1);
  if (ia >= ib) return [];
  const raw = splitTop(s.src.structure, ia, ib, ',');
  const out: Array<[number, number]> = [];
  raw.forEach(([pa, pb], k) => {
    const [x, y] = trimRange(t, pa, pb);
    if (x < y) out.push([x, y]);
    else if (k !== raw.length - 1)
      ctx.diag.add('TSK_BAD_ELEMENT', s.src.pos(Math.min(pb, ib)), 'empty element (two commas in a row); skipped');
  });
  return out;
}

function parseArray(ctx: Ctx, s: Span, depth: number, path: string | null): TskValue[] {
  const out: TskValue[] = [];
  for (const [x, y] of elementRanges(ctx, s)) {
    const p = path === null ? null : `${path}[${out.length}]`;
    if (p !== null) ctx.positions.set(p, s.src.pos(x), path as string);
    out.push(ctx.resolve({ src: s.src, a: x, b: y }, depth + 1, p));
  }
  return out;
}

function parseObject(ctx: Ctx, s: Span, depth: number, path: string | null): TskObject {
  const t = s.src.text;
  const out: TskObject = {};
  for (const [x, y] of elementRanges(ctx, s)) {
    const sep = findTop(s.src.structure, x, y, (i) => t[i] === ':' || t[i] === '=');
    if (sep < 0) {
      ctx.diag.add('TSK_BAD_ELEMENT', s.src.pos(x), `object entry without ':' or '=': ${clip(t.slice(x, y))}; skipped`);
      continue;
    }
    const [ka, kb] = trimRange(t, x, sep);
    const key = objectKey(ctx, { src: s.src, a: ka, b: kb });
    if (key === '') {
      ctx.diag.add('TSK_BAD_ELEMENT', s.src.pos(x), 'object entry without a key; skipped');
      continue;
    }
    const [va, vb] = trimRange(t, sep + 1, y);
    if (va >= vb) {
      ctx.diag.add('TSK_EMPTY_VALUE', s.src.pos(ka), `object entry '${clip(key)}' has no value; skipped`);
      continue;
    }
    const p = path === null ? null : `${path}.${key}`;
    if (p !== null) {
      const prev = Object.prototype.hasOwnProperty.call(out, key) ? out[key] : undefined;
      if (typeof prev === 'object' && prev !== null) ctx.positions.clearBelow(p);
      ctx.positions.set(p, s.src.pos(ka), path as string);
    }
    setOwn(out, key, ctx.resolve({ src: s.src, a: va, b: vb }, depth + 1, p));
  }
  return out;
}

/** objectKey removes one layer of matching quotes from an inline-object key. */
function objectKey(ctx: Ctx, s: Span): string {
  const t = s.src.text;
  const str = quotedString({ ...ctx, opts: { ...ctx.opts, interpolate: false } }, s);
  return str ?? t.slice(s.a, s.b);
}
