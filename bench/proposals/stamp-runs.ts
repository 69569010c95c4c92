// Proposal for pipeline/otlp/stamp.ts `appendSpanAttributes` (owned by the codec's engineer; not wired in):
// the same output, byte for byte, written in two passes into one buffer of the exact size, copying each
// span's kept bytes as ONE run instead of one Writer.raw(data.subarray(...)) per span field.
//
// Why: the CPU profile of the sampling tier (BENCHMARKS.md) shows appendSpanAttributes at ~16% of the
// sampler's busy time, most of it in Buffer#subarray + Writer bookkeeping per field (20-40 fields per
// span), plus the garbage those views leave for the GC. Measure: npx tsx bench/proposals/stamp-bench.ts

import { Writer } from 'protobufjs';
import type { AttrValue } from '../../pipeline/otlp';

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;
const TAG_F1_LEN = (1 << 3) | WT_LEN;
const TAG_F2_LEN = (2 << 3) | WT_LEN;
const TAG_ATTR = (9 << 3) | WT_LEN;

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

// A tiny cursor over the bytes: varints and field skipping without allocating.
let pos = 0;
function varint(b: Uint8Array, end: number): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end) throw new RangeError('truncated varint');
    const x = b[pos++];
    if (shift < 28) v |= (x & 0x7f) << shift;
    else v += (x & 0x7f) * 2 ** shift;
    if (x < 0x80) return v;
    shift += 7;
    if (shift > 63) throw new RangeError('varint too long');
  }
}
function lenEnd(b: Uint8Array, end: number): number {
  const n = varint(b, end);
  const e = pos + n;
  if (e > end) throw new RangeError('length past end');
  return e;
}
function skip(b: Uint8Array, wt: number, end: number): void {
  switch (wt) {
    case WT_VARINT: varint(b, end); return;
    case WT_I64: pos += 8; break;
    case WT_LEN: pos = lenEnd(b, end); return;
    case WT_I32: pos += 4; break;
    default: throw new RangeError(`unsupported wire type ${wt}`);
  }
  if (pos > end) throw new RangeError('field past end');
}
function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v > 0x7f) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}
function keyIs(b: Uint8Array, kvEnd: number, keys: readonly Uint8Array[]): boolean {
  while (pos < kvEnd) {
    const tag = varint(b, kvEnd);
    if (tag === TAG_F1_LEN) {
      const e = lenEnd(b, kvEnd);
      const len = e - pos;
      for (const k of keys) {
        if (k.length !== len) continue;
        let same = true;
        for (let i = 0; i < len; i++) if (b[pos + i] !== k[i]) { same = false; break; }
        if (same) return true;
      }
      pos = e;
    } else skip(b, tag & 7, kvEnd);
  }
  return false;
}

/**
 * appendSpanAttributesRuns: same contract and output as appendSpanAttributes. Ops is a flat plan from
 * pass 1: for every kept byte range [a, b) and every rewritten header (tag + new length), in output order.
 */
export function appendSpanAttributesRuns(data: Uint8Array, attrs: Readonly<Record<string, AttrValue>>): Uint8Array {
  const block = encodeAttributes(attrs);
  const keys = Object.keys(attrs).map((k) => Buffer.from(k, 'utf8'));
  // ops: [kind, x, y] kind 0 = copy data[x, y); kind 1 = header (tag x, length y); kind 2 = the block.
  const ops: number[] = [];
  const end = data.length;
  pos = 0;
  let total = 0;
  while (pos < end) {
    const fieldStart = pos;
    const tag = varint(data, end);
    if (tag !== TAG_F1_LEN) { skip(data, tag & 7, end); ops.push(0, fieldStart, pos); total += pos - fieldStart; continue; }
    const rsEnd = lenEnd(data, end);
    const rsHeader = ops.length;
    ops.push(1, TAG_F1_LEN, 0);
    let rsLen = 0;
    while (pos < rsEnd) {
      const rsField = pos;
      const t = varint(data, rsEnd);
      if (t !== TAG_F2_LEN) { skip(data, t & 7, rsEnd); ops.push(0, rsField, pos); rsLen += pos - rsField; continue; }
      const ssEnd = lenEnd(data, rsEnd);
      const ssHeader = ops.length;
      ops.push(1, TAG_F2_LEN, 0);
      let ssLen = 0;
      while (pos < ssEnd) {
        const ssField = pos;
        const t2 = varint(data, ssEnd);
        if (t2 !== TAG_F2_LEN) { skip(data, t2 & 7, ssEnd); ops.push(0, ssField, pos); ssLen += pos - ssField; continue; }
        const spanEnd = lenEnd(data, ssEnd);
        const spanHeader = ops.length;
        ops.push(1, TAG_F2_LEN, 0);
        let spanLen = 0;
        let runStart = pos;
        while (pos < spanEnd) {
          const f = pos;
          const t3 = varint(data, spanEnd);
          if (t3 === TAG_ATTR && keys.length > 0) {
            const e = lenEnd(data, spanEnd);
            if (keyIs(data, e, keys)) {
              if (f > runStart) { ops.push(0, runStart, f); spanLen += f - runStart; }
              runStart = e;
            }
            pos = e;
            continue;
          }
          skip(data, t3 & 7, spanEnd);
        }
        if (spanEnd > runStart) { ops.push(0, runStart, spanEnd); spanLen += spanEnd - runStart; }
        ops.push(2, 0, 0);
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
    if (kind === 0) at += src.copy(out, at, ops[i + 1], ops[i + 2]);
    else if (kind === 1) { out[at++] = ops[i + 1]; at = writeVarint(out, at, ops[i + 2]); }
    else { out.set(block, at); at += block.length; }
  }
  if (at !== total) throw new Error(`size mismatch ${at} != ${total}`);
  return out;
}
