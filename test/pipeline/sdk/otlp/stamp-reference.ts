// Test oracle for pipeline/sdk/otlp/stamp.ts appendSpanAttributes: the former single-pass implementation
// (protobufjs Reader + Writer, one Writer.raw per span field), kept verbatim so that the two-pass
// exact-size version can be checked byte for byte against it (stamp.test.ts), plus the trace_state
// rewrite written the simple way (collect the span's fields, then place the one trace_state field).
// Not used by the product.

import { OtlpDecodeError } from '../../../../pipeline/sdk/otlp/errors';
import { Writer, type Reader } from 'protobufjs';
import type { AttrValue } from '../../../../pipeline/sdk/otlp/wire';
import type { TraceStateThreshold } from '../../../../pipeline/sdk/otlp/tracestate';
import * as wire from '../../../../pipeline/sdk/otlp/wire';

const { asDecodeError, bytesEqual, newReader, readLen, skipField } = wire;
const { WT_VARINT, WT_I64, WT_LEN, TAG_F1_LEN, TAG_F2_LEN } = wire;

/** encodeAttributes encodes attributes as repeated Span.attributes (field 9) KeyValue entries. */
function encodeAttributes(attrs: Readonly<Record<string, AttrValue>>): Uint8Array {
  const w = Writer.create();
  for (const key of Object.keys(attrs)) {
    const v = attrs[key];
    w.uint32((9 << 3) | WT_LEN).fork();
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

/**
 * keyMatches tells whether the key of the KeyValue in [r.pos, end) is one of `keys`. A plain loop rather
 * than wire.nextLen: it runs for every span attribute, and this way V8 inlines the Reader calls (3% faster).
 */
function keyMatches(r: Reader, end: number, keys: readonly Uint8Array[]): boolean {
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_F1_LEN) {
      const e = readLen(r, end, 'key');
      const len = e - r.pos;
      for (const k of keys) if (k.length === len && bytesEqual(buf, r.pos, k, 0, len)) return true;
      r.pos = e;
    } else {
      skipField(r, tag & 7, end);
    }
  }
  return false;
}

/**
 * appendSpanAttributes returns a copy of an encoded ExportTraceServiceRequest where every span carries
 * `attrs` (integers as int_value, other numbers as double_value): an existing attribute with one of
 * these keys is removed and the new ones are appended after the span's other fields. Everything else,
 * including unknown fields and field order, stays byte-identical.
 * @throws OtlpDecodeError when the framing is truncated or malformed.
 */
export function appendSpanAttributesReference(
  data: Uint8Array,
  attrs: Readonly<Record<string, AttrValue>>,
  threshold?: TraceStateThreshold,
): Uint8Array {
  const block = encodeAttributes(attrs);
  const keys = Object.keys(attrs).map((k) => Buffer.from(k, 'utf8'));
  const w = Writer.create();
  const r = newReader(data);
  try {
    const end = data.length;
    while (r.pos < end) {
      const fieldStart = r.pos;
      const tag = r.uint32();
      if (tag !== TAG_F1_LEN) {
        skipField(r, tag & 7, end);
        w.raw(data.subarray(fieldStart, r.pos));
        continue;
      }
      const rsEnd = readLen(r, end, 'resource entry');
      w.uint32(TAG_F1_LEN).fork();
      while (r.pos < rsEnd) {
        const rsField = r.pos;
        const t = r.uint32();
        if (t !== TAG_F2_LEN) {
          skipField(r, t & 7, rsEnd);
          w.raw(data.subarray(rsField, r.pos));
          continue;
        }
        const ssEnd = readLen(r, rsEnd, 'scope entry');
        w.uint32(TAG_F2_LEN).fork();
        while (r.pos < ssEnd) {
          const ssField = r.pos;
          const t2 = r.uint32();
          if (t2 !== TAG_F2_LEN) {
            skipField(r, t2 & 7, ssEnd);
            w.raw(data.subarray(ssField, r.pos));
            continue;
          }
          const spanEnd = readLen(r, ssEnd, 'span');
          w.uint32(TAG_F2_LEN).fork();
          if (threshold !== undefined) {
            writeSpanWithTraceState(r, data, spanEnd, keys, threshold, w);
            w.raw(block);
            w.ldelim();
            continue;
          }
          while (r.pos < spanEnd) {
            const spanField = r.pos;
            const t3 = r.uint32();
            if (t3 === ((9 << 3) | WT_LEN) && keys.length > 0) {
              const e = readLen(r, spanEnd, 'attribute');
              const replaced = keyMatches(r, e, keys);
              r.pos = e;
              if (!replaced) w.raw(data.subarray(spanField, e));
              continue;
            }
            skipField(r, t3 & 7, spanEnd);
            w.raw(data.subarray(spanField, r.pos));
          }
          w.raw(block);
          w.ldelim();
        }
        w.ldelim();
      }
      w.ldelim();
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return w.finish();
}

const TAG_TRACE_STATE = (3 << 3) | WT_LEN;

/** One top-level field of a span: its byte range, number and tag, and (length-delimited) its value's range. */
interface SpanField {
  start: number;
  end: number;
  fieldNo: number;
  tag: number;
  valueStart: number;
}

/**
 * writeSpanWithTraceState writes the fields of the span in [r.pos, spanEnd) without the replaced
 * attributes, with ONE trace_state field (the last one's value rewritten by `threshold`, or the last
 * one as it is when the rewrite leaves it) placed where the first trace_state field or the first field
 * numbered above 3 stands, whichever comes first (else at the end).
 */
function writeSpanWithTraceState(
  r: Reader,
  data: Uint8Array,
  spanEnd: number,
  keys: readonly Uint8Array[],
  threshold: TraceStateThreshold,
  w: Writer,
): void {
  const fields: SpanField[] = [];
  while (r.pos < spanEnd) {
    const start = r.pos;
    const tag = r.uint32();
    let valueStart = r.pos;
    if ((tag & 7) === WT_LEN) {
      const e = readLen(r, spanEnd, 'field');
      valueStart = r.pos;
      r.pos = e;
    } else {
      skipField(r, tag & 7, spanEnd);
    }
    fields.push({ start, end: r.pos, fieldNo: tag >>> 3, tag, valueStart });
  }
  const traceStates = fields.filter((f) => f.tag === TAG_TRACE_STATE);
  const last = traceStates[traceStates.length - 1];
  const value = last === undefined ? threshold.forAbsent() : threshold.rewrite(data, last.valueStart, last.end);
  const firstTraceState = fields.findIndex((f) => f.tag === TAG_TRACE_STATE);
  const firstAbove3 = fields.findIndex((f) => f.fieldNo > 3 && f.tag !== TAG_TRACE_STATE);
  const at = Math.min(...[firstTraceState, firstAbove3, fields.length].filter((i) => i >= 0));
  const writeTraceState = () => {
    if (value !== undefined) w.uint32(TAG_TRACE_STATE).bytes(value);
    else w.raw(data.subarray(last!.start, last!.end));
  };
  fields.forEach((f, i) => {
    if (i === at) writeTraceState();
    if (f.tag === TAG_TRACE_STATE) return;
    if (f.tag === ((9 << 3) | WT_LEN) && keys.length > 0) {
      const kv = newReader(data);
      kv.pos = f.valueStart;
      if (keyMatches(kv, f.end, keys)) return;
    }
    w.raw(data.subarray(f.start, f.end));
  });
  if (at === fields.length) writeTraceState();
}

/** Outcome of one stamping call: the bytes, or the OtlpDecodeError it threw (anything else is rethrown). */
export type Outcome = { bytes: Buffer } | { error: OtlpDecodeError };

/** outcome runs a stamping call and captures its Outcome, so two implementations can be compared. */
export function outcome(fn: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(fn()) };
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    return { error: err };
  }
}

/** mutate damages a request for the robustness comparisons: truncated, bytes flipped, or a slice cut out (by iter % 3). */
export function mutate(src: Buffer, iter: number, rand: () => number): Buffer {
  if (iter % 3 === 0) return src.subarray(0, Math.floor(rand() * src.length));
  if (iter % 3 === 1) {
    const input = Buffer.from(src);
    for (let m = 0; m < 1 + Math.floor(rand() * 3); m++)
      input[Math.floor(rand() * input.length)] = Math.floor(rand() * 256);
    return input;
  }
  const a = Math.floor(rand() * src.length);
  return Buffer.concat([src.subarray(0, a), src.subarray(a + 1 + Math.floor(rand() * 20))]);
}
