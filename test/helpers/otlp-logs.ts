// Logs sent with their traces, for drills and fault tests: log records made by the OpenTelemetry JS logs SDK
// (LoggerProvider of @opentelemetry/sdk-logs), each emitted inside its span's context so that the SDK stamps it
// with the span's trace and span ids, encoded by the official @opentelemetry/otlp-transformer protobuf
// serializer and sent (POST …/v1/logs) by the load client of otlp-load.ts at the time of their span. And a small
// OTLP/HTTP sink that records, for every log record it receives, its trace id, its drill id and when it arrived
// (and accepts traces without looking at them).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { anyValueToJs, decodeLogs } from '../../pipeline/sdk/otlp';
import type { PlannedTrace } from './otlp-load';

/** The attribute carrying a planned log record's id (what the sink reports). */
export const LOG_ID_ATTRIBUTE = 'drill.log.id';

/** One planned log record and when (ms after the load starts) it is sent. */
export interface PlannedLog {
  readonly id: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly record: ReadableLogRecord;
  readonly sendAtMs: number;
}

/** Options of planLogs. */
export interface LogPlanOptions {
  service: string;
  /** One more record per trace, in its root span's context, sent this many ms after the root. 0 = none. */
  lateMs: number;
}

class Collect implements LogRecordProcessor {
  readonly records: ReadableLogRecord[] = [];
  onEmit(record: ReadableLogRecord): void {
    this.records.push(record);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * planLogs emits with the logs SDK one log record per span of each planned trace, inside that span's context,
 * sent with the span (same sendAtMs); with `lateMs` > 0 also one record in the root's context after the root.
 */
export function planLogs(traces: readonly PlannedTrace[], o: LogPlanOptions): PlannedLog[] {
  const collect = new Collect();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': o.service, 'deployment.environment': 'faults' }),
    processors: [collect],
  });
  const logger = provider.getLogger('tusk-faults', '1.0.0');
  const out: PlannedLog[] = [];
  for (const t of traces) {
    const root = t.spans.find((s) => s.spanId === t.rootSpanId);
    const sends = t.spans.map((s) => ({ span: s, sendAtMs: s.sendAtMs, late: false }));
    if (o.lateMs > 0 && root) sends.push({ span: root, sendAtMs: root.sendAtMs + o.lateMs, late: true });
    for (const [n, s] of sends.entries()) {
      const id = `${t.traceId}-${n}`;
      collect.records.length = 0;
      logger.emit({
        timestamp: Date.now(),
        severityNumber: t.error && !s.late ? SeverityNumber.ERROR : SeverityNumber.INFO,
        body: `${s.late ? 'after' : 'during'} ${s.span.span.name} of trace ${t.index}`,
        attributes: { [LOG_ID_ATTRIBUTE]: id },
        context: trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(s.span.span.spanContext())),
      });
      const record = collect.records[0];
      const sc = record.spanContext;
      if (sc === undefined) throw new Error(`log record ${id} carries no span context`);
      out.push({ id, traceId: sc.traceId, spanId: sc.spanId, record, sendAtMs: s.sendAtMs });
    }
  }
  void provider.shutdown();
  return out;
}

/** encodeLogRecords serializes log records as an OTLP ExportLogsServiceRequest (protobuf), officially. */
export function encodeLogRecords(records: ReadableLogRecord[]): Uint8Array {
  const body = ProtobufLogsSerializer.serializeRequest(records);
  if (!body) throw new Error('serializer returned nothing');
  return body;
}

/** One log record received by the sink. */
export interface SunkLog {
  /** The record's LOG_ID_ATTRIBUTE ('' when absent). */
  readonly id: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Epoch ms of the request's arrival. */
  readonly atMs: number;
}

/** An OTLP/HTTP sink: logs recorded, traces accepted. */
export interface LogsSink {
  /** Base URL to give an `otlp` exporter as its endpoint (it appends /v1/logs, /v1/traces). */
  readonly endpoint: string;
  readonly logs: SunkLog[];
  close(): Promise<void>;
}

/** startLogsSink listens on `host` (free port); answers 200 to /v1/logs and /v1/traces, 404 otherwise. */
export async function startLogsSink(host = '127.0.0.1'): Promise<LogsSink> {
  const logs: SunkLog[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const atMs = Date.now();
      try {
        const raw = Buffer.concat(parts);
        const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
        if (req.url === '/v1/logs') {
          for (const r of decodeLogs(body))
            for (const sl of r.scopeLogs)
              for (const l of sl.logRecords) {
                const idAttr = l.attributes.find((a) => a.key === LOG_ID_ATTRIBUTE);
                const id = idAttr ? String(anyValueToJs(idAttr.value)) : '';
                logs.push({ id, traceId: l.traceId, spanId: l.spanId, atMs });
              }
        } else if (req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    logs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
