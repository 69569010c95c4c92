// The hot-path OTLP scanner: splits ExportTraceServiceRequest / ExportLogsServiceRequest bytes into
// one chunk per trace id, indexes the few span fields sampling decisions need, and appends attributes
// to every span, all with protobufjs Reader/Writer primitives and without decoding spans into objects
// (architecture.md, contract 5: spans stay bytes on the hot path).

import { Writer, type Reader } from 'protobufjs';
import type { LogChunk, TraceChunk } from '../trace-batch';
import * as wire from './wire';
import type { Shape } from './wire';

// Hot helpers bound to module-local names once: calls through a module namespace (CommonJS getters when
// run through a transpiler) would cost a property lookup or a getter call per span field.
const { asDecodeError, bytesEqual, hexOf, isAllZero, malformed, newReader, readUtf8, shape, skipField, validateMessage, varintSize, writeVarint } = wire;

// Protobuf wire types, as local literals so `case` labels fold to constants.
const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;

/** AttrValue is the value of an indexed attribute: strings, numbers (int64 and double) and booleans. */
export type AttrValue = string | number | boolean;

/** SpanIndex is what the sampler needs to know about one span, read straight from its bytes. */
export interface SpanIndex {
  /** Lowercase 32-char hex trace id. */
  traceId: string;
  /** Lowercase 16-char hex span id. */
  spanId: string;
  /** Lowercase 16-char hex parent span id, '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind number (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer). */
  kind: number;
  /** Start time in integer microseconds since the Unix epoch (nanoseconds / 1000, floored; exact up to 2^53 µs, year 2255). */
  startUs: number;
  /** End time in integer microseconds since the Unix epoch. */
  endUs: number;
  /** OTLP status code: 0 unset, 1 ok, 2 error (unknown codes read as 0). */
  statusCode: 0 | 1 | 2;
  /** The resource's `service.name` string attribute, or ''. */
  service: string;
  /** W3C trace state, '' when absent. */
  traceState: string;
  /**
   * The attributes asked for by `wantAttributes`, span attributes overriding resource attributes; absent
   * when no attributes were asked for. Arrays and kvlists are rendered as JSON text, bytes as hex.
   */
  attributes?: Record<string, AttrValue>;
}

/** SplitResult is the outcome of splitting one trace export request. */
export interface SplitResult {
  /** One chunk per trace id, in order of first appearance. */
  chunks: TraceChunk[];
  /** Spans placed in a chunk. */
  acceptedSpans: number;
  /** Spans dropped for invalid trace or span ids (report them in OTLP partial_success). */
  rejectedSpans: number;
  /** Why spans were rejected, one line; set when rejectedSpans > 0. */
  rejectReason?: string;
}

/** LogSplitResult is the outcome of splitting one logs export request. */
export interface LogSplitResult {
  /** One chunk per trace id ('' for records outside any trace), in order of first appearance. */
  chunks: LogChunk[];
  acceptedRecords: number;
  rejectedRecords: number;
  rejectReason?: string;
}

// Field numbers shared by both signals: request.resource_X = 1, ResourceX.scope_X = 2, ScopeX.records = 2.
const TAG_F1_LEN = (1 << 3) | WT_LEN; // 0x0a
const TAG_F2_LEN = (2 << 3) | WT_LEN; // 0x12

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
}

/** validateField checks one field whose tag was just read against `s` and moves past it. */
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
  if (nested !== undefined) validateMessage(r, fieldEnd, nested, depth + 1);
  else r.pos = fieldEnd;
}

/** readLen reads a length prefix and returns the end offset of the field, which must lie within `end`. */
function readLen(r: Reader, end: number, what: string): number {
  const len = r.size();
  const fieldEnd = r.pos + len;
  if (fieldEnd > end) throw malformed(`${what} runs past the end of its message`, r.pos);
  return fieldEnd;
}

function pushRange(ranges: number[], start: number, end: number): number {
  const n = ranges.length;
  if (n > 0 && ranges[n - 1] === start) ranges[n - 1] = end;
  else ranges.push(start, end);
  return end - start;
}

function splitRequest(data: Uint8Array, layout: Layout): SplitState {
  const st: SplitState = {
    data, layout, resHdr: [], resHdrLen: [], scopeRes: [], scopeHdr: [], scopeHdrLen: [], groups: new Map(), order: [],
    last: undefined, lastIdStart: 0, lastIdLen: -1, accepted: 0, badTraceId: 0, badSpanId: 0,
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
 * frameGroup re-frames the records of one group as a request: for each run of records under the same
 * resource and scope, the resource's and scope's header fields followed by the records. Sizes are
 * computed first, so the chunk is written once into a buffer of the exact size.
 */
function frameGroup(st: SplitState, g: Group): Uint8Array {
  const ranges = g.ranges;
  const n = ranges.length;
  sizes.length = 0;
  let total = 0;
  for (let i = 0; i < n; ) {
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

  const data = st.data;
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  let slot = 0;
  for (let i = 0; i < n; ) {
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
  if (pos !== total) throw new Error(`internal: framed ${pos} bytes, expected ${total}`);
  return out;
}

function rejectReason(st: SplitState): string | undefined {
  const noun = st.layout.noun;
  const parts: string[] = [];
  if (st.badTraceId > 0) {
    parts.push(st.layout.idsRequired
      ? `${st.badTraceId} ${noun}(s) with an invalid trace_id (must be 16 bytes, not all zero)`
      : `${st.badTraceId} ${noun}(s) with an invalid trace_id (must be empty or 16 bytes)`);
  }
  if (st.badSpanId > 0) {
    parts.push(st.layout.idsRequired
      ? `${st.badSpanId} ${noun}(s) with an invalid span_id (must be 8 bytes, not all zero)`
      : `${st.badSpanId} ${noun}(s) with an invalid span_id (must be empty or 8 bytes)`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * splitTracesByTraceId splits an encoded ExportTraceServiceRequest into one TraceChunk per trace id.
 * Each chunk is a valid ExportTraceServiceRequest holding only that trace's spans, under copies of the
 * header fields (resource, scope, schema urls, unknown fields) of the entries they came from; span bytes
 * are copied unchanged. Every tag of the request is checked (wire types, lengths, nesting). Spans with an
 * invalid trace id (not 16 bytes, all zero) or span id (not 8 bytes, all zero) are rejected and counted.
 * @throws OtlpDecodeError when the bytes are not a well-formed request (truncated, wrong wire types, garbage).
 */
export function splitTracesByTraceId(request: Uint8Array): SplitResult {
  const st = splitRequest(request, traces());
  const chunks: TraceChunk[] = new Array(st.order.length);
  for (let i = 0; i < st.order.length; i++) {
    const g = st.order[i];
    chunks[i] = { traceId: g.traceId, data: frameGroup(st, g), spanCount: g.count };
  }
  const rejected = st.badTraceId + st.badSpanId;
  const result: SplitResult = { chunks, acceptedSpans: st.accepted, rejectedSpans: rejected };
  if (rejected > 0) result.rejectReason = rejectReason(st);
  return result;
}

/**
 * splitLogsByTraceId splits an encoded ExportLogsServiceRequest into one LogChunk per trace id; records
 * without a trace id (empty or all zero) go to the chunk with traceId ''. Records whose trace id is not
 * empty/16 bytes or whose span id is not empty/8 bytes are rejected and counted.
 * @throws OtlpDecodeError when the bytes are not a well-formed request.
 */
export function splitLogsByTraceId(request: Uint8Array): LogSplitResult {
  const st = splitRequest(request, logs());
  const chunks: LogChunk[] = new Array(st.order.length);
  for (let i = 0; i < st.order.length; i++) {
    const g = st.order[i];
    chunks[i] = { traceId: g.traceId, data: frameGroup(st, g), recordCount: g.count };
  }
  const rejected = st.badTraceId + st.badSpanId;
  const result: LogSplitResult = { chunks, acceptedRecords: st.accepted, rejectedRecords: rejected };
  if (rejected > 0) result.rejectReason = rejectReason(st);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Index

const SERVICE_NAME = Buffer.from('service.name');

/** WantedKeys holds the attribute keys asked for, as UTF-8 bytes, so keys are matched without decoding them. */
interface WantedKeys {
  readonly names: readonly string[];
  readonly bytes: readonly Uint8Array[];
  readonly size: number;
}

const wantedCache = new WeakMap<ReadonlySet<string>, WantedKeys>();

function wantedKeys(want: ReadonlySet<string> | undefined): WantedKeys | undefined {
  if (want === undefined || want.size === 0) return undefined;
  const cached = wantedCache.get(want);
  if (cached !== undefined && cached.size === want.size && cached.names.every((k) => want.has(k))) return cached;
  const names = [...want];
  const w: WantedKeys = { names, bytes: names.map((k) => Buffer.from(k, 'utf8')), size: names.length };
  wantedCache.set(want, w);
  return w;
}

/** matchWanted returns the index of the wanted key equal to buf[start, start+len), or -1. */
function matchWanted(want: WantedKeys, buf: Uint8Array, start: number, len: number): number {
  const bytes = want.bytes;
  for (let i = 0; i < bytes.length; i++) {
    const k = bytes[i];
    if (k.length === len && bytesEqual(buf, start, k, 0, len)) return i;
  }
  return -1;
}

/** Resource facts shared by every span under it. */
interface ResourceInfo {
  service: string;
  attributes: Record<string, AttrValue> | undefined;
}

/** nanosToMicros converts fixed64 nanoseconds (two uint32 halves) to integer microseconds, exactly. */
function nanosToMicros(lo: number, hi: number): number {
  const a = Math.floor(hi / 1000);
  const b = hi - a * 1000;
  return a * 4294967296 + Math.floor((b * 4294967296 + lo) / 1000);
}

/** readInt64 reads a varint as a signed 64-bit number (precision beyond 2^53 is lost). */
function readInt64(r: Reader): number {
  const v = r.int64();
  return (v.high | 0) * 4294967296 + (v.low >>> 0);
}

/** readAnyValue decodes an AnyValue in [r.pos, end) to an AttrValue (undefined when empty). */
function readAnyValue(r: Reader, end: number): AttrValue | undefined {
  let value: AttrValue | undefined;
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WT_LEN: {
        const e = readLen(r, end, 'string_value');
        value = readUtf8(buf, r.pos, e);
        r.pos = e;
        break;
      }
      case (2 << 3) | WT_VARINT:
        value = r.bool();
        break;
      case (3 << 3) | WT_VARINT:
        value = readInt64(r);
        break;
      case (4 << 3) | WT_I64:
        value = r.double();
        break;
      case (5 << 3) | WT_LEN:
      case (6 << 3) | WT_LEN: {
        const e = readLen(r, end, 'array_value');
        value = JSON.stringify(readComposite(r, e, tag >>> 3 === 6, 0));
        r.pos = e;
        break;
      }
      case (7 << 3) | WT_LEN: {
        const e = readLen(r, end, 'bytes_value');
        value = hexOf(buf, r.pos, e - r.pos);
        r.pos = e;
        break;
      }
      default:
        skipField(r, tag & 7, end);
    }
    if (r.pos > end) throw malformed('AnyValue overruns its length', r.pos);
  }
  return value;
}

type JsonValue = AttrValue | null | JsonValue[] | { [k: string]: JsonValue };

/** readComposite decodes an ArrayValue or KeyValueList into JSON-able values (rare path: indexed arrays). */
function readComposite(r: Reader, end: number, kvlist: boolean, depth: number): JsonValue {
  if (depth > 32) throw malformed('attribute values nested too deeply', r.pos);
  const arr: JsonValue[] = [];
  const obj: Record<string, JsonValue> = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag !== TAG_F1_LEN) {
      skipField(r, tag & 7, end);
      continue;
    }
    const e = readLen(r, end, 'value');
    if (!kvlist) {
      arr.push(readNestedAny(r, e, depth));
    } else {
      let key = '';
      let v: JsonValue = null;
      while (r.pos < e) {
        const t = r.uint32();
        if (t === TAG_F1_LEN) {
          const ke = readLen(r, e, 'key');
          key = readUtf8(r.buf, r.pos, ke);
          r.pos = ke;
        } else if (t === TAG_F2_LEN) {
          const ve = readLen(r, e, 'value');
          v = readNestedAny(r, ve, depth);
        } else {
          skipField(r, t & 7, e);
        }
      }
      obj[key] = v;
    }
    r.pos = e;
  }
  return kvlist ? obj : arr;
}

function readNestedAny(r: Reader, end: number, depth: number): JsonValue {
  const start = r.pos;
  // Peek: nested arrays/kvlists recurse, scalars go through readAnyValue.
  if (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((5 << 3) | WT_LEN) || tag === ((6 << 3) | WT_LEN)) {
      const e = readLen(r, end, 'value');
      const v = readComposite(r, e, tag >>> 3 === 6, depth + 1);
      r.pos = end;
      return v;
    }
    r.pos = start;
  }
  const v = readAnyValue(r, end);
  r.pos = end;
  return v === undefined ? null : v;
}

/**
 * readKeyValue reads one KeyValue in [r.pos, end); if its key is wanted (or is service.name when
 * `service` is given), stores the value in `into`. Returns the service.name value when found.
 */
function readKeyValue(r: Reader, end: number, want: WantedKeys | undefined, into: Record<string, AttrValue> | undefined, service: boolean): string | undefined {
  const buf = r.buf;
  let keyStart = 0;
  let keyLen = -1;
  let valueStart = -1;
  let valueEnd = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_F1_LEN) {
      const e = readLen(r, end, 'key');
      keyStart = r.pos;
      keyLen = e - keyStart;
      r.pos = e;
    } else if (tag === TAG_F2_LEN) {
      valueEnd = readLen(r, end, 'value');
      valueStart = r.pos;
      r.pos = valueEnd;
    } else {
      skipField(r, tag & 7, end);
    }
  }
  if (keyLen < 0 || valueStart < 0) return undefined;
  let found: string | undefined;
  if (service && keyLen === 12 && bytesEqual(buf, keyStart, SERVICE_NAME, 0, 12)) {
    r.pos = valueStart;
    const v = readAnyValue(r, valueEnd);
    if (typeof v === 'string') found = v;
  }
  if (want !== undefined && into !== undefined) {
    const i = matchWanted(want, buf, keyStart, keyLen);
    if (i >= 0) {
      r.pos = valueStart;
      const v = readAnyValue(r, valueEnd);
      if (v !== undefined) into[want.names[i]] = v;
    }
  }
  r.pos = end;
  return found;
}

function readResource(r: Reader, end: number, want: WantedKeys | undefined, info: ResourceInfo): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_F1_LEN) {
      const e = readLen(r, end, 'attribute');
      const s = readKeyValue(r, e, want, info.attributes, true);
      if (s !== undefined) info.service = s;
    } else {
      skipField(r, tag & 7, end);
    }
  }
}

function readStatusCode(r: Reader, end: number): 0 | 1 | 2 {
  let code = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((3 << 3) | WT_VARINT)) code = r.int32();
    else skipField(r, tag & 7, end);
  }
  return code === 1 || code === 2 ? code : 0;
}

/** Reused per call: the last trace id seen, so spans of one trace share one hex string. */
interface IndexState {
  lastTraceStart: number;
  lastTraceId: string;
}

function indexSpan(r: Reader, end: number, res: ResourceInfo, want: WantedKeys | undefined, st: IndexState): SpanIndex {
  const buf = r.buf;
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startUs = 0;
  let endUs = 0;
  let statusCode: 0 | 1 | 2 = 0;
  let traceState = '';
  let attributes: Record<string, AttrValue> | undefined;
  if (want !== undefined) attributes = res.attributes === undefined ? {} : { ...res.attributes };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WT_LEN: {
        const e = readLen(r, end, 'trace_id');
        const len = e - r.pos;
        if (st.lastTraceStart >= 0 && len === 16 && bytesEqual(buf, r.pos, buf, st.lastTraceStart, 16)) {
          traceId = st.lastTraceId;
        } else {
          traceId = hexOf(buf, r.pos, len);
          if (len === 16) {
            st.lastTraceStart = r.pos;
            st.lastTraceId = traceId;
          }
        }
        r.pos = e;
        break;
      }
      case (2 << 3) | WT_LEN: {
        const e = readLen(r, end, 'span_id');
        spanId = hexOf(buf, r.pos, e - r.pos);
        r.pos = e;
        break;
      }
      case (3 << 3) | WT_LEN: {
        const e = readLen(r, end, 'trace_state');
        traceState = readUtf8(buf, r.pos, e);
        r.pos = e;
        break;
      }
      case (4 << 3) | WT_LEN: {
        const e = readLen(r, end, 'parent_span_id');
        parentSpanId = hexOf(buf, r.pos, e - r.pos);
        r.pos = e;
        break;
      }
      case (5 << 3) | WT_LEN: {
        const e = readLen(r, end, 'name');
        name = readUtf8(buf, r.pos, e);
        r.pos = e;
        break;
      }
      case (6 << 3) | WT_VARINT:
        kind = r.int32();
        break;
      case (7 << 3) | WT_I64: {
        const lo = r.fixed32();
        startUs = nanosToMicros(lo, r.fixed32());
        break;
      }
      case (8 << 3) | WT_I64: {
        const lo = r.fixed32();
        endUs = nanosToMicros(lo, r.fixed32());
        break;
      }
      case (9 << 3) | WT_LEN: {
        const e = readLen(r, end, 'attribute');
        if (want !== undefined) readKeyValue(r, e, want, attributes, false);
        r.pos = e;
        break;
      }
      case (15 << 3) | WT_LEN: {
        const e = readLen(r, end, 'status');
        statusCode = readStatusCode(r, e);
        r.pos = e;
        break;
      }
      default:
        skipField(r, tag & 7, end);
    }
    if (r.pos > end) throw malformed('span field runs past the end of the span', r.pos);
  }
  return { traceId, spanId, parentSpanId, name, kind, startUs, endUs, statusCode, service: res.service, traceState, attributes };
}

/**
 * indexTraceChunk reads the decision-relevant fields of every span in an encoded
 * ExportTraceServiceRequest (typically one TraceChunk), in document order. Attributes are read only for
 * the keys in `wantAttributes`; resource attributes apply to every span under them, span attributes win.
 * @throws OtlpDecodeError when the bytes are truncated or malformed.
 */
export function indexTraceChunk(data: Uint8Array, wantAttributes?: ReadonlySet<string>): SpanIndex[] {
  const out: SpanIndex[] = [];
  const want = wantedKeys(wantAttributes);
  const st: IndexState = { lastTraceStart: -1, lastTraceId: '' };
  const r = newReader(data);
  try {
    const end = data.length;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag !== TAG_F1_LEN) {
        skipField(r, tag & 7, end);
        continue;
      }
      const rsEnd = readLen(r, end, 'resource entry');
      const rsStart = r.pos;
      // Pass 1: the resource (it may follow the scopes on the wire); pass 2: the spans.
      const res: ResourceInfo = { service: '', attributes: want === undefined ? undefined : {} };
      while (r.pos < rsEnd) {
        const t = r.uint32();
        if (t === TAG_F1_LEN) {
          const e = readLen(r, rsEnd, 'resource');
          readResource(r, e, want, res);
          r.pos = e;
        } else {
          skipField(r, t & 7, rsEnd);
        }
      }
      r.pos = rsStart;
      while (r.pos < rsEnd) {
        const t = r.uint32();
        if (t !== TAG_F2_LEN) {
          skipField(r, t & 7, rsEnd);
          continue;
        }
        const ssEnd = readLen(r, rsEnd, 'scope entry');
        while (r.pos < ssEnd) {
          const t2 = r.uint32();
          if (t2 !== TAG_F2_LEN) {
            skipField(r, t2 & 7, ssEnd);
            continue;
          }
          const spanEnd = readLen(r, ssEnd, 'span');
          out.push(indexSpan(r, spanEnd, res, want, st));
          r.pos = spanEnd;
        }
      }
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Counting and attribute stamping

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
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag !== TAG_F1_LEN) {
        skipField(r, tag & 7, end);
        continue;
      }
      const rsEnd = readLen(r, end, 'resource entry');
      while (r.pos < rsEnd) {
        const t = r.uint32();
        if (t !== TAG_F2_LEN) {
          skipField(r, t & 7, rsEnd);
          continue;
        }
        const ssEnd = readLen(r, rsEnd, 'scope entry');
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

/** keyMatches tells whether the key of the KeyValue in [r.pos, end) is one of `keys`. */
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
export function appendSpanAttributes(data: Uint8Array, attrs: Readonly<Record<string, AttrValue>>): Uint8Array {
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

