// Decoded OTLP spans -> Jaeger thrift objects (thrift.ts), in one step, grouped into batches per process
// (service + resource). The mapping is the one of @opentelemetry/exporter-jaeger's transform (tag names,
// status/error/kind tags, events as logs, links as FOLLOWS_FROM references, scope and dropped-count tags),
// with exact values where its SDK-span input would lose them: times are floor(ns / 1000) µs in integer
// arithmetic, arrays/kvlists are JSON text, ints beyond 2^53 exact decimal strings, and the resource travels
// once per batch as process tags unless asked to repeat it on every span. See README.md "What Jaeger receives".

import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpScope, OtlpSpan } from '../../pipeline/sdk/otlp';
import type { ThriftBatch, ThriftLog, ThriftProcess, ThriftSpan, ThriftSpanRef, ThriftTag } from './thrift';

/** An 8-byte zero: unused int64/binary tag fields and the parent id of a root span, as jaeger-client writes them. */
const ZERO8: Buffer = Buffer.alloc(8);
const SERVICE_NAME = 'service.name';
/** The OpenTelemetry default service name. */
const UNKNOWN_SERVICE = 'unknown_service';
/** Jaeger's `span.kind` values for OTLP kinds 2..5 (server, client, producer, consumer). */
const KIND_TAGS: ReadonlyArray<string | undefined> = [undefined, undefined, 'server', 'client', 'producer', 'consumer'];
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** spanKindTag is the `span.kind` tag of an OTLP SpanKind: none for internal, unspecified or unknown kinds. */
export function spanKindTag(kind: number): string | undefined {
  return KIND_TAGS[kind];
}

/** statusCodeTag is the `otel.status_code` tag of an OTLP status code (0 unset, 1 ok, 2 error), if any. */
export function statusCodeTag(code: number): 'OK' | 'ERROR' | undefined {
  return code === 1 ? 'OK' : code === 2 ? 'ERROR' : undefined;
}

/** microsFromNanos is floor(ns / 1000) as an 8-byte big-endian int64, exact for every fixed64 time. */
export function microsFromNanos(ns: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(ns / 1000n);
  return b;
}

/** idBuffer is a hex span id (or half of a trace id) as 8 bytes; shorter ids are zero-padded on the left. */
export function idBuffer(hex: string): Buffer {
  return hex.length === 16 ? Buffer.from(hex, 'hex') : Buffer.from(hex.padStart(16, '0').slice(-16), 'hex');
}

/**
 * anyValueToJson renders an OTLP value as JSON text: ints exactly (as JSON numbers of any size), bytes as
 * base64 strings, kvlists as objects, empty values as null, non-finite doubles as strings.
 */
export function anyValueToJson(v: OtlpAnyValue): string {
  switch (v.type) {
    case 'string':
      return JSON.stringify(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'int':
      return v.value.toString();
    case 'double':
      return Number.isFinite(v.value) ? JSON.stringify(v.value) : JSON.stringify(String(v.value));
    case 'bytes':
      return JSON.stringify(base64(v.value));
    case 'array':
      return `[${v.value.map(anyValueToJson).join(',')}]`;
    case 'kvlist':
      return `{${v.value.map((kv) => `${JSON.stringify(kv.key)}:${anyValueToJson(kv.value)}`).join(',')}}`;
    default:
      return 'null';
  }
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function isSafeInt(v: bigint): boolean {
  return v >= MIN_SAFE && v <= MAX_SAFE;
}

/**
 * tagValueFromOtlp maps one OTLP value to what a Jaeger tag holds (numbers become DOUBLE tags):
 * string/bool/double as is; int as a number when within ±(2^53-1), else its exact decimal string;
 * bytes as base64 text; kvlist as JSON text; an empty value as ''; arrays as JSON text: arrays of only
 * strings, only booleans or only numbers (ints within 2^53, doubles) as the JSON of those JS values
 * (non-finite doubles as null), any other array (mixed, nested, bytes, big ints) as anyValueToJson.
 */
export function tagValueFromOtlp(v: OtlpAnyValue): string | number | boolean {
  switch (v.type) {
    case 'string':
    case 'bool':
    case 'double':
      return v.value;
    case 'int':
      return isSafeInt(v.value) ? Number(v.value) : v.value.toString();
    case 'bytes':
      return base64(v.value);
    case 'kvlist':
      return anyValueToJson(v);
    case 'array':
      return homogeneousArrayJson(v.value) ?? anyValueToJson(v);
    default:
      return '';
  }
}

function homogeneousArrayJson(values: readonly OtlpAnyValue[]): string | undefined {
  if (values.every((x) => x.type === 'string') || values.every((x) => x.type === 'bool')) {
    return JSON.stringify(values.map((x) => (x as { value: string | boolean }).value));
  }
  if (values.every((x) => x.type === 'double' || (x.type === 'int' && isSafeInt(x.value)))) {
    return JSON.stringify(values.map((x) => Number((x as { value: number | bigint }).value)));
  }
  return undefined;
}

/** tag builds a thrift Tag the way jaeger-client does: typed by the JS value, every other field zero. */
export function tag(key: string, value: string | number | boolean): ThriftTag {
  if (typeof value === 'number')
    return { key, vType: 'DOUBLE', vStr: '', vDouble: value, vBool: false, vLong: ZERO8, vBinary: ZERO8 };
  if (typeof value === 'boolean')
    return { key, vType: 'BOOL', vStr: '', vDouble: 0, vBool: value, vLong: ZERO8, vBinary: ZERO8 };
  return { key, vType: 'STRING', vStr: value, vDouble: 0, vBool: false, vLong: ZERO8, vBinary: ZERO8 };
}

/**
 * pushAttributeTags appends one tag per attribute. A repeated key keeps its first position and takes the
 * later value (attributes behave as a map, as in the OpenTelemetry SDKs).
 */
function pushAttributeTags(out: ThriftTag[], kvs: readonly OtlpKeyValue[]): void {
  const start = out.length;
  for (const kv of kvs) {
    const t = tag(kv.key, tagValueFromOtlp(kv.value));
    let at = -1;
    for (let i = start; i < out.length; i++) {
      if (out[i].key === kv.key) {
        at = i;
        break;
      }
    }
    if (at < 0) out.push(t);
    else out[at] = t;
  }
}

/** attributeTags is one tag per attribute (see pushAttributeTags). */
export function attributeTags(kvs: readonly OtlpKeyValue[]): ThriftTag[] {
  const out: ThriftTag[] = [];
  pushAttributeTags(out, kvs);
  return out;
}

/** What every span of one scope of one resource shares. */
interface SpanCommon {
  /** Resource tags repeated on every span (`span_tags` mode), else empty. */
  readonly resourceTags: readonly ThriftTag[];
  readonly scopeTags: readonly ThriftTag[];
}

function scopeTags(scope: OtlpScope): ThriftTag[] {
  return [tag('otel.library.name', scope.name), tag('otel.library.version', scope.version)];
}

function spanTags(s: OtlpSpan, common: SpanCommon): ThriftTag[] {
  const tags: ThriftTag[] = [];
  pushAttributeTags(tags, s.attributes);
  const status = statusCodeTag(s.status.code);
  if (status !== undefined) {
    tags.push(tag('otel.status_code', status));
    if (s.status.message !== '') tags.push(tag('otel.status_description', s.status.message));
  }
  if (status === 'ERROR') tags.push(tag('error', true));
  const kind = spanKindTag(s.kind);
  if (kind !== undefined) tags.push(tag('span.kind', kind));
  tags.push(...common.resourceTags, ...common.scopeTags);
  if (s.droppedAttributesCount) tags.push(tag('otel.dropped_attributes_count', s.droppedAttributesCount));
  if (s.droppedEventsCount) tags.push(tag('otel.dropped_events_count', s.droppedEventsCount));
  if (s.droppedLinksCount) tags.push(tag('otel.dropped_links_count', s.droppedLinksCount));
  return tags;
}

function spanLogs(s: OtlpSpan): ThriftLog[] {
  return s.events.map((e) => {
    const fields = [tag('event', e.name)];
    pushAttributeTags(fields, e.attributes);
    if (e.droppedAttributesCount) fields.push(tag('otel.event.dropped_attributes_count', e.droppedAttributesCount));
    return { timestamp: microsFromNanos(e.timeUnixNano), fields };
  });
}

function spanRefs(s: OtlpSpan): ThriftSpanRef[] {
  return s.links.map((l) => ({
    refType: 'FOLLOWS_FROM',
    traceIdLow: idBuffer(l.traceId.slice(16)),
    traceIdHigh: idBuffer(l.traceId.slice(0, 16)),
    spanId: idBuffer(l.spanId),
  }));
}

/**
 * spanToThrift converts one OTLP span: ids, parent (zero for a root), name, links as FOLLOWS_FROM references,
 * the sampled flag (the W3C trace flags, 1 when zero), start and duration in µs (an end before the start
 * gives 0), tags (attributes, status, error, kind, `common`'s resource and scope tags, dropped counts) and
 * events as logs.
 */
function spanToThrift(s: OtlpSpan, common: SpanCommon): ThriftSpan {
  const traceId = s.traceId.padStart(32, '0');
  const end = s.endTimeUnixNano >= s.startTimeUnixNano ? s.endTimeUnixNano : s.startTimeUnixNano;
  return {
    traceIdLow: idBuffer(traceId.slice(16)),
    traceIdHigh: idBuffer(traceId.slice(0, 16)),
    spanId: idBuffer(s.spanId),
    parentSpanId: s.parentSpanId === '' ? ZERO8 : idBuffer(s.parentSpanId),
    operationName: s.name,
    references: spanRefs(s),
    flags: s.flags & 0xff || 1,
    startTime: microsFromNanos(s.startTimeUnixNano),
    duration: microsFromNanos(end - s.startTimeUnixNano),
    tags: spanTags(s, common),
    logs: spanLogs(s),
  };
}

/** ResourceAs says where resource attributes go: once per batch as process tags, or on every span. */
export type ResourceAs = 'process_tags' | 'span_tags';

/** JaegerBatch is one request's worth of spans of one process, with the traces they belong to. */
export interface JaegerBatch {
  readonly batch: ThriftBatch;
  /** Ids of the traces of its spans (lowercase hex, each once). */
  readonly traceIds: string[];
}

interface ProcessGroup {
  readonly process: ThriftProcess;
  readonly spans: ThriftSpan[];
  readonly traceIds: string[];
}

/**
 * processKey identifies a resource as a Jaeger process: its service name and all its attributes as tags
 * (key order ignored), so two resources share a process only when Jaeger would store them alike.
 */
function processKey(serviceName: string, tags: readonly ThriftTag[]): string {
  const parts = tags.map(
    (t) => `${t.key}\u0000${t.vType}\u0000${t.vType === 'STRING' ? t.vStr : t.vType === 'BOOL' ? t.vBool : t.vDouble}`,
  );
  return `${serviceName}\u0001${JSON.stringify(parts.sort())}`;
}

/**
 * serviceNameOf is the resource's service.name (the last one) when it is text: a string, or a value sent as
 * text (bytes, kvlist, big int, mixed array); "unknown_service" when absent, empty, a number, a boolean or a
 * plain array.
 */
export function serviceNameOf(resource: readonly OtlpKeyValue[]): string {
  let v: OtlpAnyValue | undefined;
  for (const kv of resource) if (kv.key === SERVICE_NAME) v = kv.value;
  if (v === undefined || (v.type === 'array' && homogeneousArrayJson(v.value) !== undefined)) return UNKNOWN_SERVICE;
  const name = tagValueFromOtlp(v);
  return typeof name === 'string' && name !== '' ? name : UNKNOWN_SERVICE;
}

/**
 * batchesFromOtlp converts the spans of decoded chunks into batches: one process per resource (service.name
 * plus every resource attribute; equal resources of different chunks share one process), cut into batches of
 * at most `maxSpansPerBatch` spans, in the order resources first appear. With `process_tags` the process
 * carries the resource attributes other than service.name; with `span_tags` the process has no tags and every
 * span repeats all resource attributes (service.name included). Scope attributes are not carried.
 */
export function batchesFromOtlp(
  chunks: Iterable<readonly OtlpResourceSpans[]>,
  resourceAs: ResourceAs,
  maxSpansPerBatch: number,
): JaegerBatch[] {
  const groups = new Map<string, ProcessGroup>();
  for (const chunk of chunks) {
    for (const rs of chunk) {
      const resourceTags = attributeTags(rs.resource.attributes);
      const serviceName = serviceNameOf(rs.resource.attributes);
      const key = processKey(serviceName, resourceTags);
      let group = groups.get(key);
      if (!group) {
        const processTags = resourceAs === 'process_tags' ? resourceTags.filter((t) => t.key !== SERVICE_NAME) : [];
        group = { process: { serviceName, tags: processTags }, spans: [], traceIds: [] };
        groups.set(key, group);
      }
      const onSpans = resourceAs === 'span_tags' ? resourceTags : [];
      for (const ss of rs.scopeSpans) {
        const common: SpanCommon = { resourceTags: onSpans, scopeTags: scopeTags(ss.scope) };
        for (const s of ss.spans) {
          group.spans.push(spanToThrift(s, common));
          group.traceIds.push(s.traceId);
        }
      }
    }
  }
  const out: JaegerBatch[] = [];
  for (const g of groups.values()) {
    for (let i = 0; i < g.spans.length; i += maxSpansPerBatch) {
      out.push({
        batch: { process: g.process, spans: g.spans.slice(i, i + maxSpansPerBatch) },
        traceIds: [...new Set(g.traceIds.slice(i, i + maxSpansPerBatch))],
      });
    }
  }
  return out;
}
