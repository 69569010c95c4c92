// Test helper: turns SDK ReadableSpans into the OtlpSpan shape decodeTraces() produces, so tests can
// check that bytes (from the scanner, a receiver or the JSON converter) decode back to exactly the
// spans the SDK made: ids, times, kinds, attributes of every type, events, links, status, resource, scope.

import { expect } from 'chai';
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from '../../../../pipeline/sdk/otlp/decode';

/** hrToNanos converts an SDK HrTime to bigint nanoseconds. */
export function hrToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

function anyOf(v: unknown): OtlpAnyValue {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'boolean') return { type: 'bool', value: v };
  if (typeof v === 'number')
    return Number.isInteger(v) ? { type: 'int', value: BigInt(v) } : { type: 'double', value: v };
  if (v instanceof Uint8Array) return { type: 'bytes', value: v };
  if (Array.isArray(v)) return { type: 'array', value: v.map(anyOf) };
  if (v === null || v === undefined) return { type: 'empty' };
  return {
    type: 'kvlist',
    value: Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, value: anyOf(x) })),
  };
}

/** attrsOf converts SDK attributes to OTLP key-values, in insertion order. */
export function attrsOf(attrs: Attributes | undefined): OtlpKeyValue[] {
  return Object.entries(attrs ?? {}).map(([key, v]) => ({ key, value: anyOf(v as AttributeValue) }));
}

/** expectedSpan is what decodeTraces must return for an SDK span (flags are checked separately). */
export function expectedSpan(s: ReadableSpan): Omit<OtlpSpan, 'flags'> {
  const ctx = s.spanContext();
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: s.parentSpanContext?.spanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '',
    name: s.name,
    kind: s.kind + 1,
    startTimeUnixNano: hrToNanos(s.startTime),
    endTimeUnixNano: hrToNanos(s.endTime),
    attributes: attrsOf(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: hrToNanos(e.time),
      name: e.name,
      attributes: attrsOf(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceState: l.context.traceState?.serialize() ?? '',
      attributes: attrsOf(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount ?? 0,
      flags: 0, // compared without flags below
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message ?? '' },
  };
}

/** FlatSpan is a decoded span with its resource and scope, for order-independent comparisons. */
export interface FlatSpan {
  span: OtlpSpan;
  resource: OtlpResourceSpans['resource'];
  resourceSchemaUrl: string;
  scope: OtlpResourceSpans['scopeSpans'][number]['scope'];
  scopeSchemaUrl: string;
}

/** flatten lists every decoded span with the resource and scope it sits under. */
export function flatten(rss: OtlpResourceSpans[]): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const rs of rss) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans)
        out.push({
          span,
          resource: rs.resource,
          resourceSchemaUrl: rs.schemaUrl,
          scope: ss.scope,
          scopeSchemaUrl: ss.schemaUrl,
        });
    }
  }
  return out;
}

/**
 * expectSameSpans asserts that decoded resource spans hold exactly the SDK spans (no more, no fewer,
 * each once), with matching resource attributes and scope name/version/schema url.
 */
export function expectSameSpans(decoded: OtlpResourceSpans[], sdkSpans: readonly ReadableSpan[]): void {
  const flat = flatten(decoded);
  expect(flat.length, 'number of spans').to.equal(sdkSpans.length);
  const byId = new Map(flat.map((f) => [f.span.spanId, f]));
  expect(byId.size, 'span ids are unique').to.equal(flat.length);
  for (const s of sdkSpans) {
    const got = byId.get(s.spanContext().spanId);
    expect(got, `span ${s.spanContext().spanId} (${s.name}) present`).to.not.equal(undefined);
    if (!got) continue;
    const { flags, links, ...rest } = got.span;
    const exp = expectedSpan(s);
    expect(rest).to.deep.equal(omitLinks(exp));
    expect(links.map((l) => ({ ...l, flags: 0 }))).to.deep.equal(exp.links);
    expect(flags & 0xff, 'trace flags').to.equal(s.spanContext().traceFlags);
    links.forEach((l, i) => expect(l.flags & 0xff, 'link trace flags').to.equal(s.links[i].context.traceFlags));
    expect(got.resource.attributes).to.deep.equal(attrsOf(s.resource.attributes as Attributes));
    expect(got.scope.name).to.equal(s.instrumentationScope.name);
    expect(got.scope.version).to.equal(s.instrumentationScope.version ?? '');
    expect(got.scopeSchemaUrl).to.equal(s.instrumentationScope.schemaUrl ?? '');
  }
}

function omitLinks(s: Omit<OtlpSpan, 'flags'>): Omit<OtlpSpan, 'flags' | 'links'> {
  const { links: _links, ...rest } = s;
  return rest;
}
