// Decoded OTLP spans -> the OpenTelemetry JS SDK's ReadableSpan (sdk-trace 2.x), field by field, so any
// SDK SpanExporter (here @opentelemetry/exporter-jaeger) can send them. Faithful where the SDK shape can
// hold the value; where it cannot (kvlists, bytes, mixed/nested arrays, ints beyond 2^53) the value is
// rendered as a string, documented per case below.

import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from '../../pipeline/sdk/otlp';

const NS_PER_SECOND = 1_000_000_000n;
/** OTLP Span.flags / Link.flags bit: the is-remote bit below is meaningful. */
const FLAG_HAS_IS_REMOTE = 0x100;
/** OTLP Span.flags / Link.flags bit: the parent (for a span) or the linked span (for a link) is remote. */
const FLAG_IS_REMOTE = 0x200;

/** hrTimeFromNanos splits unix nanoseconds (fixed64) into the SDK's [seconds, nanoseconds] pair, exactly. */
export function hrTimeFromNanos(ns: bigint): HrTime {
  const v = ns < 0n ? 0n : ns;
  return [Number(v / NS_PER_SECOND), Number(v % NS_PER_SECOND)];
}

/** spanKindFromOtlp maps the OTLP SpanKind number to the API enum: unspecified/unknown -> INTERNAL, else k - 1. */
export function spanKindFromOtlp(k: number): SpanKind {
  return k >= 1 && k <= 5 ? ((k - 1) as SpanKind) : SpanKind.INTERNAL;
}

/** statusCodeFromOtlp maps the OTLP status code (0 unset, 1 ok, 2 error) to the API enum; unknown -> UNSET. */
export function statusCodeFromOtlp(c: number): SpanStatusCode {
  return c === 1 ? SpanStatusCode.OK : c === 2 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET;
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
      return JSON.stringify(Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength).toString('base64'));
    case 'array':
      return `[${v.value.map(anyValueToJson).join(',')}]`;
    case 'kvlist':
      return `{${v.value.map((kv) => `${JSON.stringify(kv.key)}:${anyValueToJson(kv.value)}`).join(',')}}`;
    default:
      return 'null';
  }
}

function intValue(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/**
 * attributeValueFromOtlp maps one OTLP value to an SDK AttributeValue:
 * string/bool/double as is; int as a number when within ±(2^53-1), else its exact decimal string;
 * bytes as a base64 string; kvlist as JSON text; an empty value as '';
 * arrays of only strings, only booleans or only numbers (ints within 2^53, doubles) as arrays; any other
 * array (mixed, nested, bytes, big ints) as JSON text.
 */
export function attributeValueFromOtlp(v: OtlpAnyValue): AttributeValue {
  switch (v.type) {
    case 'string':
    case 'bool':
    case 'double':
      return v.value;
    case 'int':
      return intValue(v.value);
    case 'bytes':
      return Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength).toString('base64');
    case 'kvlist':
      return anyValueToJson(v);
    case 'array':
      return homogeneousArray(v.value) ?? anyValueToJson(v);
    default:
      return '';
  }
}

function homogeneousArray(values: readonly OtlpAnyValue[]): AttributeValue | undefined {
  if (values.every((x) => x.type === 'string')) return values.map((x) => (x as { value: string }).value);
  if (values.every((x) => x.type === 'bool')) return values.map((x) => (x as { value: boolean }).value);
  const numeric = values.every(
    (x) => x.type === 'double' || (x.type === 'int' && x.value >= BigInt(Number.MIN_SAFE_INTEGER) && x.value <= BigInt(Number.MAX_SAFE_INTEGER)),
  );
  if (numeric) return values.map((x) => Number((x as { value: number | bigint }).value));
  return undefined;
}

/** attributesFromOtlp maps a KeyValue list to SDK Attributes (a later duplicate key wins). */
export function attributesFromOtlp(kvs: readonly OtlpKeyValue[]): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) out[kv.key] = attributeValueFromOtlp(kv.value);
  return out;
}

function traceStateOf(raw: string): TraceState | undefined {
  return raw === '' ? undefined : new TraceState(raw);
}

function isRemote(flags: number): boolean | undefined {
  return (flags & FLAG_HAS_IS_REMOTE) !== 0 ? (flags & FLAG_IS_REMOTE) !== 0 : undefined;
}

function convertSpan(s: OtlpSpan, common: Pick<ReadableSpan, 'resource' | 'instrumentationScope'>): ReadableSpan {
  const traceFlags = s.flags & 0xff;
  const context: SpanContext = { traceId: s.traceId, spanId: s.spanId, traceFlags, traceState: traceStateOf(s.traceState) };
  const parentSpanContext: SpanContext | undefined =
    s.parentSpanId === '' ? undefined : { traceId: s.traceId, spanId: s.parentSpanId, traceFlags, isRemote: isRemote(s.flags) };
  const end = s.endTimeUnixNano >= s.startTimeUnixNano ? s.endTimeUnixNano : s.startTimeUnixNano;
  const events: TimedEvent[] = s.events.map((e) => ({
    name: e.name,
    time: hrTimeFromNanos(e.timeUnixNano),
    attributes: attributesFromOtlp(e.attributes),
    droppedAttributesCount: e.droppedAttributesCount,
  }));
  const links: Link[] = s.links.map((l) => ({
    context: { traceId: l.traceId, spanId: l.spanId, traceFlags: l.flags & 0xff, isRemote: isRemote(l.flags), traceState: traceStateOf(l.traceState) },
    attributes: attributesFromOtlp(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount,
  }));
  return {
    name: s.name,
    kind: spanKindFromOtlp(s.kind),
    spanContext: () => context,
    parentSpanContext,
    startTime: hrTimeFromNanos(s.startTimeUnixNano),
    endTime: hrTimeFromNanos(end),
    duration: hrTimeFromNanos(end - s.startTimeUnixNano),
    status: s.status.message === '' ? { code: statusCodeFromOtlp(s.status.code) } : { code: statusCodeFromOtlp(s.status.code), message: s.status.message },
    attributes: attributesFromOtlp(s.attributes),
    links,
    events,
    ended: true,
    resource: common.resource,
    instrumentationScope: common.instrumentationScope,
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
  };
}

/** ResourceGroup is the spans of one resource, converted, with the resource's attributes. */
export interface ResourceGroup {
  readonly resourceAttributes: Attributes;
  readonly spans: ReadableSpan[];
  /** Trace ids present in the group (lowercase hex). */
  readonly traceIds: ReadonlySet<string>;
}

/**
 * readableSpansFromOtlp converts every span of the decoded resource spans, one group per resource. The
 * resource becomes `resourceFromAttributes(...)`, the scope `{ name, version?, schemaUrl? }` (scope
 * attributes have no place in the SDK shape and are not carried).
 */
export function readableSpansFromOtlp(resourceSpans: readonly OtlpResourceSpans[]): ResourceGroup[] {
  return resourceSpans.map((rs) => {
    const resourceAttributes = attributesFromOtlp(rs.resource.attributes);
    const resource = resourceFromAttributes(resourceAttributes);
    const spans: ReadableSpan[] = [];
    const traceIds = new Set<string>();
    for (const ss of rs.scopeSpans) {
      const instrumentationScope = {
        name: ss.scope.name,
        version: ss.scope.version === '' ? undefined : ss.scope.version,
        schemaUrl: ss.schemaUrl === '' ? undefined : ss.schemaUrl,
      };
      for (const s of ss.spans) {
        spans.push(convertSpan(s, { resource, instrumentationScope }));
        traceIds.add(s.traceId);
      }
    }
    return { resourceAttributes, spans, traceIds };
  });
}
