// indexTraceChunk: reads the decision-relevant fields of every span (ids, parent, name, kind, times,
// status, service, trace state and the attributes a policy names) straight from OTLP bytes, skipping
// everything else by length. Part of the hot-path scanner (exported through scanner.ts).

import type { Reader } from 'protobufjs';
import type { AttrValue, SpanIndex } from './scanner';
import * as wire from './wire';

// Hot helpers and constants bound to module-local names once (see scanner.ts).
const { asDecodeError, bytesEqual, hexOf, malformed, newReader, nextLen, readHex, readLen, readString, skipField } = wire;
const { WT_VARINT, WT_I64, WT_LEN, TAG_F1_LEN, TAG_F2_LEN } = wire;

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
      case (2 << 3) | WT_LEN:
        spanId = readHex(r, end, 'span_id');
        break;
      case (3 << 3) | WT_LEN:
        traceState = readString(r, end, 'trace_state');
        break;
      case (4 << 3) | WT_LEN:
        parentSpanId = readHex(r, end, 'parent_span_id');
        break;
      case (5 << 3) | WT_LEN:
        name = readString(r, end, 'name');
        break;
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
      r.pos = rsStart;
      let ssEnd: number;
      while ((ssEnd = nextLen(r, rsEnd, TAG_F2_LEN, 'scope entry')) >= 0) {
        let spanEnd: number;
        while ((spanEnd = nextLen(r, ssEnd, TAG_F2_LEN, 'span')) >= 0) {
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
