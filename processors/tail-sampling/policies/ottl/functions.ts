// The OTTL converters an ottl_condition may call, with the semantics of contrib's pkg/ottl/ottlfuncs
// (v0.140.1, the Collector the stack builds): each entry names its parameters, what each takes (a value,
// a list literal, a string literal pattern, a bytes literal), whether it returns a boolean (usable as a
// condition on its own), the contexts it exists in, and how it computes. Getters follow OTTL's: "string"
// arguments need a string (nil or another type is a type error), "string-like" ones convert numbers and
// booleans to text (nil stays nil), "int" arguments need an int.

import { Buffer } from 'node:buffer';
import { OttlEvalError, OttlTypeError, OttlBytes, type OttlTarget, type OttlValue } from './values';

/** ArgKind is what a parameter takes: any value, a list literal, a string literal pattern, or a bytes literal. */
export type ArgKind = 'value' | 'list' | 'pattern' | 'bytes';

/** OttlFunction describes one converter. */
export interface OttlFunction {
  /** Parameter names (for messages) and kinds, in order. */
  readonly params: readonly (readonly [string, ArgKind])[];
  /** True when it returns a boolean, so a call is a condition on its own. */
  readonly bool: boolean;
  /** Only in the span context (IsRootSpan). */
  readonly spanOnly?: boolean;
  /** Bytes a bytes literal must have (TraceID 16, SpanID 8). */
  readonly bytes?: number;
  /** Computes the result from the evaluated arguments (a pattern arrives as its RegExp, a list as an array). */
  readonly call: (args: readonly FnArg[], target: OttlTarget, name: string) => OttlValue;
}

/** FnArg is an evaluated argument. */
export type FnArg = OttlValue | readonly OttlValue[] | RegExp;

function typeName(v: OttlValue): string {
  if (v === null) return 'nil';
  if (v instanceof OttlBytes) return 'bytes';
  return typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v;
}

/** str is OTTL's StringGetter: the value must be a string. */
function str(v: FnArg, fn: string): string {
  if (typeof v === 'string') return v;
  throw new OttlTypeError(`${fn}: expected string but got ${typeName(v as OttlValue)}`);
}

/** int is OTTL's IntGetter: the value must be an int. */
function int(v: FnArg, fn: string): bigint {
  if (typeof v === 'bigint') return v;
  throw new OttlTypeError(`${fn}: expected int but got ${typeName(v as OttlValue)}`);
}

/** stringLike is OTTL's StringLikeGetter: text of a number, boolean or bytes (hex); nil stays nil. */
export function stringLike(v: OttlValue): string | null {
  if (v === null || typeof v === 'string') return v;
  if (v instanceof OttlBytes) return v.hex;
  return String(v);
}

/** intLike is OTTL's IntLikeGetter: a string that is not a decimal int gives nil, floats truncate. */
function intLike(v: OttlValue, fn: string): bigint | null {
  if (v === null || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : null;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') return /^[+-]?[0-9]+$/.test(v) ? BigInt(v) : null;
  throw new OttlTypeError(`${fn}: unsupported type ${typeName(v)}`);
}

const FLOAT_TEXT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/** floatLike is OTTL's FloatLikeGetter: a string that is not a number is an error. */
function floatLike(v: OttlValue, fn: string): number | null {
  if (v === null || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (FLOAT_TEXT.test(v)) return Number(v);
    throw new OttlEvalError(`${fn}: cannot parse ${JSON.stringify(v)} as a float`);
  }
  throw new OttlTypeError(`${fn}: unsupported type ${typeName(v)}`);
}

/** isType builds IsString/IsInt/IsDouble/IsBool: true when the getter accepts the value, false on a type error. */
function isType(test: (v: OttlValue) => boolean): OttlFunction {
  return { params: [['target', 'value']], bool: true, call: ([v]) => test(v as OttlValue) };
}

const ONE_VALUE = [['target', 'value']] as const;

/** FUNCTIONS maps each supported converter name to its description. */
export const FUNCTIONS: Readonly<Record<string, OttlFunction>> = {
  IsMatch: {
    params: [
      ['target', 'value'],
      ['pattern', 'pattern'],
    ],
    bool: true,
    call: ([v, re]) => {
      const s = stringLike(v as OttlValue);
      return s !== null && (re as RegExp).test(s);
    },
  },
  IsString: isType((v) => typeof v === 'string'),
  IsInt: isType((v) => typeof v === 'bigint'),
  IsDouble: isType((v) => typeof v === 'number'),
  IsBool: isType((v) => typeof v === 'boolean'),
  HasPrefix: {
    params: [
      ['target', 'value'],
      ['prefix', 'value'],
    ],
    bool: true,
    call: ([v, p], _t, fn) => str(v, fn).startsWith(str(p, fn)),
  },
  HasSuffix: {
    params: [
      ['target', 'value'],
      ['suffix', 'value'],
    ],
    bool: true,
    call: ([v, p], _t, fn) => str(v, fn).endsWith(str(p, fn)),
  },
  IsRootSpan: { params: [], bool: true, spanOnly: true, call: (_a, target) => target.span.parentSpanId === '' },
  Len: {
    params: ONE_VALUE,
    bool: false,
    call: ([v], _t, fn) => {
      if (typeof v === 'string') return BigInt(Buffer.byteLength(v, 'utf8'));
      throw new OttlEvalError(`${fn}: target must be a string, got ${typeName(v as OttlValue)}`);
    },
  },
  Int: { params: ONE_VALUE, bool: false, call: ([v], _t, fn) => intLike(v as OttlValue, fn) },
  Double: { params: ONE_VALUE, bool: false, call: ([v], _t, fn) => floatLike(v as OttlValue, fn) },
  String: { params: ONE_VALUE, bool: false, call: ([v]) => stringLike(v as OttlValue) },
  Concat: {
    params: [
      ['values', 'list'],
      ['delimiter', 'value'],
    ],
    bool: false,
    call: ([vals, d], _t, fn) => {
      const delimiter = str(d, fn);
      return (vals as readonly OttlValue[]).map((v) => stringLike(v) ?? '<nil>').join(delimiter);
    },
  },
  ToLowerCase: { params: ONE_VALUE, bool: false, call: ([v], _t, fn) => str(v, fn).toLowerCase() },
  ToUpperCase: { params: ONE_VALUE, bool: false, call: ([v], _t, fn) => str(v, fn).toUpperCase() },
  Substring: {
    params: [
      ['target', 'value'],
      ['start', 'value'],
      ['length', 'value'],
    ],
    bool: false,
    call: ([v, s, l], _t, fn) => {
      const start = int(s, fn);
      if (start < 0n) throw new OttlEvalError(`${fn}: start ${start} cannot be negative`);
      const length = int(l, fn);
      if (length <= 0n) throw new OttlEvalError(`${fn}: length ${length} cannot be negative or zero`);
      const bytes = Buffer.from(str(v, fn), 'utf8');
      if (start + length > BigInt(bytes.length))
        throw new OttlEvalError(`${fn}: ${start + length} is greater than the length of the string (${bytes.length})`);
      return bytes.subarray(Number(start), Number(start + length)).toString('utf8');
    },
  },
  TraceID: { params: [['bytes', 'bytes']], bool: false, bytes: 16, call: ([b]) => (b as OttlBytes).asId() },
  SpanID: { params: [['bytes', 'bytes']], bool: false, bytes: 8, call: ([b]) => (b as OttlBytes).asId() },
};

/**
 * NOT_SUPPORTED names OTTL converters of the Collector that conditions here cannot use, with why (or a
 * general reason): a condition using one is a config error that says so, not a runtime surprise.
 */
export const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  IsMap: 'attribute maps are read as their JSON text here, so a map cannot be told from a string',
  IsList: 'attribute lists are read as their JSON text here, so a list cannot be told from a string',
};

/** COLLECTOR_CONVERTERS lists the other converters of contrib's ottlfuncs (v0.140.1), for messages. */
export const COLLECTOR_CONVERTERS: readonly string[] = [
  'Base64Decode',
  'Decode',
  'ContainsValue',
  'ConvertCase',
  'ConvertAttributesToElementsXML',
  'ConvertTextToElementsXML',
  'Day',
  'Duration',
  'ExtractPatterns',
  'ExtractGrokPatterns',
  'FNV',
  'GetXML',
  'Hour',
  'Hours',
  'Index',
  'InsertXML',
  'Log',
  'IsValidLuhn',
  'MD5',
  'Microseconds',
  'Milliseconds',
  'Minute',
  'Minutes',
  'Month',
  'Murmur3Hash',
  'Murmur3Hash128',
  'Nanosecond',
  'Nanoseconds',
  'Now',
  'ParseCSV',
  'ParseJSON',
  'ParseKeyValue',
  'ParseSimplifiedXML',
  'ParseXML',
  'RemoveXML',
  'Second',
  'Seconds',
  'SHA1',
  'SHA256',
  'SHA512',
  'Sort',
  'Split',
  'Format',
  'Time',
  'FormatTime',
  'Trim',
  'TrimPrefix',
  'TrimSuffix',
  'ToKeyValueString',
  'ToCamelCase',
  'ToSnakeCase',
  'TruncateTime',
  'Unix',
  'UnixMicro',
  'UnixMilli',
  'UnixNano',
  'UnixSeconds',
  'UUID',
  'UUIDv7',
  'URL',
  'Values',
  'Weekday',
  'UserAgent',
  'Append',
  'Year',
  'Hex',
  'SliceToMap',
  'ProfileID',
  'ParseInt',
  'Keys',
  'XXH3',
  'XXH128',
];

/** editDistance is the Levenshtein distance, case-insensitive (for "did you mean"). */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

/** unknownFunction explains a name that is not a supported converter: not supported here, or a suggestion. */
export function unknownFunction(name: string): string {
  const supported = Object.keys(FUNCTIONS);
  if (NOT_SUPPORTED[name] !== undefined) return `function ${name} is not supported: ${NOT_SUPPORTED[name]}`;
  if (COLLECTOR_CONVERTERS.includes(name)) {
    return `function ${name} is an OTTL converter conditions here do not support; supported: ${supported.join(', ')}`;
  }
  let best: string | undefined;
  let bestD = Infinity;
  for (const s of supported) {
    const d = editDistance(name, s);
    if (d < bestD) [best, bestD] = [s, d];
  }
  const hint = best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? `; did you mean ${best}?` : '';
  return `unknown function ${name}${hint} (supported: ${supported.join(', ')})`;
}
