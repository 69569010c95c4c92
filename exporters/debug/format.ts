// Renders decoded OTLP spans and log records for people: one text line per span or record (detailed:
// indented lines below it), or one OTLP/JSON-shaped object per span or record and line.

import type {
  OtlpAnyValue,
  OtlpKeyValue,
  OtlpLogRecord,
  OtlpResource,
  OtlpResourceLogs,
  OtlpResourceSpans,
  OtlpScope,
  OtlpSpan,
} from '../../pipeline/sdk/otlp';

const KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_NAMES = ['UNSET', 'OK', 'ERROR'];

/** Verbosity of the output. */
export type Verbosity = 'basic' | 'detailed';

/** isoNanos renders unix nanoseconds as an ISO-8601 UTC time with nanosecond digits. */
export function isoNanos(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2024-01-01T00:00:00.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** durationText renders a nanosecond duration as milliseconds with µs precision. */
export function durationText(ns: bigint): string {
  const us = ns < 0n ? 0n : ns / 1000n;
  return `${us / 1000n}.${(us % 1000n).toString().padStart(3, '0')}ms`;
}

/** valueText renders a value for text output: strings quoted, bytes base64, arrays/kvlists bracketed. */
export function valueText(v: OtlpAnyValue): string {
  switch (v.type) {
    case 'string':
      return JSON.stringify(v.value);
    case 'int':
      return v.value.toString();
    case 'double':
    case 'bool':
      return String(v.value);
    case 'bytes':
      return `b64:${Buffer.from(v.value).toString('base64')}`;
    case 'array':
      return `[${v.value.map(valueText).join(', ')}]`;
    case 'kvlist':
      return `{${v.value.map((kv) => `${kv.key}=${valueText(kv.value)}`).join(', ')}}`;
    default:
      return 'null';
  }
}

function attrsText(kvs: readonly OtlpKeyValue[]): string {
  return kvs.map((kv) => `${kv.key}=${valueText(kv.value)}`).join(' ');
}

function serviceOf(r: { readonly resource: OtlpResource }): string {
  const kv = r.resource.attributes.find((a) => a.key === 'service.name');
  return kv && kv.value.type === 'string' ? kv.value.value : 'unknown_service';
}

/** spanText renders one span: one line (basic) or that line plus indented detail lines (detailed). */
export function spanText(rs: OtlpResourceSpans, scope: OtlpScope, s: OtlpSpan, verbosity: Verbosity): string {
  const status = STATUS_NAMES[s.status.code] ?? String(s.status.code);
  const line =
    `${isoNanos(s.startTimeUnixNano)} ${serviceOf(rs)} ${JSON.stringify(s.name)} kind=${KIND_NAMES[s.kind] ?? s.kind} ` +
    `trace=${s.traceId} span=${s.spanId} parent=${s.parentSpanId || '-'} dur=${durationText(s.endTimeUnixNano - s.startTimeUnixNano)} ` +
    `status=${status}${s.status.message ? ` ${JSON.stringify(s.status.message)}` : ''}`;
  if (verbosity === 'basic') return line;
  const out = [line];
  if (s.attributes.length) out.push(`    attributes: ${attrsText(s.attributes)}`);
  out.push(`    resource: ${attrsText(rs.resource.attributes)}`);
  out.push(
    `    scope: ${scope.name || '-'}${scope.version ? `@${scope.version}` : ''}${scope.attributes.length ? ` ${attrsText(scope.attributes)}` : ''}`,
  );
  if (s.traceState || (s.flags & ~0xff) !== 0 || s.flags !== 1)
    out.push(`    trace_state: ${JSON.stringify(s.traceState)} flags: 0x${s.flags.toString(16)}`);
  for (const e of s.events) {
    out.push(
      `    event ${isoNanos(e.timeUnixNano)} ${JSON.stringify(e.name)}${e.attributes.length ? ` ${attrsText(e.attributes)}` : ''}`,
    );
  }
  for (const l of s.links) {
    out.push(`    link trace=${l.traceId} span=${l.spanId}${l.attributes.length ? ` ${attrsText(l.attributes)}` : ''}`);
  }
  const dropped = [
    s.droppedAttributesCount && `attributes=${s.droppedAttributesCount}`,
    s.droppedEventsCount && `events=${s.droppedEventsCount}`,
    s.droppedLinksCount && `links=${s.droppedLinksCount}`,
  ].filter(Boolean);
  if (dropped.length) out.push(`    dropped: ${dropped.join(' ')}`);
  return out.join('\n');
}

/** anyValueJson maps a value to its OTLP/JSON form ({stringValue}, {intValue: "1"}, {bytesValue: base64}, ...). */
export function anyValueJson(v: OtlpAnyValue): Record<string, unknown> {
  switch (v.type) {
    case 'string':
      return { stringValue: v.value };
    case 'bool':
      return { boolValue: v.value };
    case 'int':
      return { intValue: v.value.toString() };
    case 'double':
      return { doubleValue: Number.isFinite(v.value) ? v.value : String(v.value) };
    case 'bytes':
      return { bytesValue: Buffer.from(v.value).toString('base64') };
    case 'array':
      return { arrayValue: { values: v.value.map(anyValueJson) } };
    case 'kvlist':
      return { kvlistValue: { values: attrsJson(v.value) } };
    default:
      return {};
  }
}

function attrsJson(kvs: readonly OtlpKeyValue[]): Array<{ key: string; value: Record<string, unknown> }> {
  return kvs.map((kv) => ({ key: kv.key, value: anyValueJson(kv.value) }));
}

/** spanJson renders one span as an OTLP/JSON-shaped object with its resource and scope inlined. */
export function spanJson(
  rs: OtlpResourceSpans,
  scope: OtlpScope,
  s: OtlpSpan,
  verbosity: Verbosity,
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: s.startTimeUnixNano.toString(),
    endTimeUnixNano: s.endTimeUnixNano.toString(),
    status: s.status.message ? { code: s.status.code, message: s.status.message } : { code: s.status.code },
  };
  if (verbosity === 'basic') return { ...base, service: serviceOf(rs) };
  return {
    ...base,
    traceState: s.traceState,
    flags: s.flags,
    attributes: attrsJson(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      timeUnixNano: e.timeUnixNano.toString(),
      name: e.name,
      attributes: attrsJson(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState,
      attributes: attrsJson(l.attributes),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: l.flags,
    })),
    droppedLinksCount: s.droppedLinksCount,
    resource: {
      attributes: attrsJson(rs.resource.attributes),
      droppedAttributesCount: rs.resource.droppedAttributesCount,
    },
    scope: { name: scope.name, version: scope.version, attributes: attrsJson(scope.attributes) },
  };
}

/** renderSpans renders every span of decoded resource spans, one entry (line or text block) per span. */
export function renderSpans(
  resourceSpans: readonly OtlpResourceSpans[],
  format: 'text' | 'json',
  verbosity: Verbosity,
): string[] {
  const out: string[] = [];
  for (const rs of resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push(
          format === 'json'
            ? JSON.stringify(spanJson(rs, ss.scope, s, verbosity))
            : spanText(rs, ss.scope, s, verbosity),
        );
      }
    }
  }
  return out;
}

/** Severity ranges of OTLP SeverityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL. */
const SEVERITY_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** severityName is a record's severity text, or else the OTLP short name of its number (INFO, INFO2, ... ; '-' when unspecified). */
export function severityName(r: Pick<OtlpLogRecord, 'severityText' | 'severityNumber'>): string {
  if (r.severityText !== '') return r.severityText;
  const n = r.severityNumber;
  if (n < 1 || n > 24) return n === 0 ? '-' : `SEVERITY${n}`;
  const step = (n - 1) % 4;
  return `${SEVERITY_NAMES[Math.floor((n - 1) / 4)]}${step === 0 ? '' : step + 1}`;
}

/** logText renders one log record: one line (basic) or that line plus indented detail lines (detailed). */
export function logText(rl: OtlpResourceLogs, scope: OtlpScope, r: OtlpLogRecord, verbosity: Verbosity): string {
  const time = r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano;
  const line = `${isoNanos(time)} ${serviceOf(rl)} ${severityName(r)} ${valueText(r.body)} trace=${r.traceId || '-'} span=${r.spanId || '-'}`;
  if (verbosity === 'basic') return line;
  const out = [line];
  if (r.eventName) out.push(`    event_name: ${JSON.stringify(r.eventName)}`);
  if (r.attributes.length) out.push(`    attributes: ${attrsText(r.attributes)}`);
  out.push(`    resource: ${attrsText(rl.resource.attributes)}`);
  out.push(
    `    scope: ${scope.name || '-'}${scope.version ? `@${scope.version}` : ''}${scope.attributes.length ? ` ${attrsText(scope.attributes)}` : ''}`,
  );
  out.push(
    `    observed: ${isoNanos(r.observedTimeUnixNano)} severity_number: ${r.severityNumber} flags: 0x${r.flags.toString(16)}`,
  );
  if (r.droppedAttributesCount) out.push(`    dropped: attributes=${r.droppedAttributesCount}`);
  return out.join('\n');
}

/** logJson renders one log record as an OTLP/JSON-shaped object with its resource and scope inlined. */
export function logJson(
  rl: OtlpResourceLogs,
  scope: OtlpScope,
  r: OtlpLogRecord,
  verbosity: Verbosity,
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    timeUnixNano: r.timeUnixNano.toString(),
    observedTimeUnixNano: r.observedTimeUnixNano.toString(),
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    body: anyValueJson(r.body),
    traceId: r.traceId,
    spanId: r.spanId,
  };
  if (verbosity === 'basic') return { ...base, service: serviceOf(rl) };
  return {
    ...base,
    eventName: r.eventName,
    attributes: attrsJson(r.attributes),
    droppedAttributesCount: r.droppedAttributesCount,
    flags: r.flags,
    resource: {
      attributes: attrsJson(rl.resource.attributes),
      droppedAttributesCount: rl.resource.droppedAttributesCount,
    },
    scope: { name: scope.name, version: scope.version, attributes: attrsJson(scope.attributes) },
  };
}

/** renderLogs renders every record of decoded resource logs, one entry (line or text block) per record. */
export function renderLogs(
  resourceLogs: readonly OtlpResourceLogs[],
  format: 'text' | 'json',
  verbosity: Verbosity,
): string[] {
  const out: string[] = [];
  for (const rl of resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        out.push(
          format === 'json' ? JSON.stringify(logJson(rl, sl.scope, r, verbosity)) : logText(rl, sl.scope, r, verbosity),
        );
      }
    }
  }
  return out;
}
