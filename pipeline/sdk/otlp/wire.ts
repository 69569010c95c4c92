// Low-level protobuf helpers shared by the OTLP scanner (scanner.ts, span-index.ts, stamp.ts): hex
// conversion through a lookup table, varint sizes, id checks, field walking (skip, seek, read a string or
// hex field), a structural validator derived from the protobufjs schema that walks every tag of a
// message (wire types, lengths, nesting depth) without materializing anything, and AttrValue, the value
// type of indexed and stamped attributes.

import { isUtf8 } from 'node:buffer';
import { Reader, util } from 'protobufjs';
import type * as protobuf from 'protobufjs';
import { OtlpDecodeError } from './errors';
import { otlpTypes } from './schema';

/** Wire types of the protobuf encoding. */
export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

/**
 * Tags of the request framing, shared by both signals: request.resource_X = 1, ResourceX.scope_X = 2,
 * ScopeX.records = 2 (all length-delimited). Also KeyValue.key = 1 / KeyValue.value = 2.
 */
export const TAG_F1_LEN = (1 << 3) | WT_LEN; // 0x0a
export const TAG_F2_LEN = (2 << 3) | WT_LEN; // 0x12

/** AttrValue is the value of an indexed attribute: strings, numbers (int64 and double) and booleans. */
export type AttrValue = string | number | boolean;

/** MAX_DEPTH bounds message nesting (AnyValue arrays/kvlists), like protoc's default recursion limit. */
export const MAX_DEPTH = 100;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push((i < 16 ? '0' : '') + i.toString(16));

/** hexOf renders `len` bytes of `buf` from `start` as lowercase hex (lookup table, no allocation per byte). */
export function hexOf(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start, end = start + len; i < end; i++) s += HEX[buf[i]];
  return s;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[97 + i] = 10 + i;
  HEX_VALUE[65 + i] = 10 + i;
}

/** hexToBytes parses an even-length hex string (either case); undefined when it is not hex. */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? HEX_VALUE[a] : -1;
    const lo = b < 128 ? HEX_VALUE[b] : -1;
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** isAllZero tells whether `len` bytes from `start` are all zero. */
export function isAllZero(buf: Uint8Array, start: number, len: number): boolean {
  for (let i = start, end = start + len; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** bytesEqual compares two ranges of (possibly different) buffers. */
export function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** varintSize is the number of bytes of `value` (0 <= value < 2^32) as a varint. */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** writeVarint writes `value` (0 <= value < 2^32) at `pos` and returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[pos++] = value;
  return pos;
}

/** readUtf8 decodes a UTF-8 range (protobufjs's decoder: fast for the short strings of OTLP). */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  return start === end ? '' : util.utf8.read(buf, start, end);
}

/** malformed builds the OtlpDecodeError for a protobuf problem at a byte offset. */
export function malformed(what: string, offset: number, cause?: unknown): OtlpDecodeError {
  return new OtlpDecodeError(`malformed OTLP protobuf: ${what}`, { where: `offset ${offset}`, cause });
}

/**
 * InvalidUtf8Error says that a string field holds bytes that are not valid UTF-8: the exporters' decoder
 * would refuse them for good, so receivers refuse them at the door. `field` names it ("Span.name").
 */
export class InvalidUtf8Error extends OtlpDecodeError {
  /** Message and field name of the bad string, e.g. "KeyValue.key". */
  readonly field: string;

  constructor(field: string, offset: number) {
    super(`malformed OTLP protobuf: ${field} is not valid UTF-8`, { where: `offset ${offset}` });
    this.name = 'InvalidUtf8Error';
    this.field = field;
  }
}

/** Past this many bytes from the first non-ASCII byte, the native validator beats the byte loop. */
const NATIVE_UTF8_FROM = 256;

/**
 * isUtf8Range tells whether buf[start, end) is valid UTF-8 without decoding it: a byte loop (ASCII fast
 * path, then the well-formed sequences of RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF);
 * a long remainder goes to the native validator.
 */
export function isUtf8Range(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    if (end - i > NATIVE_UTF8_FROM) return isUtf8(buf.subarray(i, end));
    if (b < 0xc2 || b > 0xf4) return false;
    if (b < 0xe0) {
      if (i + 1 >= end || (buf[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (b < 0xf0) {
      if (i + 2 >= end) return false;
      const b1 = buf[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2] & 0xc0) !== 0x80) return false;
      if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f)) return false; // overlong, surrogate
      i += 3;
    } else {
      if (i + 3 >= end) return false;
      const b1 = buf[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2] & 0xc0) !== 0x80 || (buf[i + 3] & 0xc0) !== 0x80) return false;
      if ((b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return false; // overlong, > U+10FFFF
      i += 4;
    }
  }
  return true;
}

/** checkUtf8 throws InvalidUtf8Error when string field `fno` of `s` at buf[start, end) is not valid UTF-8. */
export function checkUtf8(buf: Uint8Array, start: number, end: number, s: Shape, fno: number): void {
  if (!isUtf8Range(buf, start, end)) throw new InvalidUtf8Error(`${s.name}.${s.names[fno]}`, start);
}

/** Strings at least this long are scanned for ASCII a word at a time (shorter: the byte loop is cheaper). */
const WORDWISE_FROM = 16;
/** The buffer last scanned by asciiEnd and its bytes as 32-bit words from the start of its ArrayBuffer. */
let wordsOf: Uint8Array | undefined;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let wordsBase = 0;

/**
 * asciiEnd returns the index of the first byte >= 0x80 in buf[start, end), or `end` when there is none.
 * The aligned middle is read as pairs of 32-bit words (any byte >= 0x80 sets a bit of 0x80808080), the
 * ends byte by byte; a view of the buffer's words is kept for the next call on the same buffer (so the
 * last buffer scanned stays referenced until another one is).
 */
export function asciiEnd(buf: Uint8Array, start: number, end: number): number {
  if (buf !== wordsOf) {
    wordsOf = buf;
    words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
    wordsBase = buf.byteOffset;
  }
  let i = start;
  while (i < end && ((i + wordsBase) & 3) !== 0) {
    if (buf[i] >= 0x80) return i;
    i++;
  }
  let w = (i + wordsBase) >>> 2;
  const lastPair = ((end + wordsBase) >>> 2) - 1;
  const ws = words;
  while (w < lastPair && ((ws[w] | ws[w + 1]) & 0x80808080) === 0) w += 2;
  i = Math.max(i, (w << 2) - wordsBase);
  while (i < end && buf[i] < 0x80) i++;
  return i;
}

/**
 * asDecodeError turns whatever a protobufjs Reader threw (RangeError "index out of range", "invalid
 * wire type", ...) into an OtlpDecodeError; OtlpDecodeErrors pass through unchanged.
 */
export function asDecodeError(err: unknown, reader: Reader | undefined): OtlpDecodeError {
  if (err instanceof OtlpDecodeError) return err;
  const msg =
    err instanceof RangeError && /index out of range/.test(err.message)
      ? 'truncated message'
      : err instanceof Error
        ? err.message
        : String(err);
  return malformed(msg, reader ? reader.pos : 0, err);
}

/**
 * Shape is the validation table of one message type: the expected wire type per field number
 * (-1 for unknown numbers, which are skipped) and the shape of embedded message fields.
 */
export interface Shape {
  readonly name: string;
  readonly wire: Int8Array;
  readonly nested: (Shape | undefined)[];
  /** 1 for fields of proto type `string` (checked for UTF-8), else 0. */
  readonly str: Uint8Array;
  /** Field names by number, for error messages. */
  readonly names: string[];
  /** True for KeyValue, whose canonical scalar form validators check with isCanonicalKeyValue. */
  readonly isKeyValue: boolean;
}

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType && 'fields' in field.resolvedType) return WT_LEN;
  if (field.resolvedType) return WT_VARINT; // enum
  switch (field.type) {
    case 'string':
    case 'bytes':
      return WT_LEN;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return WT_I64;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return WT_I32;
    default:
      return WT_VARINT;
  }
}

function buildShapes(): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  const shapeOf = (type: protobuf.Type): Shape => {
    const existing = shapes.get(type.fullName);
    if (existing) return existing;
    const max = type.fieldsArray.reduce((m, fl) => Math.max(m, fl.id), 0);
    const shape: Shape = {
      name: type.name,
      wire: new Int8Array(max + 1).fill(-1),
      nested: new Array<Shape | undefined>(max + 1).fill(undefined),
      str: new Uint8Array(max + 1),
      names: new Array<string>(max + 1).fill(''),
      isKeyValue: type.fullName === '.opentelemetry.proto.common.v1.KeyValue',
    };
    shapes.set(type.fullName, shape);
    for (const fl of type.fieldsArray) {
      fl.resolve();
      shape.wire[fl.id] = wireTypeOf(fl);
      shape.names[fl.id] = fl.name;
      if (fl.type === 'string' && !fl.resolvedType) shape.str[fl.id] = 1;
      if (fl.resolvedType && 'fields' in fl.resolvedType)
        shape.nested[fl.id] = shapeOf(fl.resolvedType as protobuf.Type);
    }
    return shape;
  };
  const t = otlpTypes();
  for (const type of [
    t.ExportTraceServiceRequest,
    t.ExportLogsServiceRequest,
    t.ExportTraceServiceResponse,
    t.ExportLogsServiceResponse,
  ])
    shapeOf(type);
  return shapes;
}

let shapeCache: Map<string, Shape> | undefined;

/** shape returns the validation table of a fully-qualified OTLP message type. */
export function shape(fullName: string): Shape {
  shapeCache ??= buildShapes();
  const s = shapeCache.get(fullName.startsWith('.') ? fullName : `.${fullName}`);
  if (!s) throw new Error(`no OTLP shape for ${fullName}`);
  return s;
}

/**
 * skipField skips the value of a field with wire type `wt` whose tag was just read, staying within
 * `end`. Groups (3/4) and reserved wire types (6/7) are malformed in OTLP.
 */
export function skipField(r: Reader, wt: number, end: number): void {
  switch (wt) {
    case WT_VARINT:
      r.skip();
      break;
    case WT_I64:
      r.skip(8);
      break;
    case WT_LEN:
      r.skip(r.size());
      break;
    case WT_I32:
      r.skip(4);
      break;
    default:
      throw malformed(`unsupported wire type ${wt}`, r.pos);
  }
  if (r.pos > end) throw malformed('field runs past the end of its message', r.pos);
}

/** readLen reads a length prefix and returns the end offset of the field, which must lie within `end`. */
export function readLen(r: Reader, end: number, what: string): number {
  const len = r.size();
  const fieldEnd = r.pos + len;
  if (fieldEnd > end) throw malformed(`${what} runs past the end of its message`, r.pos);
  return fieldEnd;
}

/**
 * nextLen skips fields until one with tag `tag` (a length-delimited field) and returns the end offset of
 * that field, leaving `r.pos` at its value; -1 once `end` is reached without one.
 */
export function nextLen(r: Reader, end: number, tag: number, what: string): number {
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag) return readLen(r, end, what);
    skipField(r, t & 7, end);
  }
  return -1;
}

/** readString reads the UTF-8 value of a length-delimited field whose tag was just read, within `end`. */
export function readString(r: Reader, end: number, what: string): string {
  const e = readLen(r, end, what);
  const s = readUtf8(r.buf, r.pos, e);
  r.pos = e;
  return s;
}

/** readHex reads the value of a length-delimited field whose tag was just read as lowercase hex, within `end`. */
export function readHex(r: Reader, end: number, what: string): string {
  const e = readLen(r, end, what);
  const s = hexOf(r.buf, r.pos, e - r.pos);
  r.pos = e;
  return s;
}

/**
 * shortFieldEnd returns the end of a length-delimited field whose tag byte is at `p`, when its length takes one
 * or two varint bytes and the field lies within `end`; -1 otherwise. Its value starts at shortFieldStart(p).
 */
function shortFieldEnd(buf: Uint8Array, p: number, end: number): number {
  if (p + 1 >= end) return -1;
  const b1 = buf[p + 1];
  if (b1 < 0x80) return p + 2 + b1 <= end ? p + 2 + b1 : -1;
  if (p + 2 >= end || buf[p + 2] >= 0x80) return -1;
  const e = p + 3 + ((b1 & 0x7f) | (buf[p + 2] << 7));
  return e <= end ? e : -1;
}

/** shortFieldStart is where the value of a field accepted by shortFieldEnd starts. */
function shortFieldStart(buf: Uint8Array, p: number): number {
  return buf[p + 1] < 0x80 ? p + 2 : p + 3;
}

/** asciiStringEnd returns shortFieldEnd of the field at `p` when its bytes are ASCII; -1 otherwise. */
function asciiStringEnd(buf: Uint8Array, p: number, end: number): number {
  const e = shortFieldEnd(buf, p, end);
  if (e < 0) return -1;
  let i = shortFieldStart(buf, p);
  if (e - i >= WORDWISE_FROM) i = asciiEnd(buf, i, e);
  else while (i < e && buf[i] < 0x80) i++;
  return i === e ? e : -1;
}

/**
 * isCanonicalKeyValue checks, byte by byte and without a Reader, a KeyValue at buf[pos, end) in the form SDKs
 * write (most of a span's bytes): an ASCII key (field 1, absent when empty), then a value (field 2) that is the
 * last field and holds one ASCII string, bool, int, double or bytes AnyValue. True means validateMessage would
 * accept it too; false means "not this form" (arrays, kvlists, other orders, unknown fields, non-ASCII text,
 * errors), and the caller walks it with validateMessage, which names any error.
 */
export function isCanonicalKeyValue(buf: Uint8Array, pos: number, end: number): boolean {
  if (pos >= end) return true; // empty
  const p = buf[pos] === TAG_F1_LEN ? asciiStringEnd(buf, pos, end) : pos; // no key: an empty one
  if (p < 0) return false;
  if (p === end) return true; // no value
  if (buf[p] !== TAG_F2_LEN || shortFieldEnd(buf, p, end) !== end) return false;
  const q = shortFieldStart(buf, p);
  if (q === end) return true; // empty AnyValue
  switch (buf[q]) {
    case 0x0a: // string_value
      return asciiStringEnd(buf, q, end) === end;
    case 0x3a: // bytes_value: any bytes
      return shortFieldEnd(buf, q, end) === end;
    case 0x10: // bool_value
    case 0x18: {
      // int_value: a varint of at most 10 bytes that ends the value
      let i = q + 1;
      const last = Math.min(end, i + 10);
      while (i < last && buf[i] >= 0x80) i++;
      return i + 1 === end && buf[i] < 0x80;
    }
    case 0x21: // double_value
      return q + 9 === end;
    default:
      return false;
  }
}

/**
 * validateMessage walks every tag of the message in [r.pos, end) against `s`: wire types of known
 * fields, lengths inside their parent, nesting depth, UTF-8 of string fields (InvalidUtf8Error). It
 * leaves `r.pos` at `end`.
 * The loop body is the same check as scanner.ts `validateField` (one field whose tag was read), written
 * out twice on purpose: with one shared function the split got 7-12% slower (V8 no longer inlines the
 * Reader calls of this loop), so change both together.
 */
export function validateMessage(r: Reader, end: number, s: Shape, depth: number): void {
  if (depth > MAX_DEPTH) throw malformed('messages nested too deeply', r.pos);
  const wire = s.wire;
  while (r.pos < end) {
    const tag = r.uint32();
    const fno = tag >>> 3;
    const wt = tag & 7;
    if (fno === 0) throw malformed('field number 0', r.pos);
    const expected = fno < wire.length ? wire[fno] : -1;
    if (expected === -1) {
      skipField(r, wt, end);
      continue;
    }
    if (expected !== wt) throw malformed(`${s.name} field ${fno} has wire type ${wt}, expected ${expected}`, r.pos);
    if (wt === WT_LEN) {
      const len = r.size();
      const fieldEnd = r.pos + len;
      if (fieldEnd > end) throw malformed(`${s.name} field ${fno} runs past the end of its message`, r.pos);
      const nested = s.nested[fno];
      if (nested !== undefined) {
        if (nested.isKeyValue && depth + 2 <= MAX_DEPTH && isCanonicalKeyValue(r.buf, r.pos, fieldEnd))
          r.pos = fieldEnd;
        else validateMessage(r, fieldEnd, nested, depth + 1);
      } else {
        if (s.str[fno] === 1) {
          // The ASCII fast path inline (a call per string costs the split ~20%); the rest out of line.
          // Long strings are scanned 8 bytes at a time (asciiEnd).
          const buf = r.buf;
          let i = r.pos;
          if (fieldEnd - i >= WORDWISE_FROM) i = asciiEnd(buf, i, fieldEnd);
          else while (i < fieldEnd && buf[i] < 0x80) i++;
          if (i < fieldEnd) checkUtf8(buf, i, fieldEnd, s, fno);
        }
        r.pos = fieldEnd;
      }
    } else {
      skipField(r, wt, end);
    }
  }
  if (r.pos !== end) throw malformed(`${s.name} overruns its length`, r.pos);
}

/** newReader makes a protobufjs Reader over `data` (plain Reader: JS UTF-8 decoding is faster for short strings). */
export function newReader(data: Uint8Array): Reader {
  return new Reader(data);
}
