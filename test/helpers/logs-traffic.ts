// Hand-built OTLP traffic for the tests of logs that follow their trace: a request of log records tied to
// trace ids, a two-span trace (root and a child that may carry an ERROR status), a protobuf POST, and the
// reader of a debug exporter's JSON-lines file.

import fs from 'node:fs';
import { encodeLogs, type OtlpLogRecord, type OtlpSpan } from '../../pipeline/sdk/otlp';
import { newSpanId, nowNanos, span, str } from '../pipeline/sdk/exporterhelper/fixtures';

/** logsOf encodes one ExportLogsServiceRequest of `service` with one INFO record per entry, tied to its trace id. */
export function logsOf(service: string, records: Array<{ traceId: string; body: string }>): Uint8Array {
  const logRecords: OtlpLogRecord[] = records.map((r) => ({
    timeUnixNano: nowNanos(),
    observedTimeUnixNano: nowNanos(),
    severityNumber: 9,
    severityText: '',
    body: str(r.body),
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: r.traceId,
    spanId: '',
    eventName: '',
  }));
  const resource = {
    attributes: [{ key: 'service.name', value: str(service) }],
    droppedAttributesCount: 0,
    entityRefs: [],
  };
  const scope = { name: 'app', version: '', attributes: [], droppedAttributesCount: 0 };
  return encodeLogs([{ resource, schemaUrl: '', scopeLogs: [{ scope, schemaUrl: '', logRecords }] }]);
}

/** twoSpanTrace is a root `POST /pay` and its child `charge`, the child with an ERROR status when `error`. */
export function twoSpanTrace(traceId: string, error: boolean): OtlpSpan[] {
  const root = span({ traceId, name: 'POST /pay', startTimeUnixNano: nowNanos(-50), endTimeUnixNano: nowNanos() });
  const child = span({
    traceId,
    name: 'charge',
    parentSpanId: root.spanId,
    spanId: newSpanId(),
    status: { code: error ? 2 : 0, message: '' },
  });
  return [root, child];
}

/** postProtobuf POSTs an OTLP protobuf body and resolves with the HTTP status. */
export async function postProtobuf(url: string, body: Uint8Array): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
  await res.arrayBuffer();
  return res.status;
}

/** A span or log record as the debug exporter writes it (format "json"), with the fields these tests read. */
export interface DebugLine {
  traceId: string;
  name?: string;
  body?: { stringValue: string };
}

/** debugLinesOf reads the complete lines of a debug exporter's output file (none while it does not exist). */
export function debugLinesOf(file: string): DebugLine[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DebugLine);
}
