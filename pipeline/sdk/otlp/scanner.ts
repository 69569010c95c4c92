// The hot-path OTLP scanner: splits ExportTraceServiceRequest / ExportLogsServiceRequest bytes into
// one chunk per trace id with protobufjs Reader primitives, without decoding spans into objects
// (architecture.md, contract 5: spans stay bytes on the hot path). Its siblings index spans (span-index.ts)
// and re-frame or count them (stamp.ts); all are exported through index.ts.

import type { Reader } from 'protobufjs';
import type { FramedBytes, LogChunk, TraceChunk } from '../trace-batch';
import * as wire from './wire';
import type { Shape } from './wire';

// Hot helpers and constants bound to module-local names once: calls through a module namespace (CommonJS
// getters when run through a transpiler) would cost a property lookup or a getter call per span field.
const {
  asDecodeError,
  bytesEqual,
  checkUtf8,
  hexOf,
  isAllZero,
  isCanonicalKeyValue,
  malformed,
  newReader,
  readLen,
  shape,
  skipField,
  validateMessage,
  varintSize,
  writeVarint,
} = wire;
const { InvalidUtf8Error } = wire;
const { WT_LEN, TAG_F1_LEN, TAG_F2_LEN, MAX_DEPTH } = wire;

/** TraceSplitResult is the outcome of splitting one trace export request. */
export interface TraceSplitResult {
  /** One chunk per trace id, in order of first appearance. */
  chunks: TraceChunk[];
  /** Spans placed in a chunk. */
  acceptedSpans: number;
  /** Spans dropped for invalid trace or span ids (report them in OTLP partial_success). */
  rejectedSpans: number;
  /** Why spans were rejected, one line; set when rejectedSpans > 0. */
  rejectReason?: string;
  /** The rejected spans by cause; set when rejectedSpans > 0. */
  rejectedBy?: RejectedCounts;
}

/** RejectedCounts splits the rejected spans or records of a request by cause (they add up to the total). */
export interface RejectedCounts {
  /** Rejected for an invalid trace id or span id. */
  readonly invalidId: number;
  /** Rejected for a string field that is not valid UTF-8. */
  readonly invalidUtf8: number;
}

/** LogSplitResult is the outcome of splitting one logs export request. */
export interface LogSplitResult {
  /** One chunk per trace id ('' for records outside any trace), in order of first appearance. */
  chunks: LogChunk[];
  acceptedRecords: number;
  rejectedRecords: number;
  rejectReason?: string;
  /** The rejected records by cause; set when rejectedRecords > 0. */
  rejectedBy?: RejectedCounts;
}

interface Layout {
  readonly request: Shape;
  readonly resource: Shape;
  readonly scope: Shape;
  readonly record: Shape;
  /** Field numbers of the record's trace id and span id. */
  readonly traceIdField: number;
  readonly spanIdField: number;
  /** Traces: ids are mandatory; logs: ids are optional (missing or zero trace id -> chunk ''). */
  readonly idsRequired: boolean;
  readonly noun: string;
}

let traceLayout: Layout | undefined;
let logLayout: Layout | undefined;

function traces(): Layout {
  return (traceLayout ??= {
    request: shape('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    resource: shape('opentelemetry.proto.trace.v1.ResourceSpans'),
    scope: shape('opentelemetry.proto.trace.v1.ScopeSpans'),
    record: shape('opentelemetry.proto.trace.v1.Span'),
    traceIdField: 1,
    spanIdField: 2,
    idsRequired: true,
    noun: 'span',
  });
}

function logs(): Layout {
  return (logLayout ??= {
    request: shape('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    resource: shape('opentelemetry.proto.logs.v1.ResourceLogs'),
    scope: shape('opentelemetry.proto.logs.v1.ScopeLogs'),
    record: shape('opentelemetry.proto.logs.v1.LogRecord'),
    traceIdField: 9,
    spanIdField: 10,
    idsRequired: false,
    noun: 'log record',
  });
}

/**
 * Group collects the records of one trace id: flattened triples (record start, record end, scope
 * ordinal) in document order, so scope and resource ordinals never decrease.
 */
interface Group {
  readonly traceId: string;
  readonly ranges: number[];
  count: number;
}

/** Parse state of one request: headers (every field but the repeated children) of resources and scopes. */
interface SplitState {
  readonly data: Uint8Array;
  readonly layout: Layout;
  /** Per resource ordinal: flattened [start, end) ranges of its non-scope fields, and their total length. */
  readonly resHdr: number[][];
  readonly resHdrLen: number[];
  /** Per scope ordinal: its resource ordinal, flattened header ranges, total header length. */
  readonly scopeRes: number[];
  readonly scopeHdr: number[][];
  readonly scopeHdrLen: number[];
  readonly groups: Map<string, Group>;
  readonly order: Group[];
  last: Group | undefined;
  lastIdStart: number;
  lastIdLen: number;
  accepted: number;
  badTraceId: number;
  badSpanId: number;
  /** Records with a string that is not valid UTF-8, and the first such field's name. */
  badUtf8: number;
  badUtf8Field: string;
}

/**
 * validateField checks one field whose tag was just read against `s` and moves past it. It is the loop
 * body of wire.ts `validateMessage`, kept as a copy on purpose (see there: sharing it costs the split
 * 7-12%); change both together.
 */
function validateField(r: Reader, tag: number, end: number, s: Shape, depth: number): void {
  const fno = tag >>> 3;
  const wt = tag & 7;
  if (fno === 0) throw malformed('field number 0', r.pos);
  const expected = fno < s.wire.length ? s.wire[fno] : -1;
  if (expected === -1) {
    skipField(r, wt, end);
    return;
  }
  if (expected !== wt) throw malformed(`${s.name} field ${fno} has wire type ${wt}, expected ${expected}`, r.pos);
  if (wt !== WT_LEN) {
    skipField(r, wt, end);
    return;
  }
  const len = r.size();
  const fieldEnd = r.pos + len;
  if (fieldEnd > end) throw malformed(`${s.name} field ${fno} runs past the end of its message`, r.pos);
  const nested = s.nested[fno];
  if (nested !== undefined) {
    if (nested.isKeyValue && depth + 2 <= MAX_DEPTH && isCanonicalKeyValue(r.buf, r.pos, fieldEnd)) r.pos = fieldEnd;
    else validateMessage(r, fieldEnd, nested, depth + 1);
  } else {
    if (s.str[fno] === 1) checkUtf8(r.buf, r.pos, fieldEnd, s, fno);
    r.pos = fieldEnd;
  }
}
function pushRange(ranges: number[], start: number, end: number): number {
  const n = ranges.length;
  if (n > 0 && ranges[n - 1] === start) ranges[n - 1] = end;
  else ranges.push(start, end);
  return end - start;
}

function splitRequest(data: Uint8Array, layout: Layout): SplitState {
  const st: SplitState = {
    data,
    layout,
    resHdr: [],
    resHdrLen: [],
    scopeRes: [],
    scopeHdr: [],
    scopeHdrLen: [],
    groups: new Map(),
    order: [],
    last: undefined,
    lastIdStart: 0,
    lastIdLen: -1,
    accepted: 0,
    badTraceId: 0,
    badSpanId: 0,
    badUtf8: 0,
    badUtf8Field: '',
  };
  const r = newReader(data);
  try {
    const end = data.length;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === TAG_F1_LEN) {
        const rsEnd = readLen(r, end, 'resource entry');
        splitResource(st, r, rsEnd);
      } else {
        validateField(r, tag, end, layout.request, 0);
      }
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return st;
}

function splitResource(st: SplitState, r: Reader, end: number): void {
  const layout = st.layout;
  const resOrd = st.resHdr.length;
  const hdr: number[] = [];
  let hdrLen = 0;
  st.resHdr.push(hdr);
  st.resHdrLen.push(0);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.uint32();
    if (tag === TAG_F2_LEN) {
      const ssEnd = readLen(r, end, 'scope entry');
      splitScope(st, r, ssEnd, resOrd);
    } else {
      validateField(r, tag, end, layout.resource, 1);
      hdrLen += pushRange(hdr, fieldStart, r.pos);
    }
  }
  st.resHdrLen[resOrd] = hdrLen;
}

function splitScope(st: SplitState, r: Reader, end: number, resOrd: number): void {
  const layout = st.layout;
  const scopeOrd = st.scopeRes.length;
  const hdr: number[] = [];
  let hdrLen = 0;
  st.scopeRes.push(resOrd);
  st.scopeHdr.push(hdr);
  st.scopeHdrLen.push(0);
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.uint32();
    if (tag === TAG_F2_LEN) {
      const recEnd = readLen(r, end, layout.noun);
      splitRecord(st, r, recEnd, scopeOrd);
    } else {
      validateField(r, tag, end, layout.scope, 2);
      hdrLen += pushRange(hdr, fieldStart, r.pos);
    }
  }
  st.scopeHdrLen[scopeOrd] = hdrLen;
}

function splitRecord(st: SplitState, r: Reader, end: number, scopeOrd: number): void {
  const layout = st.layout;
  const data = st.data;
  const start = r.pos;
  const traceTag = (layout.traceIdField << 3) | WT_LEN;
  const spanTag = (layout.spanIdField << 3) | WT_LEN;
  let traceStart = 0;
  let traceLen = 0;
  let spanStart = 0;
  let spanLen = 0;
  try {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === traceTag) {
        const fieldEnd = readLen(r, end, 'trace_id');
        traceStart = r.pos;
        traceLen = fieldEnd - traceStart;
        r.pos = fieldEnd;
      } else if (tag === spanTag) {
        const fieldEnd = readLen(r, end, 'span_id');
        spanStart = r.pos;
        spanLen = fieldEnd - spanStart;
        r.pos = fieldEnd;
      } else {
        validateField(r, tag, end, layout.record, 3);
      }
    }
  } catch (err) {
    // A string that is not valid UTF-8 costs this record only (partial success): its bytes go into no chunk,
    // and its end was checked against its parent's, so the rest of the request frames as before.
    if (!(err instanceof InvalidUtf8Error)) throw err;
    if (st.badUtf8++ === 0) st.badUtf8Field = err.field;
    r.pos = end;
    return;
  }

  // Id checks: traces need a 16-byte non-zero trace id and an 8-byte non-zero span id; log records may
  // have neither (trace '' then), but ids that are present must have the right length.
  const noTrace = traceLen === 0 || (traceLen === 16 && isAllZero(data, traceStart, 16));
  if (layout.idsRequired ? noTrace || traceLen !== 16 : traceLen !== 0 && traceLen !== 16) {
    st.badTraceId++;
    return;
  }
  if (layout.idsRequired ? spanLen !== 8 || isAllZero(data, spanStart, 8) : spanLen !== 0 && spanLen !== 8) {
    st.badSpanId++;
    return;
  }
  if (noTrace) traceLen = 0;

  let g = st.last;
  if (g === undefined || st.lastIdLen !== traceLen || !bytesEqual(data, st.lastIdStart, data, traceStart, traceLen)) {
    const traceId = traceLen === 0 ? '' : hexOf(data, traceStart, 16);
    g = st.groups.get(traceId);
    if (g === undefined) {
      g = { traceId, ranges: [], count: 0 };
      st.groups.set(traceId, g);
      st.order.push(g);
    }
    st.last = g;
    st.lastIdStart = traceStart;
    st.lastIdLen = traceLen;
  }
  g.ranges.push(start, end, scopeOrd);
  g.count++;
  st.accepted++;
}

/** Scratch space for the sizes of nested entries while framing one chunk (reused: framing is synchronous). */
const sizes: number[] = [];

function copyRange(out: Uint8Array, pos: number, src: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len < 64) {
    for (let i = 0; i < len; i++) out[pos + i] = src[start + i];
  } else {
    out.set(src.subarray(start, end), pos);
  }
  return pos + len;
}

function copyRanges(out: Uint8Array, pos: number, src: Uint8Array, ranges: number[]): number {
  for (let i = 0; i < ranges.length; i += 2) pos = copyRange(out, pos, src, ranges[i], ranges[i + 1]);
  return pos;
}

/**
 * groupSize returns the bytes of one group framed as a request (see writeGroup), leaving the sizes of its
 * resource and scope entries in `sizes` for writeGroup.
 */
function groupSize(st: SplitState, g: Group): number {
  const ranges = g.ranges;
  const n = ranges.length;
  sizes.length = 0;
  let total = 0;
  for (let i = 0; i < n;) {
    const res = st.scopeRes[ranges[i + 2]];
    const resSlot = sizes.length;
    sizes.push(0);
    let resInner = st.resHdrLen[res];
    while (i < n && st.scopeRes[ranges[i + 2]] === res) {
      const sc = ranges[i + 2];
      let scInner = st.scopeHdrLen[sc];
      for (; i < n && ranges[i + 2] === sc; i += 3) {
        const len = ranges[i + 1] - ranges[i];
        scInner += 1 + varintSize(len) + len;
      }
      sizes.push(scInner);
      resInner += 1 + varintSize(scInner) + scInner;
    }
    sizes[resSlot] = resInner;
    total += 1 + varintSize(resInner) + resInner;
  }
  return total;
}

/**
 * writeGroup re-frames the records of one group as a request into `out` at `pos`: for each run of records
 * under the same resource and scope, the resource's and scope's header fields followed by the records. It
 * returns the offset after them.
 */
function writeGroup(st: SplitState, g: Group, out: Uint8Array, pos: number): number {
  const total = groupSize(st, g);
  const start = pos;
  const ranges = g.ranges;
  const n = ranges.length;
  const data = st.data;
  let slot = 0;
  for (let i = 0; i < n;) {
    const res = st.scopeRes[ranges[i + 2]];
    out[pos++] = TAG_F1_LEN;
    pos = writeVarint(out, pos, sizes[slot++]);
    pos = copyRanges(out, pos, data, st.resHdr[res]);
    while (i < n && st.scopeRes[ranges[i + 2]] === res) {
      const sc = ranges[i + 2];
      out[pos++] = TAG_F2_LEN;
      pos = writeVarint(out, pos, sizes[slot++]);
      pos = copyRanges(out, pos, data, st.scopeHdr[sc]);
      for (; i < n && ranges[i + 2] === sc; i += 3) {
        const s = ranges[i];
        const e = ranges[i + 1];
        out[pos++] = TAG_F2_LEN;
        pos = writeVarint(out, pos, e - s);
        pos = copyRange(out, pos, data, s, e);
      }
    }
  }
  if (pos - start !== total) throw new Error(`internal: framed ${pos - start} bytes, expected ${total}`);
  return pos;
}

/**
 * FramedGroup is the chunk of one group: its bytes are framed from the request on first use of `data`, or
 * written straight into another buffer by copyTo (FramedBytes) without being built on their own. Until
 * `data` is built it keeps the request's bytes alive; after, only its own. `data` is an own enumerable
 * accessor, so a copy made with object spread (`{ ...chunk, eventTime }`) gets the bytes and not the request.
 */
class FramedGroup implements FramedBytes {
  declare readonly data: Uint8Array;
  readonly byteLength: number;
  #data: Uint8Array | undefined;
  #st: SplitState | undefined;
  #group: Group | undefined;

  constructor(
    readonly traceId: string,
    st: SplitState,
    group: Group,
  ) {
    this.#st = st;
    this.#group = group;
    this.byteLength = groupSize(st, group);
    Object.defineProperty(this, 'data', DATA_PROPERTY);
  }

  /** bytes returns the chunk's bytes (an Export*ServiceRequest), built on first use. */
  bytes(): Uint8Array {
    if (this.#data === undefined) {
      const out = Buffer.allocUnsafe(this.byteLength);
      writeGroup(this.#st!, this.#group!, out, 0);
      this.#data = out;
      this.#st = undefined;
      this.#group = undefined;
    }
    return this.#data;
  }

  copyTo(out: Uint8Array, offset: number): number {
    if (this.#data !== undefined) {
      out.set(this.#data, offset);
      return offset + this.byteLength;
    }
    return writeGroup(this.#st!, this.#group!, out, offset);
  }
}

/** The `data` accessor of every FramedGroup (one shared descriptor: the objects keep one shape). */
const DATA_PROPERTY: PropertyDescriptor = {
  get(this: FramedGroup): Uint8Array {
    return this.bytes();
  },
  enumerable: true,
};

/** FramedTraceChunk is a TraceChunk split from a request (see FramedGroup). */
class FramedTraceChunk extends FramedGroup implements TraceChunk {
  constructor(
    traceId: string,
    st: SplitState,
    group: Group,
    readonly spanCount: number,
  ) {
    super(traceId, st, group);
  }
}

/** FramedLogChunk is a LogChunk split from a request (see FramedGroup). */
class FramedLogChunk extends FramedGroup implements LogChunk {
  constructor(
    traceId: string,
    st: SplitState,
    group: Group,
    readonly recordCount: number,
  ) {
    super(traceId, st, group);
  }
}

function rejectedBy(st: SplitState): RejectedCounts {
  return { invalidId: st.badTraceId + st.badSpanId, invalidUtf8: st.badUtf8 };
}

function rejectReason(st: SplitState): string | undefined {
  const noun = st.layout.noun;
  const parts: string[] = [];
  if (st.badTraceId > 0) {
    parts.push(
      st.layout.idsRequired
        ? `${st.badTraceId} ${noun}(s) with an invalid trace_id (must be 16 bytes, not all zero)`
        : `${st.badTraceId} ${noun}(s) with an invalid trace_id (must be empty or 16 bytes)`,
    );
  }
  if (st.badSpanId > 0) {
    parts.push(
      st.layout.idsRequired
        ? `${st.badSpanId} ${noun}(s) with an invalid span_id (must be 8 bytes, not all zero)`
        : `${st.badSpanId} ${noun}(s) with an invalid span_id (must be empty or 8 bytes)`,
    );
  }
  if (st.badUtf8 > 0) {
    parts.push(`${st.badUtf8} ${noun}(s) with a string that is not valid UTF-8 (first: ${st.badUtf8Field})`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * splitTracesByTraceId splits an encoded ExportTraceServiceRequest into one TraceChunk per trace id.
 * Each chunk is a valid ExportTraceServiceRequest holding only that trace's spans, under copies of the
 * header fields (resource, scope, schema urls, unknown fields) of the entries they came from; span bytes
 * are copied unchanged. Every tag of the request is checked (wire types, lengths, nesting, UTF-8 of every
 * string field). Spans with an invalid trace id (not 16 bytes, all zero), span id (not 8 bytes, all zero)
 * or a string that is not valid UTF-8 are rejected and counted (partial success).
 * @throws OtlpDecodeError when the bytes are not a well-formed request (truncated, wrong wire types, garbage),
 * or a resource or scope string is not valid UTF-8 (it would spoil every span under it).
 */
export function splitTracesByTraceId(request: Uint8Array): TraceSplitResult {
  const st = splitRequest(request, traces());
  const chunks: TraceChunk[] = new Array(st.order.length);
  for (let i = 0; i < st.order.length; i++) {
    const g = st.order[i];
    chunks[i] = new FramedTraceChunk(g.traceId, st, g, g.count);
  }
  const rejected = st.badTraceId + st.badSpanId + st.badUtf8;
  const result: TraceSplitResult = { chunks, acceptedSpans: st.accepted, rejectedSpans: rejected };
  if (rejected > 0) {
    result.rejectReason = rejectReason(st);
    result.rejectedBy = rejectedBy(st);
  }
  return result;
}

/**
 * splitLogsByTraceId splits an encoded ExportLogsServiceRequest into one LogChunk per trace id; records
 * without a trace id (empty or all zero) go to the chunk with traceId ''. Records whose trace id is not
 * empty/16 bytes, whose span id is not empty/8 bytes or with a string that is not valid UTF-8 are rejected
 * and counted.
 * @throws OtlpDecodeError when the bytes are not a well-formed request.
 */
export function splitLogsByTraceId(request: Uint8Array): LogSplitResult {
  const st = splitRequest(request, logs());
  const chunks: LogChunk[] = new Array(st.order.length);
  for (let i = 0; i < st.order.length; i++) {
    const g = st.order[i];
    chunks[i] = new FramedLogChunk(g.traceId, st, g, g.count);
  }
  const rejected = st.badTraceId + st.badSpanId + st.badUtf8;
  const result: LogSplitResult = { chunks, acceptedRecords: st.accepted, rejectedRecords: rejected };
  if (rejected > 0) {
    result.rejectReason = rejectReason(st);
    result.rejectedBy = rejectedBy(st);
  }
  return result;
}
