// Test fixtures for the Kafka components: encoded OTLP trace and log requests built with the project's
// protobufjs schema, with controllable trace ids, span counts, padding, resources and scopes.

import { otlpTypes } from '../../../pipeline/sdk/otlp';

/** TraceSpec describes the spans of one request. */
export interface TraceSpec {
  /** Trace ids (32 hex chars); each gets `spansPerTrace` spans. */
  readonly traceIds: readonly string[];
  readonly spansPerTrace?: number;
  /** Bytes of an attribute value padded onto every span. */
  readonly padBytes?: number;
  /** Resources (services) the spans are spread over, round-robin. */
  readonly resources?: number;
  /** Scopes per resource the spans are spread over, round-robin. */
  readonly scopes?: number;
}

/** traceIdOf makes a deterministic 32-hex trace id from a number. */
export function traceIdOf(n: number, salt = 0): string {
  return (salt.toString(16).padStart(8, '0') + n.toString(16).padStart(24, '0'))
    .slice(-32)
    .replace(/^0{8}/, 'a1b2c3d4');
}

/** spanIdOf makes a deterministic 16-hex span id. */
export function spanIdOf(n: number): string {
  return (n + 1).toString(16).padStart(16, '0');
}

/** traceRequest encodes an ExportTraceServiceRequest. Span i of trace t is named `op-<t>-<i>`. */
export function traceRequest(spec: TraceSpec): Uint8Array {
  const t = otlpTypes();
  const nRes = spec.resources ?? 1;
  const nScopes = spec.scopes ?? 1;
  const buckets: unknown[][][] = Array.from({ length: nRes }, () => Array.from({ length: nScopes }, () => []));
  let k = 0;
  spec.traceIds.forEach((traceId, ti) => {
    for (let i = 0; i < (spec.spansPerTrace ?? 1); i++, k++) {
      buckets[k % nRes][Math.floor(k / nRes) % nScopes].push({
        trace_id: Buffer.from(traceId, 'hex'),
        span_id: Buffer.from(spanIdOf(k), 'hex'),
        parent_span_id: i === 0 ? undefined : Buffer.from(spanIdOf(k - 1), 'hex'),
        name: `op-${ti}-${i}`,
        kind: 2,
        start_time_unix_nano: '1700000000000000000',
        end_time_unix_nano: '1700000000001000000',
        attributes: spec.padBytes ? [{ key: 'pad', value: { string_value: 'x'.repeat(spec.padBytes) } }] : [],
      });
    }
  });
  const resource_spans = buckets.map((scopes, r) => ({
    resource: { attributes: [{ key: 'service.name', value: { string_value: `svc-${r}` } }] },
    scope_spans: scopes.map((spans, s) => ({
      scope: { name: `scope-${r}-${s}`, version: '1.0' },
      spans,
      schema_url: `https://example.test/${r}/${s}`,
    })),
    schema_url: `https://example.test/${r}`,
  }));
  return t.ExportTraceServiceRequest.encode(t.ExportTraceServiceRequest.fromObject({ resource_spans })).finish();
}

/** logsRequest encodes an ExportLogsServiceRequest with `perTrace` records per trace id ('' = no trace). */
export function logsRequest(traceIds: readonly string[], perTrace = 1): Uint8Array {
  const t = otlpTypes();
  const log_records = traceIds.flatMap((traceId, ti) =>
    Array.from({ length: perTrace }, (_, i) => ({
      time_unix_nano: '1700000000000000000',
      severity_number: 9,
      body: { string_value: `log-${ti}-${i}` },
      trace_id: traceId === '' ? undefined : Buffer.from(traceId, 'hex'),
      span_id: traceId === '' ? undefined : Buffer.from(spanIdOf(i), 'hex'),
    })),
  );
  const msg = t.ExportLogsServiceRequest.fromObject({
    resource_logs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }] },
        scope_logs: [{ scope: { name: 'logger' }, log_records }],
      },
    ],
  });
  return t.ExportLogsServiceRequest.encode(msg).finish();
}

/** DecodedSpan is a span flattened with the resource and scope it sits under. */
export interface DecodedSpan {
  readonly service: string;
  readonly scope: string;
  readonly spanId: string;
  readonly traceId: string;
  readonly name: string;
  /** The span re-encoded alone, to compare bytes. */
  readonly bytes: string;
}

/** decodeSpans flattens a request into its spans in wire order. */
export function decodeSpans(data: Uint8Array): DecodedSpan[] {
  const t = otlpTypes();
  const req = t.ExportTraceServiceRequest.decode(data) as unknown as {
    resource_spans: {
      resource?: { attributes: { key: string; value: { string_value?: string } }[] };
      scope_spans: { scope?: { name: string }; spans: Record<string, unknown>[] }[];
    }[];
  };
  const out: DecodedSpan[] = [];
  for (const rs of req.resource_spans) {
    const service = rs.resource?.attributes.find((a) => a.key === 'service.name')?.value.string_value ?? '';
    for (const ss of rs.scope_spans) {
      for (const span of ss.spans) {
        out.push({
          service,
          scope: ss.scope?.name ?? '',
          spanId: Buffer.from(span.span_id as Uint8Array).toString('hex'),
          traceId: Buffer.from(span.trace_id as Uint8Array).toString('hex'),
          name: String(span.name),
          bytes: Buffer.from(t.Span.encode(t.Span.fromObject(span)).finish()).toString('hex'),
        });
      }
    }
  }
  return out;
}
