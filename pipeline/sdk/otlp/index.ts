// Public surface of the OTLP codec: the wire schema, the hot-path scanner (split/index/stamp spans as
// bytes), full decoding for exporters, and OTLP/JSON conversion. Import from here, not from the files.

export { otlpTypes, SCHEMA_JSON, TRACE_SERVICE_EXPORT_PATH, LOGS_SERVICE_EXPORT_PATH } from './schema';
export type { OtlpTypes } from './schema';
export { OtlpDecodeError, OTLP_DECODE_ERROR_CODE, isOtlpDecodeError } from './errors';
export {
  splitTracesByTraceId, splitLogsByTraceId, indexTraceChunk, scanTraceChunk, appendSpanAttributes, countSpans, countLogRecords,
} from './scanner';
export type { AttrValue, SpanIndex, SpanFieldRanges, SpanIndexSink, SplitResult, LogSplitResult } from './scanner';
export { decodeTraces, encodeTraces, decodeLogs, encodeLogs, anyValueToJs, longToBigInt, bigIntToLongBits } from './decode';
export type {
  OtlpAnyValue, OtlpKeyValue, OtlpEntityRef, OtlpResource, OtlpScope, OtlpEvent, OtlpLink, OtlpStatus, OtlpSpan, OtlpScopeSpans,
  OtlpResourceSpans, OtlpLogRecord, OtlpScopeLogs, OtlpResourceLogs,
} from './decode';
export { otlpJsonToProtobuf, protobufToOtlpJson, messageToOtlpJson } from './json';
export type { OtlpSignal } from './json';
export { hexOf, hexToBytes, readUtf8 } from './wire';
