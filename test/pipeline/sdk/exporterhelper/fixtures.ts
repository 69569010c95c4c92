// Test fixtures for the exporter tests: OTLP traces built field by field (every attribute type, events,
// links, status, flags) and encoded with the project codec, SDK-made spans encoded with the official
// @opentelemetry/otlp-transformer, unique ids per run, and a silent logger + fresh metrics registry.

import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ComponentSettings } from '../../../../pipeline/sdk/component';
import { encodeTraces } from '../../../../pipeline/sdk/otlp';
import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from '../../../../pipeline/sdk/otlp';
import type { TraceBatch, TraceChunk } from '../../../../pipeline/sdk/trace-batch';

/** newTraceId returns a random lowercase 32-hex trace id. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** newSpanId returns a random lowercase 16-hex span id. */
export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** kv builds one attribute. */
export function kv(key: string, value: OtlpAnyValue): OtlpKeyValue {
  return { key, value };
}

/** str, int, dbl, bool build typed values. */
export const str = (value: string): OtlpAnyValue => ({ type: 'string', value });
export const int = (value: bigint | number): OtlpAnyValue => ({ type: 'int', value: BigInt(value) });
export const dbl = (value: number): OtlpAnyValue => ({ type: 'double', value });
export const bool = (value: boolean): OtlpAnyValue => ({ type: 'bool', value });
export const bytes = (value: Uint8Array): OtlpAnyValue => ({ type: 'bytes', value });
export const arr = (...value: OtlpAnyValue[]): OtlpAnyValue => ({ type: 'array', value });
export const kvlist = (...value: OtlpKeyValue[]): OtlpAnyValue => ({ type: 'kvlist', value });

/** span builds an OtlpSpan with defaults for everything not given. */
export function span(p: Partial<OtlpSpan> & Pick<OtlpSpan, 'traceId' | 'name'>): OtlpSpan {
  return {
    spanId: newSpanId(),
    parentSpanId: '',
    traceState: '',
    flags: 1,
    kind: 1,
    startTimeUnixNano: 1_700_000_000_123_456_789n,
    endTimeUnixNano: 1_700_000_000_223_456_789n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    ...p,
  };
}

/** resourceSpans wraps spans of one resource and scope. */
export function resourceSpans(
  service: string,
  spans: OtlpSpan[],
  extra: OtlpKeyValue[] = [],
  scope = { name: 'test-scope', version: '1.2.3' },
): OtlpResourceSpans {
  return {
    resource: { attributes: [kv('service.name', str(service)), ...extra], droppedAttributesCount: 0, entityRefs: [] },
    schemaUrl: '',
    scopeSpans: [{ scope: { ...scope, attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
  };
}

/** chunkOf encodes the resource spans of ONE trace as a TraceChunk. */
export function chunkOf(traceId: string, rs: OtlpResourceSpans[]): TraceChunk {
  const spanCount = rs.reduce((n, r) => n + r.scopeSpans.reduce((m, s) => m + s.spans.length, 0), 0);
  return { traceId, data: encodeTraces(rs), spanCount };
}

/** batchOf builds a TraceBatch. */
export function batchOf(...chunks: TraceChunk[]): TraceBatch {
  return { chunks };
}

/** nowNanos is the current unix time in ns, rounded to a ms plus a sub-µs remainder (exercises µs truncation). */
export function nowNanos(offsetMs = 0): bigint {
  return BigInt(Date.now() + offsetMs) * 1_000_000n + 123_789n;
}

/** settings returns component settings with a silent (or given) logger and a fresh registry. */
export function settings(id = 'exporters.test', logger = pino({ level: 'silent' })): ComponentSettings {
  return { id, name: id.split('.').pop() ?? id, logger, metrics: new Registry() };
}

/** metricValue reads one sample of a metric from a registry (undefined when absent). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  const data = await m.get();
  const hit = data.values.find((v) =>
    Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val),
  );
  return hit?.value;
}

/**
 * richTrace builds one trace of two services with every attribute type, events, links, status and kinds:
 * frontend SERVER root -> backend CLIENT child (with a link to a span of another trace) -> backend INTERNAL
 * grandchild with an ERROR status.
 */
export function richTrace(
  traceId: string,
  services: [string, string],
  t0: bigint,
): {
  rs: OtlpResourceSpans[];
  ids: { root: string; child: string; grand: string; linkTrace: string; linkSpan: string };
} {
  const linkTrace = newTraceId();
  const linkSpan = newSpanId();
  const root = newSpanId();
  const child = newSpanId();
  const grand = newSpanId();
  const ms = 1_000_000n;
  const front = resourceSpans(
    services[0],
    [
      span({
        traceId,
        spanId: root,
        name: 'GET /checkout',
        kind: 2,
        startTimeUnixNano: t0,
        endTimeUnixNano: t0 + 250n * ms + 777n,
        attributes: [
          kv('http.method', str('GET')),
          kv('http.status_code', int(200)),
          kv('ratio', dbl(0.25)),
          kv('cache.hit', bool(true)),
          kv('big', int(9_007_199_254_740_993n)),
          kv('tags', arr(str('a'), str('b,c'))),
          kv('codes', arr(int(1), int(2), int(3))),
          kv('flags', arr(bool(true), bool(false))),
          kv('mixed', arr(str('x'), int(1))),
          kv('payload', bytes(Uint8Array.from([0, 1, 2, 250]))),
          kv('user', kvlist(kv('id', int(42)), kv('name', str('ann')))),
        ],
        events: [
          {
            timeUnixNano: t0 + 10n * ms + 999n,
            name: 'cache.lookup',
            attributes: [kv('key', str('cart:42')), kv('hit', bool(true)), kv('size', int(3))],
            droppedAttributesCount: 0,
          },
        ],
        status: { code: 1, message: '' },
      }),
    ],
    [kv('host.name', str('web-1')), kv('deployment.environment', str('test'))],
  );
  const back = resourceSpans(
    services[1],
    [
      span({
        traceId,
        spanId: child,
        parentSpanId: root,
        name: 'SELECT cart',
        kind: 3,
        startTimeUnixNano: t0 + 20n * ms + 1_999n,
        endTimeUnixNano: t0 + 120n * ms + 1n,
        attributes: [kv('db.system', str('postgresql')), kv('db.rows', int(-7))],
        links: [
          {
            traceId: linkTrace,
            spanId: linkSpan,
            traceState: '',
            attributes: [kv('link.kind', str('retry-of'))],
            droppedAttributesCount: 0,
            flags: 1,
          },
        ],
      }),
      span({
        traceId,
        spanId: grand,
        parentSpanId: child,
        name: 'parse rows',
        kind: 1,
        startTimeUnixNano: t0 + 121n * ms + 500n,
        endTimeUnixNano: t0 + 130n * ms,
        status: { code: 2, message: 'bad row 3' },
        events: [
          {
            timeUnixNano: t0 + 125n * ms + 999_999n,
            name: 'exception',
            attributes: [kv('exception.message', str('bad row 3'))],
            droppedAttributesCount: 2,
          },
        ],
        droppedAttributesCount: 1,
        droppedEventsCount: 3,
      }),
    ],
    [kv('host.name', str('db-proxy-1'))],
  );
  return { rs: [front, back], ids: { root, child, grand, linkTrace, linkSpan } };
}
