// appendSpanAttributes and countSpans/countLogRecords: re-framing (a two-pass exact-size copy) and
// counting (a protobufjs Reader) over OTLP bytes, leaving every span byte-identical except for the
// stamped attributes and, when a sampling threshold is given, the span's trace_state. Part of the
// hot-path scanner (exported through index.ts).

import { Writer } from 'protobufjs';
import type { TraceStateThreshold } from './tracestate';
import * as wire from './wire';
import type { AttrValue } from './wire';

// Hot helpers and constants bound to module-local names once (see scanner.ts).
const { asDecodeError, bytesEqual, malformed, newReader, nextLen, skipField, varintSize, writeVarint } = wire;
const { WT_VARINT, WT_I64, WT_LEN, WT_I32, TAG_F1_LEN, TAG_F2_LEN } = wire;
const TAG_ATTR = (9 << 3) | WT_LEN; // Span.attributes
const TAG_TRACE_STATE = (3 << 3) | WT_LEN; // Span.trace_state
const FIELD_TRACE_STATE = 3;

/**
 * countSpans counts the spans of an encoded ExportTraceServiceRequest without decoding them.
 * @throws OtlpDecodeError when the framing is truncated or malformed.
 */
export function countSpans(data: Uint8Array): number {
  return countRecords(data);
}

/** countLogRecords counts the log records of an encoded ExportLogsServiceRequest (same framing as spans). */
export function countLogRecords(data: Uint8Array): number {
  return countRecords(data);
}

function countRecords(data: Uint8Array): number {
  let n = 0;
  const r = newReader(data);
  try {
    const end = data.length;
    let rsEnd: number;
    while ((rsEnd = nextLen(r, end, TAG_F1_LEN, 'resource entry')) >= 0) {
      let ssEnd: number;
      while ((ssEnd = nextLen(r, rsEnd, TAG_F2_LEN, 'scope entry')) >= 0) {
        while (r.pos < ssEnd) {
          const t2 = r.uint32();
          if (t2 === TAG_F2_LEN) n++;
          skipField(r, t2 & 7, ssEnd);
        }
      }
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return n;
}

/** encodeAttributes encodes attributes as repeated Span.attributes (field 9) KeyValue entries. */
function encodeAttributes(attrs: Readonly<Record<string, AttrValue>>): Uint8Array {
  const w = Writer.create();
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    w.uint32(TAG_ATTR).fork();
    w.uint32(TAG_F1_LEN).string(key);
    w.uint32(TAG_F2_LEN).fork();
    if (typeof v === 'string') w.uint32((1 << 3) | WT_LEN).string(v);
    else if (typeof v === 'boolean') w.uint32((2 << 3) | WT_VARINT).bool(v);
    else if (Number.isSafeInteger(v)) w.uint32((3 << 3) | WT_VARINT).int64(v);
    else w.uint32((4 << 3) | WT_I64).double(v);
    w.ldelim().ldelim();
  }
  return w.finish();
}

// A cursor over the request bytes for appendSpanAttributes: module-local scratch (the function is
// synchronous and not re-entrant) so that the varint readers below allocate nothing and inline well.
let cur = 0;

/**
 * readTag reads a field tag like protobufjs Reader#uint32: up to 10 bytes, value truncated to 32 bits.
 * Reading is bounded by `end` (a tag crossing the end of its message is malformed anyway).
 */
function readTag(b: Uint8Array, end: number): number {
  if (cur < end) {
    const x = b[cur];
    if (x < 0x80) {
      cur++;
      return x;
    }
  }
  let v = 0;
  for (let i = 0; i < 10; i++) {
    if (cur >= end) throw malformed('truncated message', cur);
    const x = b[cur++];
    if (i < 4) v |= (x & 0x7f) << (7 * i);
    else if (i === 4) v |= (x & 0x0f) << 28;
    if (x < 0x80) return v >>> 0;
  }
  throw malformed('invalid varint encoding', cur);
}

/** readEnd reads a length prefix like protobufjs Reader#size (< 2^31) and returns the end of the field, within `end`. */
function readEnd(b: Uint8Array, end: number, what: string): number {
  let n = 0;
  for (let i = 0; ; i++) {
    if (cur >= end) throw malformed('truncated message', cur);
    const x = b[cur++];
    if (i === 4) {
      if (x > 7) throw malformed('invalid length encoding', cur);
      n = (n | (x << 28)) >>> 0;
      break;
    }
    n |= (x & 0x7f) << (7 * i);
    if (x < 0x80) break;
  }
  const e = cur + n;
  if (e > end) throw malformed(`${what} runs past the end of its message`, cur);
  return e;
}

/** skipValue skips the value of a field with wire type `wt` (like wire.skipField), within `end`. */
function skipValue(b: Uint8Array, wt: number, end: number): void {
  switch (wt) {
    case WT_VARINT:
      do {
        if (cur >= end) throw malformed('truncated message', cur);
      } while (b[cur++] & 0x80);
      return;
    case WT_I64:
      cur += 8;
      break;
    case WT_LEN:
      cur = readEnd(b, end, 'field');
      return;
    case WT_I32:
      cur += 4;
      break;
    default:
      throw malformed(`unsupported wire type ${wt}`, cur);
  }
  if (cur > end) throw malformed('field runs past the end of its message', cur);
}

/** keyMatches tells whether the key of the KeyValue in [cur, kvEnd) is one of `keys`. */
function keyMatches(b: Uint8Array, kvEnd: number, keys: readonly Uint8Array[]): boolean {
  while (cur < kvEnd) {
    const tag = readTag(b, kvEnd);
    if (tag === TAG_F1_LEN) {
      const e = readEnd(b, kvEnd, 'key');
      const len = e - cur;
      for (const k of keys) if (k.length === len && bytesEqual(b, cur, k, 0, len)) return true;
      cur = e;
    } else {
      skipValue(b, tag & 7, kvEnd);
    }
  }
  return false;
}

// Kinds of the steps of the write plan of appendSpanAttributes.
const OP_COPY = 0; // copy data[x, y)
const OP_HEADER = 1; // write tag x and length y (the tag is a one-byte framing tag)
const OP_BLOCK = 2; // write the encoded attributes
const OP_TRACE_STATE = 3; // write a trace_state field whose value is traceStates[x]

/**
 * appendSpanAttributes returns a copy of an encoded ExportTraceServiceRequest where every span carries
 * `attrs` (integers as int_value, other numbers as double_value): an existing attribute with one of
 * these keys is removed and the new ones are appended after the span's other fields. Everything else,
 * including unknown fields and field order, stays byte-identical.
 *
 * With `threshold`, every span's trace_state (field 3) also gets the sampling threshold
 * (TraceStateThreshold.rewrite: `ot=th:...` added or raised, or left as it is when malformed or full).
 * The one resulting trace_state field goes where the first of these stands: the span's first trace_state
 * field, or its first field numbered above 3 (else at the end). A canonically ordered span is thus
 * rewritten in place, or gets the field right after span_id, and stays canonical. Repeated trace_state
 * fields (protobuf: the last one wins, and its value is the one rewritten) collapse into that one.
 *
 * Two passes: the first walks the framing and records a flat plan (kept byte ranges, rewritten headers
 * with their new lengths, the attribute block, the trace_state fields), each span's kept bytes as one
 * range between removed or replaced fields; the second writes the plan into one buffer of the exact size
 * with Buffer#copy. (The former Writer-based version did one Writer.raw(subarray) per span field: 2-3x
 * slower, and garbage.)
 * @throws OtlpDecodeError when the framing is truncated or malformed.
 */
export function appendSpanAttributes(
  data: Uint8Array,
  attrs: Readonly<Record<string, AttrValue>>,
  threshold?: TraceStateThreshold,
): Uint8Array {
  const block = encodeAttributes(attrs);
  const keys = Object.keys(attrs).map((k) => Buffer.from(k, 'utf8'));
  const hasKeys = keys.length > 0;
  const stampTraceState = threshold !== undefined;
  const traceStates: Uint8Array[] = [];
  const ops: number[] = [];
  const end = data.length;
  let total = 0;
  cur = 0;
  while (cur < end) {
    const fieldStart = cur;
    const tag = readTag(data, end);
    if (tag !== TAG_F1_LEN) {
      skipValue(data, tag & 7, end);
      ops.push(OP_COPY, fieldStart, cur);
      total += cur - fieldStart;
      continue;
    }
    const rsEnd = readEnd(data, end, 'resource entry');
    const rsHeader = ops.length;
    ops.push(OP_HEADER, TAG_F1_LEN, 0);
    let rsLen = 0;
    while (cur < rsEnd) {
      const rsField = cur;
      const t = readTag(data, rsEnd);
      if (t !== TAG_F2_LEN) {
        skipValue(data, t & 7, rsEnd);
        ops.push(OP_COPY, rsField, cur);
        rsLen += cur - rsField;
        continue;
      }
      const ssEnd = readEnd(data, rsEnd, 'scope entry');
      const ssHeader = ops.length;
      ops.push(OP_HEADER, TAG_F2_LEN, 0);
      let ssLen = 0;
      while (cur < ssEnd) {
        const ssField = cur;
        const t2 = readTag(data, ssEnd);
        if (t2 !== TAG_F2_LEN) {
          skipValue(data, t2 & 7, ssEnd);
          ops.push(OP_COPY, ssField, cur);
          ssLen += cur - ssField;
          continue;
        }
        const spanEnd = readEnd(data, ssEnd, 'span');
        const spanHeader = ops.length;
        ops.push(OP_HEADER, TAG_F2_LEN, 0);
        let spanLen = 0;
        let runStart = cur;
        // With a threshold: the ops index of the span's trace_state slot (filled in after the span), and
        // the last trace_state field seen (start of field, start of value, end).
        let tsSlot = -1;
        let tsField = -1;
        let tsValue = -1;
        let tsEnd = -1;
        while (cur < spanEnd) {
          const f = cur;
          const t3 = readTag(data, spanEnd);
          if (stampTraceState) {
            if (t3 === TAG_TRACE_STATE) {
              const e = readEnd(data, spanEnd, 'trace_state');
              if (f > runStart) {
                ops.push(OP_COPY, runStart, f);
                spanLen += f - runStart;
              }
              if (tsSlot < 0) {
                tsSlot = ops.length;
                ops.push(OP_COPY, 0, 0);
              }
              tsField = f;
              tsValue = cur;
              tsEnd = e;
              runStart = e;
              cur = e;
              continue;
            }
            if (tsSlot < 0 && t3 >>> 3 > FIELD_TRACE_STATE) {
              if (f > runStart) {
                ops.push(OP_COPY, runStart, f);
                spanLen += f - runStart;
              }
              tsSlot = ops.length;
              ops.push(OP_COPY, 0, 0);
              runStart = f;
            }
          }
          if (t3 === TAG_ATTR && hasKeys) {
            const e = readEnd(data, spanEnd, 'attribute');
            if (keyMatches(data, e, keys)) {
              if (f > runStart) {
                ops.push(OP_COPY, runStart, f);
                spanLen += f - runStart;
              }
              runStart = e;
            }
            cur = e;
            continue;
          }
          skipValue(data, t3 & 7, spanEnd);
        }
        if (spanEnd > runStart) {
          ops.push(OP_COPY, runStart, spanEnd);
          spanLen += spanEnd - runStart;
        }
        if (stampTraceState) {
          if (tsSlot < 0) {
            tsSlot = ops.length;
            ops.push(OP_COPY, 0, 0);
          }
          const value = tsField < 0 ? threshold.forAbsent() : threshold.rewrite(data, tsValue, tsEnd);
          if (value === undefined) {
            // Left as it is: the (last) original field, at the slot.
            ops[tsSlot + 1] = tsField;
            ops[tsSlot + 2] = tsEnd;
            spanLen += tsEnd - tsField;
          } else {
            if (traceStates.length === 0 || traceStates[traceStates.length - 1] !== value) traceStates.push(value);
            ops[tsSlot] = OP_TRACE_STATE;
            ops[tsSlot + 1] = traceStates.length - 1;
            spanLen += 1 + varintSize(value.length) + value.length;
          }
        }
        ops.push(OP_BLOCK, 0, 0);
        spanLen += block.length;
        ops[spanHeader + 2] = spanLen;
        ssLen += 1 + varintSize(spanLen) + spanLen;
      }
      ops[ssHeader + 2] = ssLen;
      rsLen += 1 + varintSize(ssLen) + ssLen;
    }
    ops[rsHeader + 2] = rsLen;
    total += 1 + varintSize(rsLen) + rsLen;
  }
  const out = Buffer.allocUnsafe(total);
  const src = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  for (let i = 0; i < ops.length; i += 3) {
    const kind = ops[i];
    if (kind === OP_COPY) at += src.copy(out, at, ops[i + 1], ops[i + 2]);
    else if (kind === OP_HEADER) {
      out[at++] = ops[i + 1];
      at = writeVarint(out, at, ops[i + 2]);
    } else if (kind === OP_BLOCK) {
      out.set(block, at);
      at += block.length;
    } else {
      const value = traceStates[ops[i + 1]];
      out[at++] = TAG_TRACE_STATE;
      at = writeVarint(out, at, value.length);
      out.set(value, at);
      at += value.length;
    }
  }
  if (at !== total) throw new Error(`appendSpanAttributes: wrote ${at} bytes, planned ${total}`);
  return out;
}
