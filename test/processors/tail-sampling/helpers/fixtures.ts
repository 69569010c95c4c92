// Test fixtures: SDK spans encoded exactly as the official OTel SDKs do (ProtobufTraceSerializer), split
// into one chunk per trace with the codec; plain SpanSummary / TraceView builders for policy tests; and
// component settings with a silent logger and a fresh metrics registry.

import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ComponentSettings } from '../../../../pipeline/sdk/component';
import { splitTracesByTraceId } from '../../../../pipeline/sdk/otlp/index';
import type { TraceChunk } from '../../../../pipeline/sdk/trace-batch';
import type { SpanSummary, TraceView } from '../../../../processors/tail-sampling/policies/types';
import { buildTraceView } from '../../../../processors/tail-sampling/trace-view';

/** SpanSpec describes one span of a fixture trace; times in ms since the epoch. */
export interface SpanSpec {
  traceId: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  service?: string;
  startMs?: number;
  durationMs?: number;
  status?: 'OK' | 'ERROR' | 'UNSET';
  attributes?: Attributes;
  traceState?: string;
  /** W3C sampled flag of the span context; default true. */
  sampled?: boolean;
  events?: { name: string; attributes?: Attributes }[];
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

function hr(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** sdkSpan builds a ReadableSpan as the SDK would hand it to an exporter. */
export function sdkSpan(spec: SpanSpec): ReadableSpan {
  const start = spec.startMs ?? 1_700_000_000_000;
  const dur = spec.durationMs ?? 10;
  const spanId = spec.spanId ?? newSpanId();
  const ctx = {
    traceId: spec.traceId,
    spanId,
    traceFlags: spec.sampled === false ? TraceFlags.NONE : TraceFlags.SAMPLED,
    traceState: spec.traceState ? new TraceState(spec.traceState) : undefined,
  };
  const code =
    spec.status === 'ERROR' ? SpanStatusCode.ERROR : spec.status === 'OK' ? SpanStatusCode.OK : SpanStatusCode.UNSET;
  return {
    name: spec.name ?? 'op',
    kind: SpanKind.SERVER,
    spanContext: () => ctx,
    parentSpanContext: spec.parentSpanId
      ? { traceId: spec.traceId, spanId: spec.parentSpanId, traceFlags: TraceFlags.SAMPLED }
      : undefined,
    startTime: hr(start),
    endTime: hr(start + dur),
    duration: hr(dur),
    status: { code },
    attributes: spec.attributes ?? {},
    links: [],
    events: (spec.events ?? []).map((e) => ({ name: e.name, attributes: e.attributes ?? {}, time: hr(start) })),
    ended: true,
    resource: resourceFromAttributes({ 'service.name': spec.service ?? 'svc' }),
    instrumentationScope: { name: 'test' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** encodeSpans encodes SDK spans into one ExportTraceServiceRequest. */
export function encodeSpans(specs: readonly SpanSpec[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(specs.map(sdkSpan));
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

/** chunksOf encodes spans and splits them into one TraceChunk per trace id with the codec. */
export function chunksOf(specs: readonly SpanSpec[]): TraceChunk[] {
  return splitTracesByTraceId(encodeSpans(specs)).chunks;
}

/** chunkOf is chunksOf for spans of a single trace. */
export function chunkOf(specs: readonly SpanSpec[]): TraceChunk {
  const chunks = chunksOf(specs);
  if (chunks.length !== 1) throw new Error(`expected one trace, got ${chunks.length}`);
  return chunks[0];
}

/** summary builds a SpanSummary directly (policy unit tests). Times in ms. */
export function summary(over: Partial<SpanSummary> & { startMs?: number; durationMs?: number } = {}): SpanSummary {
  const startUs = (over.startMs ?? 1_000) * 1000;
  const endUs = startUs + (over.durationMs ?? 10) * 1000;
  return {
    traceId: over.traceId ?? '0af7651916cd43dd8448eb211c80319c',
    spanId: over.spanId ?? newSpanId(),
    parentSpanId: over.parentSpanId ?? '',
    name: over.name ?? 'op',
    kind: over.kind ?? 2,
    startUs: over.startUs ?? startUs,
    endUs: over.endUs ?? endUs,
    statusCode: over.statusCode ?? 0,
    service: over.service ?? 'svc',
    traceState: over.traceState ?? '',
    attributes: over.attributes,
    ...(over.flags === undefined ? {} : { flags: over.flags }),
    ...(over.sizeBytes === undefined ? {} : { sizeBytes: over.sizeBytes }),
    ...(over.details === undefined ? {} : { details: over.details }),
  };
}

/** view builds a TraceView from span summaries. */
export function view(
  spans: SpanSummary[],
  traceId = spans[0]?.traceId ?? '0af7651916cd43dd8448eb211c80319c',
): TraceView {
  return buildTraceView(traceId, spans, 0);
}

/** settings returns component settings with a silent logger and a fresh registry. */
export function settings(name = 'tail_sampling'): ComponentSettings {
  return { id: `processors.${name}`, name, logger: pino({ level: 'silent' }), metrics: new Registry() };
}

/** metricValue reads one series of a counter/gauge from a registry (0 when absent). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const data = await m.get();
  let total = 0;
  for (const v of data.values) {
    const l = v.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, val]) => String(l[k]) === val) && !('le' in l)) total += v.value;
  }
  return total;
}
