// scanTraceChunk / indexTraceChunk: read the decision-relevant fields of every span (ids, parent, name,
// kind, times, status, service, trace state and the attributes a policy names) straight from OTLP bytes,
// skipping everything else by length. scanTraceChunk reports byte ranges to a sink (no object per span);
// indexTraceChunk builds one SpanIndex per span on top of it. Part of the hot-path scanner (exported
// through index.ts).

import type { Reader } from 'protobufjs';
import * as wire from './wire';
import type { AttrValue } from './wire';

// Hot helpers and constants bound to module-local names once (see scanner.ts).
const {
  asDecodeError,
  bytesEqual,
  hexOf,
  malformed,
  newReader,
  nextLen,
  readHex,
  readLen,
  readString,
  readUtf8,
  skipField,
} = wire;
const { WT_VARINT, WT_I32, WT_I64, WT_LEN, TAG_F1_LEN, TAG_F2_LEN } = wire;

const SERVICE_NAME = Buffer.from('service.name');

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
  /** The span's `flags` (fixed32; the low 8 bits are the W3C trace flags, bit 0 = sampled); 0 when absent. */
  flags: number;
  /** Encoded size of the Span message, bytes (without its field tag and length prefix). */
  sizeBytes: number;
  /**
   * The attributes asked for by `wantAttributes`, span attributes overriding resource attributes; absent
   * when no attributes were asked for. Arrays and kvlists are rendered as JSON text, bytes as hex.
   */
  attributes?: Record<string, AttrValue>;
}

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
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WT_LEN:
        value = readString(r, end, 'string_value');
        break;
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
      case (7 << 3) | WT_LEN:
        value = readHex(r, end, 'bytes_value');
        break;
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
  let e: number;
  while ((e = nextLen(r, end, TAG_F1_LEN, 'value')) >= 0) {
    if (!kvlist) {
      arr.push(readNestedAny(r, e, depth));
    } else {
      let key = '';
      let v: JsonValue = null;
      while (r.pos < e) {
        const t = r.uint32();
        if (t === TAG_F1_LEN) {
          key = readString(r, e, 'key');
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
function readKeyValue(
  r: Reader,
  end: number,
  want: WantedKeys | undefined,
  into: Record<string, AttrValue> | undefined,
  service: boolean,
): string | undefined {
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
  let e: number;
  while ((e = nextLen(r, end, TAG_F1_LEN, 'attribute')) >= 0) {
    const s = readKeyValue(r, e, want, info.attributes, true);
    if (s !== undefined) info.service = s;
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

/**
 * SpanFieldRanges is one span's decision-relevant fields as the scanner found them: string and id fields as
 * byte ranges of the scanned chunk (length 0 when absent or empty; the last occurrence wins), numbers
 * decoded. The scanner reuses one instance for every span of a call: a sink copies what it keeps.
 */
export interface SpanFieldRanges {
  traceIdStart: number;
  traceIdLen: number;
  spanIdStart: number;
  spanIdLen: number;
  parentSpanIdStart: number;
  parentSpanIdLen: number;
  nameStart: number;
  nameLen: number;
  traceStateStart: number;
  traceStateLen: number;
  /** OTLP SpanKind number. */
  kind: number;
  /** Integer microseconds since the Unix epoch (see SpanIndex). */
  startUs: number;
  endUs: number;
  statusCode: 0 | 1 | 2;
  /** The span's `flags` field (0 when absent). */
  flags: number;
  /** Byte range of the whole Span message in the scanned chunk (for lazy reads: readSpanDetails). */
  spanStart: number;
  spanLen: number;
  /**
   * The wanted attributes of this span (its resource's, overridden by its own): a fresh object per span,
   * undefined when no attribute keys are wanted.
   */
  attributes: Record<string, AttrValue> | undefined;
}

/**
 * SpanIndexSink receives what scanTraceChunk reads, in document order: `resource` once per resource entry
 * (before that entry's spans), then `span` for each span under it. Lets a caller keep the index in its own
 * layout (e.g. packed numbers) instead of one object per span.
 */
export interface SpanIndexSink {
  /** A resource entry starts: its service.name ('' when absent) and wanted resource attributes (undefined when none are wanted). */
  resource(service: string, attributes: Readonly<Record<string, AttrValue>> | undefined): void;
  /** One span of the current resource; `data` is the scanned chunk the ranges refer to. */
  span(data: Uint8Array, fields: Readonly<SpanFieldRanges>): void;
}

function newFieldRanges(): SpanFieldRanges {
  return {
    traceIdStart: 0,
    traceIdLen: 0,
    spanIdStart: 0,
    spanIdLen: 0,
    parentSpanIdStart: 0,
    parentSpanIdLen: 0,
    nameStart: 0,
    nameLen: 0,
    traceStateStart: 0,
    traceStateLen: 0,
    kind: 0,
    startUs: 0,
    endUs: 0,
    statusCode: 0,
    flags: 0,
    spanStart: 0,
    spanLen: 0,
    attributes: undefined,
  };
}

/** scanSpan reads one Span message in [r.pos, end) into `f` (every field reset first). */
function scanSpan(r: Reader, end: number, res: ResourceInfo, want: WantedKeys | undefined, f: SpanFieldRanges): void {
  f.traceIdStart = f.traceIdLen = f.spanIdStart = f.spanIdLen = f.parentSpanIdStart = f.parentSpanIdLen = 0;
  f.nameStart = f.nameLen = f.traceStateStart = f.traceStateLen = 0;
  f.kind = 0;
  f.startUs = 0;
  f.endUs = 0;
  f.statusCode = 0;
  f.flags = 0;
  f.spanStart = r.pos;
  f.spanLen = end - r.pos;
  let attributes: Record<string, AttrValue> | undefined;
  if (want !== undefined) attributes = res.attributes === undefined ? {} : { ...res.attributes };
  f.attributes = attributes;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | WT_LEN: {
        const e = readLen(r, end, 'trace_id');
        f.traceIdStart = r.pos;
        f.traceIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (2 << 3) | WT_LEN: {
        const e = readLen(r, end, 'span_id');
        f.spanIdStart = r.pos;
        f.spanIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (3 << 3) | WT_LEN: {
        const e = readLen(r, end, 'trace_state');
        f.traceStateStart = r.pos;
        f.traceStateLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (4 << 3) | WT_LEN: {
        const e = readLen(r, end, 'parent_span_id');
        f.parentSpanIdStart = r.pos;
        f.parentSpanIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (5 << 3) | WT_LEN: {
        const e = readLen(r, end, 'name');
        f.nameStart = r.pos;
        f.nameLen = e - r.pos;
        r.pos = e;
        break;
      }
      case (6 << 3) | WT_VARINT:
        f.kind = r.int32();
        break;
      case (7 << 3) | WT_I64: {
        const lo = r.fixed32();
        f.startUs = nanosToMicros(lo, r.fixed32());
        break;
      }
      case (8 << 3) | WT_I64: {
        const lo = r.fixed32();
        f.endUs = nanosToMicros(lo, r.fixed32());
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
        f.statusCode = readStatusCode(r, e);
        r.pos = e;
        break;
      }
      case (16 << 3) | WT_I32:
        f.flags = r.fixed32();
        break;
      default:
        skipField(r, tag & 7, end);
    }
    if (r.pos > end) throw malformed('span field runs past the end of the span', r.pos);
  }
}

/**
 * scanTraceChunk reads the decision-relevant fields of every span in an encoded
 * ExportTraceServiceRequest (typically one TraceChunk), in document order, into `sink`. Attributes are read
 * only for the keys in `wantAttributes`; resource attributes apply to every span under them, span
 * attributes win. Returns the number of spans reported.
 * @throws OtlpDecodeError when the bytes are truncated or malformed (spans before the fault may have been
 * reported to the sink already).
 */
export function scanTraceChunk(data: Uint8Array, sink: SpanIndexSink, wantAttributes?: ReadonlySet<string>): number {
  const want = wantedKeys(wantAttributes);
  const fields = newFieldRanges();
  const r = newReader(data);
  let spans = 0;
  try {
    const end = data.length;
    let rsEnd: number;
    while ((rsEnd = nextLen(r, end, TAG_F1_LEN, 'resource entry')) >= 0) {
      const rsStart = r.pos;
      // Pass 1: the resource (it may follow the scopes on the wire); pass 2: the spans.
      const res: ResourceInfo = { service: '', attributes: want === undefined ? undefined : {} };
      let resEnd: number;
      while ((resEnd = nextLen(r, rsEnd, TAG_F1_LEN, 'resource')) >= 0) {
        readResource(r, resEnd, want, res);
        r.pos = resEnd;
      }
      sink.resource(res.service, res.attributes);
      r.pos = rsStart;
      let ssEnd: number;
      while ((ssEnd = nextLen(r, rsEnd, TAG_F2_LEN, 'scope entry')) >= 0) {
        let spanEnd: number;
        while ((spanEnd = nextLen(r, ssEnd, TAG_F2_LEN, 'span')) >= 0) {
          scanSpan(r, spanEnd, res, want, fields);
          sink.span(data, fields);
          spans++;
          r.pos = spanEnd;
        }
      }
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return spans;
}

/** SpanIndexArray is the sink behind indexTraceChunk: one SpanIndex object per span. */
class SpanIndexArray implements SpanIndexSink {
  readonly spans: SpanIndex[] = [];
  private _service = '';
  /** The last 16-byte trace id seen, so spans of one trace share one hex string. */
  private _lastTraceStart = -1;
  private _lastTraceId = '';

  resource(service: string): void {
    this._service = service;
  }

  span(data: Uint8Array, f: Readonly<SpanFieldRanges>): void {
    let traceId: string;
    const len = f.traceIdLen;
    if (this._lastTraceStart >= 0 && len === 16 && bytesEqual(data, f.traceIdStart, data, this._lastTraceStart, 16)) {
      traceId = this._lastTraceId;
    } else {
      traceId = hexOf(data, f.traceIdStart, len);
      if (len === 16) {
        this._lastTraceStart = f.traceIdStart;
        this._lastTraceId = traceId;
      }
    }
    this.spans.push({
      traceId,
      spanId: hexOf(data, f.spanIdStart, f.spanIdLen),
      parentSpanId: hexOf(data, f.parentSpanIdStart, f.parentSpanIdLen),
      name: readUtf8(data, f.nameStart, f.nameStart + f.nameLen),
      kind: f.kind,
      startUs: f.startUs,
      endUs: f.endUs,
      statusCode: f.statusCode,
      service: this._service,
      traceState: readUtf8(data, f.traceStateStart, f.traceStateStart + f.traceStateLen),
      flags: f.flags,
      sizeBytes: f.spanLen,
      attributes: f.attributes,
    });
  }
}

/**
 * indexTraceChunk reads the decision-relevant fields of every span in an encoded
 * ExportTraceServiceRequest (typically one TraceChunk), in document order, as one SpanIndex per span
 * (scanTraceChunk with an array sink). Attributes are read only for the keys in `wantAttributes`;
 * resource attributes apply to every span under them, span attributes win.
 * @throws OtlpDecodeError when the bytes are truncated or malformed.
 */
export function indexTraceChunk(data: Uint8Array, wantAttributes?: ReadonlySet<string>): SpanIndex[] {
  const sink = new SpanIndexArray();
  scanTraceChunk(data, sink, wantAttributes);
  return sink.spans;
}

/** SpanEventDetails is one span event as readSpanDetails decodes it. */
export interface SpanEventDetails {
  readonly name: string;
  /** Event time, integer microseconds since the Unix epoch. */
  readonly timeUs: number;
  /** Every attribute of the event (arrays and kvlists as JSON text, bytes as hex). */
  readonly attributes: Readonly<Record<string, AttrValue>>;
}

/** SpanDetails is what a policy rarely needs of a span: every span attribute and the events. */
export interface SpanDetails {
  /** The span's own attributes, every key (not merged with the resource's). */
  readonly attributes: Readonly<Record<string, AttrValue>>;
  readonly events: readonly SpanEventDetails[];
}

function readAllAttributes(r: Reader, end: number, into: Record<string, AttrValue>): void {
  let key: string | undefined;
  let value: AttrValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_F1_LEN) key = readString(r, end, 'key');
    else if (tag === TAG_F2_LEN) {
      const e = readLen(r, end, 'value');
      value = readAnyValue(r, e);
      r.pos = e;
    } else skipField(r, tag & 7, end);
  }
  if (key !== undefined && value !== undefined) into[key] = value;
}

function readEvent(r: Reader, end: number): SpanEventDetails {
  let name = '';
  let timeUs = 0;
  const attributes: Record<string, AttrValue> = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | WT_I64)) {
      const lo = r.fixed32();
      timeUs = nanosToMicros(lo, r.fixed32());
    } else if (tag === TAG_F2_LEN) name = readString(r, end, 'event name');
    else if (tag === ((3 << 3) | WT_LEN)) {
      const e = readLen(r, end, 'event attribute');
      readAllAttributes(r, e, attributes);
      r.pos = e;
    } else skipField(r, tag & 7, end);
  }
  return { name, timeUs, attributes };
}

/**
 * readSpanDetails decodes every attribute and the events of ONE span message, `data[start, start + len)`
 * (the range scanTraceChunk reports as spanStart / spanLen). Off the hot path: called only for the spans of
 * a trace whose policies read events or unindexed attributes.
 * @throws OtlpDecodeError when the bytes are malformed.
 */
export function readSpanDetails(data: Uint8Array, start: number, len: number): SpanDetails {
  const r = newReader(data);
  r.pos = start;
  const end = start + len;
  const attributes: Record<string, AttrValue> = {};
  const events: SpanEventDetails[] = [];
  try {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ((9 << 3) | WT_LEN)) {
        const e = readLen(r, end, 'attribute');
        readAllAttributes(r, e, attributes);
        r.pos = e;
      } else if (tag === ((11 << 3) | WT_LEN)) {
        const e = readLen(r, end, 'event');
        events.push(readEvent(r, e));
        r.pos = e;
      } else skipField(r, tag & 7, end);
      if (r.pos > end) throw malformed('span field runs past the end of the span', r.pos);
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return { attributes, events };
}
