// Adjusts faithful ReadableSpans for @opentelemetry/exporter-jaeger's thrift transform (transform.js), whose
// own conversions would otherwise lose or garble data:
//  - arrays: it renders them with String() ("a,b"); we hand it JSON text ('["a","b"]') instead;
//  - times: it computes microseconds in floating point (start: s*1e6 + ns/1e3; events: (s*1e3 + ns/1e6)*1e3)
//    and truncates; we align start and duration to whole microseconds and put event times at µs + 500 ns,
//    so its float error (< 0.3 µs) can never move a value across a microsecond boundary. Result: every
//    time equals floor(unix_nanos / 1000) exactly, as Jaeger's own OTLP ingestion computes it;
//  - resource: with `resourceAsProcessTags` the resource leaves the span (the transform would copy every
//    resource attribute onto every span as a tag) and travels once per batch as Jaeger process tags, the
//    way Jaeger itself stores OTLP resources;
//  - scope version: an absent version would become the tag "undefined"; we pass ''.

import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { emptyResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

const EMPTY_RESOURCE = emptyResource();

function toMicros(t: HrTime): HrTime {
  return [t[0], t[1] - (t[1] % 1000)];
}

function toMicrosPlusHalf(t: HrTime): HrTime {
  return [t[0], t[1] - (t[1] % 1000) + 500];
}

/** tagValue renders an attribute value the way a Jaeger tag can hold it: arrays become JSON text. */
export function tagValue(v: AttributeValue): string | number | boolean {
  return Array.isArray(v) ? JSON.stringify(v) : (v as string | number | boolean);
}

/** tagAttributes applies tagValue to every attribute. */
export function tagAttributes(attrs: Attributes): Attributes {
  let out: Attributes | undefined;
  for (const [k, v] of Object.entries(attrs)) {
    if (Array.isArray(v)) {
      out ??= { ...attrs };
      out[k] = JSON.stringify(v);
    }
  }
  return out ?? attrs;
}

/**
 * spanResourceFor is the resource to put on the spans of one group: empty when the resource travels as
 * process tags, else the resource with its array values as JSON text.
 */
export function spanResourceFor(resourceAttributes: Attributes, resourceAsProcessTags: boolean): Resource {
  return resourceAsProcessTags ? EMPTY_RESOURCE : resourceFromAttributes(tagAttributes(resourceAttributes));
}

/** forJaegerThrift returns a copy of the span adjusted for exporter-jaeger's transform (see the file header), carrying `resource`. */
export function forJaegerThrift(span: ReadableSpan, resource: Resource): ReadableSpan {
  const scope = span.instrumentationScope;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: span.spanContext,
    parentSpanContext: span.parentSpanContext,
    startTime: toMicros(span.startTime),
    endTime: span.endTime,
    duration: toMicros(span.duration),
    status: span.status,
    attributes: tagAttributes(span.attributes),
    links: span.links,
    events: span.events.map((e) => ({ ...e, time: toMicrosPlusHalf(e.time), attributes: e.attributes && tagAttributes(e.attributes) })),
    ended: span.ended,
    resource,
    instrumentationScope: { ...scope, version: scope.version ?? '' },
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
