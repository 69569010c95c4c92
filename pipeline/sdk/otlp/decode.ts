// Full OTLP decoding for exporters and tools: ExportTraceServiceRequest / ExportLogsServiceRequest bytes
// <-> plain typed objects (hex ids, bigint nanosecond times, tagged attribute values), through the
// protobufjs types of schema.ts. Not for the per-span hot path: use scanner.ts there.

import type { Long } from 'protobufjs';
import { OtlpDecodeError } from './errors';
import { otlpTypes } from './schema';
import { hexOf, hexToBytes } from './wire';

/** OtlpAnyValue is an attribute or log body value, tagged with its OTLP type. */
export type OtlpAnyValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'bytes'; readonly value: Uint8Array }
  | { readonly type: 'array'; readonly value: OtlpAnyValue[] }
  | { readonly type: 'kvlist'; readonly value: OtlpKeyValue[] }
  /** An AnyValue with no value set. */
  | { readonly type: 'empty' };

/** OtlpKeyValue is one attribute. */
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** OtlpEntityRef is a reference from a resource to an entity (OTLP development feature). */
export interface OtlpEntityRef {
  schemaUrl: string;
  type: string;
  idKeys: string[];
  descriptionKeys: string[];
}

/** OtlpResource is the entity producing telemetry. */
export interface OtlpResource {
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
  entityRefs: OtlpEntityRef[];
}

/** OtlpScope is the instrumentation scope (library) that produced the data. */
export interface OtlpScope {
  name: string;
  version: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
}

/** OtlpEvent is a span event. */
export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
}

/** OtlpLink points from a span to another span. Ids are lowercase hex. */
export interface OtlpLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

/** OtlpStatus is a span's status: code 0 unset, 1 ok, 2 error. */
export interface OtlpStatus {
  code: number;
  message: string;
}

/** OtlpSpan is one span, fully decoded. Ids are lowercase hex ('' when absent); times are nanoseconds. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  flags: number;
  name: string;
  /** OTLP SpanKind number: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
  events: OtlpEvent[];
  droppedEventsCount: number;
  links: OtlpLink[];
  droppedLinksCount: number;
  status: OtlpStatus;
}

/** OtlpScopeSpans groups the spans of one instrumentation scope. */
export interface OtlpScopeSpans {
  scope: OtlpScope;
  spans: OtlpSpan[];
  schemaUrl: string;
}

/** OtlpResourceSpans groups the scopes of one resource. */
export interface OtlpResourceSpans {
  resource: OtlpResource;
  scopeSpans: OtlpScopeSpans[];
  schemaUrl: string;
}

/** OtlpLogRecord is one log record, fully decoded. */
export interface OtlpLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** OTLP SeverityNumber (0 unspecified, 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal). */
  severityNumber: number;
  severityText: string;
  body: OtlpAnyValue;
  attributes: OtlpKeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}

/** OtlpScopeLogs groups the log records of one instrumentation scope. */
export interface OtlpScopeLogs {
  scope: OtlpScope;
  logRecords: OtlpLogRecord[];
  schemaUrl: string;
}

/** OtlpResourceLogs groups the scopes of one resource. */
export interface OtlpResourceLogs {
  resource: OtlpResource;
  scopeLogs: OtlpScopeLogs[];
  schemaUrl: string;
}

// ---------------------------------------------------------------------------------------------------
// protobufjs message shapes (snake_case, as declared in schema.ts)

type LongLike = Long | number | { low: number; high: number; unsigned?: boolean };
interface PbAnyValue {
  value?: string;
  string_value?: string;
  bool_value?: boolean;
  int_value?: LongLike;
  double_value?: number;
  array_value?: { values?: PbAnyValue[] } | null;
  kvlist_value?: { values?: PbKeyValue[] } | null;
  bytes_value?: Uint8Array;
}
interface PbKeyValue {
  key?: string;
  value?: PbAnyValue | null;
}
interface PbResource {
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
  entity_refs?: PbEntityRef[];
}
interface PbEntityRef {
  schema_url?: string;
  type?: string;
  id_keys?: string[];
  description_keys?: string[];
}
interface PbScope {
  name?: string;
  version?: string;
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
}
interface PbEvent {
  time_unix_nano?: LongLike;
  name?: string;
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
}
interface PbLink {
  trace_id?: Uint8Array;
  span_id?: Uint8Array;
  trace_state?: string;
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
  flags?: number;
}
interface PbSpan {
  trace_id?: Uint8Array;
  span_id?: Uint8Array;
  trace_state?: string;
  parent_span_id?: Uint8Array;
  flags?: number;
  name?: string;
  kind?: number;
  start_time_unix_nano?: LongLike;
  end_time_unix_nano?: LongLike;
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
  events?: PbEvent[];
  dropped_events_count?: number;
  links?: PbLink[];
  dropped_links_count?: number;
  status?: { message?: string; code?: number } | null;
}
interface PbScopeSpans {
  scope?: PbScope | null;
  spans?: PbSpan[];
  schema_url?: string;
}
interface PbResourceSpans {
  resource?: PbResource | null;
  scope_spans?: PbScopeSpans[];
  schema_url?: string;
}
interface PbLogRecord {
  time_unix_nano?: LongLike;
  observed_time_unix_nano?: LongLike;
  severity_number?: number;
  severity_text?: string;
  body?: PbAnyValue | null;
  attributes?: PbKeyValue[];
  dropped_attributes_count?: number;
  flags?: number;
  trace_id?: Uint8Array;
  span_id?: Uint8Array;
  event_name?: string;
}
interface PbScopeLogs {
  scope?: PbScope | null;
  log_records?: PbLogRecord[];
  schema_url?: string;
}
interface PbResourceLogs {
  resource?: PbResource | null;
  scope_logs?: PbScopeLogs[];
  schema_url?: string;
}

// ---------------------------------------------------------------------------------------------------
// 64-bit helpers

/** longToBigInt converts a protobufjs Long (or number) to a bigint, unsigned or signed. */
export function longToBigInt(v: LongLike | undefined | null, unsigned: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? u : BigInt.asIntN(64, u);
}

/** bigIntToLongBits converts a bigint to the {low, high} form protobufjs writers accept (two's complement). */
export function bigIntToLongBits(v: bigint, unsigned: boolean): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned };
}

function hex(bytes: Uint8Array | undefined): string {
  return bytes && bytes.length > 0 ? hexOf(bytes, 0, bytes.length) : '';
}

function idBytes(hexId: string, what: string): Uint8Array | undefined {
  if (hexId === '') return undefined;
  const b = hexToBytes(hexId);
  if (!b) throw new TypeError(`${what} must be a hex string, got ${JSON.stringify(hexId)}`);
  return b;
}

// ---------------------------------------------------------------------------------------------------
// protobufjs -> plain

function fromAny(v: PbAnyValue | null | undefined): OtlpAnyValue {
  if (!v) return { type: 'empty' };
  switch (v.value) {
    case 'string_value':
      return { type: 'string', value: v.string_value ?? '' };
    case 'bool_value':
      return { type: 'bool', value: v.bool_value ?? false };
    case 'int_value':
      return { type: 'int', value: longToBigInt(v.int_value, false) };
    case 'double_value':
      return { type: 'double', value: v.double_value ?? 0 };
    case 'bytes_value':
      return { type: 'bytes', value: Uint8Array.from(v.bytes_value ?? []) };
    case 'array_value':
      return { type: 'array', value: (v.array_value?.values ?? []).map(fromAny) };
    case 'kvlist_value':
      return { type: 'kvlist', value: fromAttrs(v.kvlist_value?.values) };
    default:
      return { type: 'empty' };
  }
}

function fromAttrs(kvs: PbKeyValue[] | undefined): OtlpKeyValue[] {
  return (kvs ?? []).map((kv) => ({ key: kv.key ?? '', value: fromAny(kv.value) }));
}

function fromResource(r: PbResource | null | undefined): OtlpResource {
  return {
    attributes: fromAttrs(r?.attributes),
    droppedAttributesCount: r?.dropped_attributes_count ?? 0,
    entityRefs: (r?.entity_refs ?? []).map((e) => ({
      schemaUrl: e.schema_url ?? '',
      type: e.type ?? '',
      idKeys: [...(e.id_keys ?? [])],
      descriptionKeys: [...(e.description_keys ?? [])],
    })),
  };
}

function fromScope(s: PbScope | null | undefined): OtlpScope {
  return {
    name: s?.name ?? '',
    version: s?.version ?? '',
    attributes: fromAttrs(s?.attributes),
    droppedAttributesCount: s?.dropped_attributes_count ?? 0,
  };
}

function fromSpan(s: PbSpan): OtlpSpan {
  return {
    traceId: hex(s.trace_id),
    spanId: hex(s.span_id),
    parentSpanId: hex(s.parent_span_id),
    traceState: s.trace_state ?? '',
    flags: s.flags ?? 0,
    name: s.name ?? '',
    kind: s.kind ?? 0,
    startTimeUnixNano: longToBigInt(s.start_time_unix_nano, true),
    endTimeUnixNano: longToBigInt(s.end_time_unix_nano, true),
    attributes: fromAttrs(s.attributes),
    droppedAttributesCount: s.dropped_attributes_count ?? 0,
    events: (s.events ?? []).map((e) => ({
      timeUnixNano: longToBigInt(e.time_unix_nano, true),
      name: e.name ?? '',
      attributes: fromAttrs(e.attributes),
      droppedAttributesCount: e.dropped_attributes_count ?? 0,
    })),
    droppedEventsCount: s.dropped_events_count ?? 0,
    links: (s.links ?? []).map((l) => ({
      traceId: hex(l.trace_id),
      spanId: hex(l.span_id),
      traceState: l.trace_state ?? '',
      attributes: fromAttrs(l.attributes),
      droppedAttributesCount: l.dropped_attributes_count ?? 0,
      flags: l.flags ?? 0,
    })),
    droppedLinksCount: s.dropped_links_count ?? 0,
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
  };
}

function fromLogRecord(l: PbLogRecord): OtlpLogRecord {
  return {
    timeUnixNano: longToBigInt(l.time_unix_nano, true),
    observedTimeUnixNano: longToBigInt(l.observed_time_unix_nano, true),
    severityNumber: l.severity_number ?? 0,
    severityText: l.severity_text ?? '',
    body: fromAny(l.body),
    attributes: fromAttrs(l.attributes),
    droppedAttributesCount: l.dropped_attributes_count ?? 0,
    flags: l.flags ?? 0,
    traceId: hex(l.trace_id),
    spanId: hex(l.span_id),
    eventName: l.event_name ?? '',
  };
}

function decodeWith<T>(data: Uint8Array, decode: (d: Uint8Array) => T, what: string): T {
  try {
    return decode(data);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new OtlpDecodeError(`malformed ${what}: ${/index out of range/.test(msg) ? 'truncated message' : msg}`, {
      cause: err,
    });
  }
}

/**
 * decodeTraces fully decodes an encoded ExportTraceServiceRequest (or TracesData, the same bytes).
 * @throws OtlpDecodeError when the bytes do not decode.
 */
export function decodeTraces(data: Uint8Array): OtlpResourceSpans[] {
  const msg = decodeWith(
    data,
    (d) => otlpTypes().ExportTraceServiceRequest.decode(d) as unknown as { resource_spans?: PbResourceSpans[] },
    'ExportTraceServiceRequest',
  );
  return (msg.resource_spans ?? []).map((rs) => ({
    resource: fromResource(rs.resource),
    schemaUrl: rs.schema_url ?? '',
    scopeSpans: (rs.scope_spans ?? []).map((ss) => ({
      scope: fromScope(ss.scope),
      schemaUrl: ss.schema_url ?? '',
      spans: (ss.spans ?? []).map(fromSpan),
    })),
  }));
}

/**
 * decodeLogs fully decodes an encoded ExportLogsServiceRequest (or LogsData).
 * @throws OtlpDecodeError when the bytes do not decode.
 */
export function decodeLogs(data: Uint8Array): OtlpResourceLogs[] {
  const msg = decodeWith(
    data,
    (d) => otlpTypes().ExportLogsServiceRequest.decode(d) as unknown as { resource_logs?: PbResourceLogs[] },
    'ExportLogsServiceRequest',
  );
  return (msg.resource_logs ?? []).map((rl) => ({
    resource: fromResource(rl.resource),
    schemaUrl: rl.schema_url ?? '',
    scopeLogs: (rl.scope_logs ?? []).map((sl) => ({
      scope: fromScope(sl.scope),
      schemaUrl: sl.schema_url ?? '',
      logRecords: (sl.log_records ?? []).map(fromLogRecord),
    })),
  }));
}

// ---------------------------------------------------------------------------------------------------
// plain -> protobufjs

function toAny(v: OtlpAnyValue): PbAnyValue {
  switch (v.type) {
    case 'string':
      return { string_value: v.value };
    case 'bool':
      return { bool_value: v.value };
    case 'int':
      return { int_value: bigIntToLongBits(v.value, false) };
    case 'double':
      return { double_value: v.value };
    case 'bytes':
      return { bytes_value: v.value };
    case 'array':
      return { array_value: { values: v.value.map(toAny) } };
    case 'kvlist':
      return { kvlist_value: { values: toAttrs(v.value) } };
    default:
      return {};
  }
}

function toAttrs(kvs: readonly OtlpKeyValue[]): PbKeyValue[] {
  return kvs.map((kv) => ({ key: kv.key, value: toAny(kv.value) }));
}

function toResource(r: OtlpResource): PbResource {
  return {
    attributes: toAttrs(r.attributes),
    dropped_attributes_count: r.droppedAttributesCount,
    entity_refs: (r.entityRefs ?? []).map((e) => ({
      schema_url: e.schemaUrl,
      type: e.type,
      id_keys: e.idKeys,
      description_keys: e.descriptionKeys,
    })),
  };
}

function toScope(s: OtlpScope): PbScope {
  return {
    name: s.name,
    version: s.version,
    attributes: toAttrs(s.attributes),
    dropped_attributes_count: s.droppedAttributesCount,
  };
}

function toSpan(s: OtlpSpan): PbSpan {
  return {
    trace_id: idBytes(s.traceId, 'traceId'),
    span_id: idBytes(s.spanId, 'spanId'),
    trace_state: s.traceState,
    parent_span_id: idBytes(s.parentSpanId, 'parentSpanId'),
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    start_time_unix_nano: bigIntToLongBits(s.startTimeUnixNano, true),
    end_time_unix_nano: bigIntToLongBits(s.endTimeUnixNano, true),
    attributes: toAttrs(s.attributes),
    dropped_attributes_count: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      time_unix_nano: bigIntToLongBits(e.timeUnixNano, true),
      name: e.name,
      attributes: toAttrs(e.attributes),
      dropped_attributes_count: e.droppedAttributesCount,
    })),
    dropped_events_count: s.droppedEventsCount,
    links: s.links.map((l) => ({
      trace_id: idBytes(l.traceId, 'links.traceId'),
      span_id: idBytes(l.spanId, 'links.spanId'),
      trace_state: l.traceState,
      attributes: toAttrs(l.attributes),
      dropped_attributes_count: l.droppedAttributesCount,
      flags: l.flags,
    })),
    dropped_links_count: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message },
  };
}

function toLogRecord(l: OtlpLogRecord): PbLogRecord {
  return {
    time_unix_nano: bigIntToLongBits(l.timeUnixNano, true),
    observed_time_unix_nano: bigIntToLongBits(l.observedTimeUnixNano, true),
    severity_number: l.severityNumber,
    severity_text: l.severityText,
    body: l.body.type === 'empty' ? null : toAny(l.body),
    attributes: toAttrs(l.attributes),
    dropped_attributes_count: l.droppedAttributesCount,
    flags: l.flags,
    trace_id: idBytes(l.traceId, 'traceId'),
    span_id: idBytes(l.spanId, 'spanId'),
    event_name: l.eventName,
  };
}

/** encodeTraces encodes resource spans as an ExportTraceServiceRequest (default values are omitted). */
export function encodeTraces(resourceSpans: readonly OtlpResourceSpans[]): Uint8Array {
  const msg = {
    resource_spans: resourceSpans.map((rs): PbResourceSpans => ({
      resource: toResource(rs.resource),
      schema_url: rs.schemaUrl,
      scope_spans: rs.scopeSpans.map((ss) => ({
        scope: toScope(ss.scope),
        schema_url: ss.schemaUrl,
        spans: ss.spans.map(toSpan),
      })),
    })),
  };
  return otlpTypes().ExportTraceServiceRequest.encode(msg).finish();
}

/** encodeLogs encodes resource logs as an ExportLogsServiceRequest (default values are omitted). */
export function encodeLogs(resourceLogs: readonly OtlpResourceLogs[]): Uint8Array {
  const msg = {
    resource_logs: resourceLogs.map((rl): PbResourceLogs => ({
      resource: toResource(rl.resource),
      schema_url: rl.schemaUrl,
      scope_logs: rl.scopeLogs.map((sl) => ({
        scope: toScope(sl.scope),
        schema_url: sl.schemaUrl,
        log_records: sl.logRecords.map(toLogRecord),
      })),
    })),
  };
  return otlpTypes().ExportLogsServiceRequest.encode(msg).finish();
}

/** anyValueToJs renders an OtlpAnyValue as a plain JS value (ints as bigint, bytes as Uint8Array, kvlists as objects). */
export function anyValueToJs(v: OtlpAnyValue): unknown {
  switch (v.type) {
    case 'empty':
      return null;
    case 'array':
      return v.value.map(anyValueToJs);
    case 'kvlist':
      return Object.fromEntries(v.value.map((kv) => [kv.key, anyValueToJs(kv.value)]));
    default:
      return v.value;
  }
}
