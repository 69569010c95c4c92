// OTTL condition parser: a hand-written lexer and recursive-descent parser for the boolean conditions the
// OpenTelemetry Collector's `ottl_condition` policy takes (span and spanevent contexts). Every error names
// the 1-based column of the condition it concerns. The grammar (OTTL's, restricted to what sampling needs):
//
//   condition  := orExpr EOF
//   orExpr     := andExpr ("or" andExpr)*
//   andExpr    := notExpr ("and" notExpr)*
//   notExpr    := "not" notExpr | boolValue
//   boolValue  := "(" orExpr ")" | "true" | "false" | call | value CMP value
//   value      := term (("+" | "-") term)*
//   term       := factor (("*" | "/") factor)*
//   factor     := literal | BYTES | ENUM | path | call | "(" value ")" | "-" factor
//   path       := IDENT ("." IDENT)* ("[" STRING "]")?
//   call       := FUNC "(" (arg ("," arg)*)? ")"               (the converters of functions.ts)
//   arg        := value | "[" (value ("," value)*)? "]"        (a list: Concat's values)
//   CMP        := "==" | "!=" | "<" | "<=" | ">" | ">="

import { FUNCTIONS, unknownFunction, type ArgKind, type OttlFunction } from './functions';
import { OttlBytes } from './values';

/** OttlContext is the OTTL context a condition is evaluated in. */
export type OttlContext = 'span' | 'spanevent';

/** OttlParseError is a malformed condition: `column` is 1-based within the condition text. */
export class OttlParseError extends Error {
  readonly code = 'ERR_OTTL_PARSE';
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`column ${column}: ${message}`);
    this.name = 'OttlParseError';
  }
}

/** Field is a resolved path: what of the span or event it reads. */
export type Field =
  | {
      kind: 'name' | 'kind' | 'status.code' | 'start_time_unix_nano' | 'end_time_unix_nano' | 'trace_state';
      of: 'span';
    }
  | { kind: 'attributes'; of: 'span' | 'event' | 'resource'; key: string }
  | { kind: 'trace_id' | 'span_id' | 'parent_span_id'; of: 'span'; string: boolean }
  | { kind: 'name' | 'time_unix_nano'; of: 'event' };

/** ValueExpr is an expression that yields a value. */
export type ValueExpr =
  | { t: 'lit'; value: string | number | bigint | boolean | null | OttlBytes; col: number }
  | { t: 'path'; field: Field; text: string; col: number }
  | { t: 'math'; op: '+' | '-' | '*' | '/'; left: ValueExpr; right: ValueExpr; col: number }
  | { t: 'neg'; expr: ValueExpr; col: number }
  | CallExpr;

/** ArgExpr is a call argument: a value, a list literal, or a compiled pattern (a string literal). */
export type ArgExpr = ValueExpr | { t: 'list'; items: ValueExpr[] } | { t: 'pattern'; regex: RegExp };

/** CallExpr is a converter call (functions.ts). */
export interface CallExpr {
  t: 'call';
  name: string;
  fn: OttlFunction;
  args: ArgExpr[];
  col: number;
}

/** CmpOp is a comparison operator. */
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** BoolExpr is a condition. */
export type BoolExpr =
  | { t: 'or' | 'and'; items: BoolExpr[] }
  | { t: 'not'; expr: BoolExpr }
  | { t: 'const'; value: boolean }
  | { t: 'cmp'; op: CmpOp; left: ValueExpr; right: ValueExpr; col: number }
  | CallExpr;

type TokKind = 'ident' | 'string' | 'int' | 'float' | 'bytes' | 'op' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  /** Decoded value of a string literal. */
  value?: string;
  /** 0-based offset in the condition. */
  pos: number;
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '(', ')', '[', ']', ',', '.'];

/** lex splits a condition into tokens; throws OttlParseError on a character no token starts with. */
function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
    } else if (/^0x[0-9a-fA-F]/.test(src.slice(i, i + 3))) {
      const m = /^0x[0-9a-fA-F]*/.exec(src.slice(i)) as RegExpExecArray;
      if (m[0].length % 2 !== 0) throw new OttlParseError('a bytes literal needs an even number of hex digits', i + 1);
      out.push({ kind: 'bytes', text: m[0], pos: i });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i)) as RegExpExecArray;
      out.push({ kind: m[1] !== undefined || m[2] !== undefined ? 'float' : 'int', text: m[0], pos: i });
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= src.length) throw new OttlParseError('string literal is not closed (missing ")', i + 1);
        const d = src[j];
        if (d === '"') break;
        if (d === '\\') {
          const e = src[j + 1];
          const esc: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };
          if (e === undefined || esc[e] === undefined) {
            throw new OttlParseError(`unknown escape \\${e ?? ''} in string`, j + 1);
          }
          value += esc[e];
          j += 2;
        } else {
          value += d;
          j++;
        }
      }
      out.push({ kind: 'string', text: src.slice(i, j + 1), value, pos: i });
      i = j + 1;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (op === undefined) throw new OttlParseError(`unexpected character ${JSON.stringify(c)}`, i + 1);
      out.push({ kind: 'op', text: op, pos: i });
      i += op.length;
    }
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

const ENUMS: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};
const CMP_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'nil']);

/** describeToken renders a token for an error message. */
function describe(t: Token): string {
  return t.kind === 'eof' ? 'the end of the condition' : `"${t.text}"`;
}

/** Parser is one parse of one condition (single use). */
class Parser {
  private _i = 0;
  constructor(
    private readonly _toks: Token[],
    private readonly _ctx: OttlContext,
  ) {}

  private get _tok(): Token {
    return this._toks[this._i];
  }

  private _fail(message: string, t: Token = this._tok): never {
    throw new OttlParseError(message, t.pos + 1);
  }

  private _isOp(text: string): boolean {
    return this._tok.kind === 'op' && this._tok.text === text;
  }

  private _isWord(text: string): boolean {
    return this._tok.kind === 'ident' && this._tok.text === text;
  }

  private _expectOp(text: string, what: string): Token {
    if (!this._isOp(text)) this._fail(`expected "${text}" ${what}, found ${describe(this._tok)}`);
    return this._toks[this._i++];
  }

  parseCondition(): BoolExpr {
    if (this._tok.kind === 'eof') this._fail('the condition is empty');
    const e = this._or();
    if (this._toks[this._i].kind !== 'eof') {
      this._fail(`unexpected ${describe(this._tok)} after a complete condition (missing "and" / "or"?)`);
    }
    return e;
  }

  private _or(): BoolExpr {
    const items = [this._and()];
    while (this._isWord('or')) {
      this._i++;
      items.push(this._and());
    }
    return items.length === 1 ? items[0] : { t: 'or', items };
  }

  private _and(): BoolExpr {
    const items = [this._not()];
    while (this._isWord('and')) {
      this._i++;
      items.push(this._not());
    }
    return items.length === 1 ? items[0] : { t: 'and', items };
  }

  private _not(): BoolExpr {
    if (this._isWord('not')) {
      this._i++;
      return { t: 'not', expr: this._not() };
    }
    return this._boolValue();
  }

  private _boolValue(): BoolExpr {
    // "(" may open a boolean group or a math group: try the boolean reading first, and when both fail,
    // report the error that got further into the condition.
    if (this._isOp('(')) {
      const save = this._i;
      this._i++;
      let boolError: OttlParseError | undefined;
      try {
        const inner = this._or();
        this._expectOp(')', 'to close "("');
        if (!this._isCmp()) return inner;
      } catch (err) {
        if (!(err instanceof OttlParseError)) throw err;
        boolError = err;
      }
      this._i = save;
      try {
        return this._comparison();
      } catch (err) {
        if (boolError !== undefined && err instanceof OttlParseError && err.column < boolError.column) throw boolError;
        throw err;
      }
    }
    return this._comparison();
  }

  private _comparison(): BoolExpr {
    const start = this._tok;
    if ((this._isWord('true') || this._isWord('false')) && !this._nextIsCmp()) {
      this._i++;
      return { t: 'const', value: start.text === 'true' };
    }
    const left = this._value();
    if (!this._isCmp()) {
      if (left.t === 'call' && left.fn.bool) return left;
      if (left.t === 'call') {
        this._fail(`${left.name} returns a value, not a boolean: compare it (e.g. ${left.name}(...) == ...)`);
      }
      const after = JSON.stringify(this._text(start));
      this._fail(`expected a comparison operator (==, !=, <, <=, >, >=) after ${after}, found ${describe(this._tok)}`);
    }
    const opTok = this._toks[this._i++];
    if (this._tok.kind === 'eof') this._fail(`expected a value after "${opTok.text}", found the end of the condition`);
    const right = this._value();
    return { t: 'cmp', op: opTok.text as CmpOp, left, right, col: opTok.pos + 1 };
  }

  private _text(from: Token): string {
    return this._toks
      .slice(this._toks.indexOf(from), this._i)
      .map((t) => t.text)
      .join('');
  }

  private _isCmp(): boolean {
    return this._tok.kind === 'op' && CMP_OPS.includes(this._tok.text);
  }

  private _nextIsCmp(): boolean {
    const n = this._toks[this._i + 1];
    return n.kind === 'op' && CMP_OPS.includes(n.text);
  }

  private _value(): ValueExpr {
    let left = this._term();
    while (this._isOp('+') || this._isOp('-')) {
      const op = this._toks[this._i++];
      left = { t: 'math', op: op.text as '+' | '-', left, right: this._term(), col: op.pos + 1 };
    }
    return left;
  }

  private _term(): ValueExpr {
    let left = this._factor();
    while (this._isOp('*') || this._isOp('/')) {
      const op = this._toks[this._i++];
      left = { t: 'math', op: op.text as '*' | '/', left, right: this._factor(), col: op.pos + 1 };
    }
    return left;
  }

  private _factor(): ValueExpr {
    const t = this._tok;
    const col = t.pos + 1;
    switch (t.kind) {
      case 'string':
        this._i++;
        return { t: 'lit', value: t.value as string, col };
      case 'int':
        this._i++;
        return { t: 'lit', value: BigInt(t.text), col };
      case 'float':
        this._i++;
        return { t: 'lit', value: Number(t.text), col };
      case 'bytes':
        this._i++;
        return { t: 'lit', value: new OttlBytes(t.text.slice(2).toLowerCase(), false), col };
      case 'op':
        if (t.text === '-') {
          this._i++;
          return { t: 'neg', expr: this._factor(), col };
        }
        if (t.text === '(') {
          this._i++;
          const v = this._value();
          this._expectOp(')', 'to close "("');
          return v;
        }
        return this._fail(`expected a value, found ${describe(t)}`);
      case 'eof':
        return this._fail('expected a value, found the end of the condition');
      case 'ident':
        break;
    }
    if (t.text === 'true' || t.text === 'false') {
      this._i++;
      return { t: 'lit', value: t.text === 'true', col };
    }
    if (t.text === 'nil') {
      this._i++;
      return { t: 'lit', value: null, col };
    }
    if (KEYWORDS.has(t.text)) return this._fail(`expected a value, found the keyword "${t.text}"`);
    if (/^[A-Z][A-Z0-9_]*$/.test(t.text) && t.text.includes('_')) {
      if (ENUMS[t.text] === undefined) this._fail(`unknown enum ${t.text}; known: ${Object.keys(ENUMS).join(', ')}`);
      this._i++;
      return { t: 'lit', value: BigInt(ENUMS[t.text]), col };
    }
    if (/^[A-Z]/.test(t.text)) return this._call();
    const next = this._toks[this._i + 1];
    if (next.kind === 'op' && next.text === '(') {
      this._fail(`${t.text} is an OTTL editor (a statement); a condition calls converters such as IsMatch`);
    }
    return this._path();
  }

  private _call(): CallExpr {
    const nameTok = this._toks[this._i++];
    const name = nameTok.text;
    const col = nameTok.pos + 1;
    const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (fn === undefined) this._fail(unknownFunction(name), nameTok);
    if (fn.spanOnly && this._ctx !== 'span') this._fail(`${name} exists in the span context only`, nameTok);
    const signature = `${name}(${fn.params.map(([p]) => p).join(', ')})`;
    this._expectOp('(', `after ${name}`);
    const args: ArgExpr[] = [];
    for (const [param, kind] of fn.params) {
      if (args.length > 0) this._expectOp(',', `between the arguments of ${signature}`);
      if (this._isOp(')')) this._fail(`${signature} needs its ${param} argument`);
      args.push(this._arg(kind, param, signature, fn));
    }
    if (this._isOp(',')) this._fail(`${signature} takes ${fn.params.length} argument(s)`);
    this._expectOp(')', `to close ${signature}`);
    return { t: 'call', name, fn, args, col };
  }

  private _arg(kind: ArgKind, param: string, signature: string, fn: OttlFunction): ArgExpr {
    const t = this._tok;
    if (kind === 'pattern') {
      if (t.kind !== 'string') this._fail(`${signature}: ${param} must be a string literal, found ${describe(t)}`);
      this._i++;
      try {
        return { t: 'pattern', regex: new RegExp(t.value as string) };
      } catch (err) {
        return this._fail(`invalid regular expression: ${(err as Error).message}`, t);
      }
    }
    if (kind === 'bytes') {
      if (t.kind !== 'bytes')
        this._fail(`${signature}: ${param} must be a bytes literal (0x...), found ${describe(t)}`);
      if ((t.text.length - 2) / 2 !== fn.bytes) this._fail(`${signature}: ${param} must be ${fn.bytes} bytes`);
      this._i++;
      return { t: 'lit', value: new OttlBytes(t.text.slice(2).toLowerCase(), false), col: t.pos + 1 };
    }
    if (kind === 'list') {
      this._expectOp('[', `to open ${signature}'s ${param} list`);
      const items: ValueExpr[] = [];
      while (!this._isOp(']')) {
        if (items.length > 0) this._expectOp(',', `between the items of ${param}`);
        items.push(this._value());
      }
      this._i++;
      return { t: 'list', items };
    }
    return this._value();
  }

  private _path(): ValueExpr {
    const first = this._tok;
    const parts = [first.text];
    this._i++;
    while (this._isOp('.')) {
      this._i++;
      if (this._tok.kind !== 'ident') this._fail(`expected a field name after ".", found ${describe(this._tok)}`);
      parts.push(this._tok.text);
      this._i++;
    }
    let key: string | undefined;
    if (this._isOp('[')) {
      this._i++;
      if (this._tok.kind !== 'string') this._fail(`expected a string key in [...], found ${describe(this._tok)}`);
      key = this._tok.value as string;
      this._i++;
      this._expectOp(']', 'to close "["');
      if (this._isOp('[')) this._fail('nested keys (map or slice values) are not supported');
    }
    const text = parts.join('.') + (key === undefined ? '' : `[${JSON.stringify(key)}]`);
    const field = resolvePath(parts, key, this._ctx);
    if (typeof field === 'string') throw new OttlParseError(`${field} (path ${text})`, first.pos + 1);
    return { t: 'path', field, text, col: first.pos + 1 };
  }
}

const SPAN_FIELDS = [
  'name',
  'kind',
  'status.code',
  'start_time_unix_nano',
  'end_time_unix_nano',
  'trace_state',
] as const;

/** resolvePath maps a path to a Field, or returns why it is not supported. */
function resolvePath(parts: string[], key: string | undefined, ctx: OttlContext): Field | string {
  let p = [...parts];
  const needKey = (f: Field): Field | string =>
    key === undefined ? 'attributes need a key, e.g. attributes["http.route"]' : f;
  if (p[0] === 'resource') {
    if (p.length === 2 && p[1] === 'attributes') return needKey({ kind: 'attributes', of: 'resource', key: key ?? '' });
    return 'unsupported resource path; supported: resource.attributes["key"]';
  }
  if (ctx === 'spanevent') {
    if (p[0] === 'spanevent') p = p.slice(1);
    else if (p[0] === 'span') return resolvePath(p.slice(1), key, 'span');
    if (p.length === 1 && p[0] === 'attributes') return needKey({ kind: 'attributes', of: 'event', key: key ?? '' });
    if (key === undefined && p.length === 1 && (p[0] === 'name' || p[0] === 'time_unix_nano')) {
      return { kind: p[0], of: 'event' };
    }
    return (
      'unsupported span event path; supported: name, time_unix_nano, attributes["key"], span.<span path>, ' +
      'resource.attributes["key"]'
    );
  }
  if (p[0] === 'span') p = p.slice(1);
  if (p.length === 1 && p[0] === 'attributes') return needKey({ kind: 'attributes', of: 'span', key: key ?? '' });
  const joined = p.join('.');
  const id = /^(trace_id|span_id|parent_span_id)(\.string)?$/.exec(joined);
  if (key === undefined && id !== null) {
    return { kind: id[1] as 'trace_id' | 'span_id' | 'parent_span_id', of: 'span', string: id[2] !== undefined };
  }
  if (key === undefined && (SPAN_FIELDS as readonly string[]).includes(joined)) {
    return { kind: joined as (typeof SPAN_FIELDS)[number], of: 'span' };
  }
  return (
    `unsupported span path; supported: ${SPAN_FIELDS.join(', ')}, trace_id, span_id, parent_span_id (each also ` +
    '.string), attributes["key"], resource.attributes["key"]'
  );
}

/**
 * parseCondition parses one OTTL boolean condition of `ctx`.
 * @throws OttlParseError with the 1-based column of the fault.
 */
export function parseCondition(src: string, ctx: OttlContext): BoolExpr {
  return new Parser(lex(src), ctx).parseCondition();
}

/** attributeKeysOf lists the span/resource attribute keys a condition reads (event attributes excluded). */
export function attributeKeysOf(e: BoolExpr | ValueExpr, into: Set<string> = new Set()): Set<string> {
  switch (e.t) {
    case 'or':
    case 'and':
      e.items.forEach((x) => attributeKeysOf(x, into));
      break;
    case 'not':
    case 'neg':
      attributeKeysOf(e.expr, into);
      break;
    case 'cmp':
    case 'math':
      attributeKeysOf(e.left, into);
      attributeKeysOf(e.right, into);
      break;
    case 'call':
      for (const a of e.args) {
        if (a.t === 'list') a.items.forEach((x) => attributeKeysOf(x, into));
        else if (a.t !== 'pattern') attributeKeysOf(a, into);
      }
      break;
    case 'path':
      if (e.field.kind === 'attributes' && e.field.of !== 'event') into.add(e.field.key);
      break;
    default:
      break;
  }
  return into;
}
