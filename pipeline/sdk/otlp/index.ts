// Public surface of the OTLP codec: the wire schema, the hot-path scanner (split/index/stamp spans as
// bytes), full decoding for exporters, OTLP/JSON conversion and sampling thresholds in tracestate.
// Import from here, not from the files.

export { otlpTypes, SCHEMA_JSON, TRACE_SERVICE_EXPORT_PATH, LOGS_SERVICE_EXPORT_PATH } from './schema';
export type { OtlpTypes } from './schema';
export { OtlpDecodeError, OTLP_DECODE_ERROR_CODE, isOtlpDecodeError } from './errors';
export { splitTracesByTraceId, splitLogsByTraceId } from './scanner';
export type { TraceSplitResult, LogSplitResult, RejectedCounts } from './scanner';
export { indexTraceChunk, readSpanDetails, scanTraceChunk } from './span-index';
export type { SpanDetails, SpanEventDetails, SpanIndex, SpanFieldRanges, SpanIndexSink } from './span-index';
export { appendSpanAttributes, countSpans, countLogRecords } from './stamp';
export {
  decodeTraces,
  encodeTraces,
  decodeLogs,
  encodeLogs,
  anyValueToJs,
  longToBigInt,
  bigIntToLongBits,
} from './decode';
export type {
  OtlpAnyValue,
  OtlpKeyValue,
  OtlpEntityRef,
  OtlpResource,
  OtlpScope,
  OtlpEvent,
  OtlpLink,
  OtlpStatus,
  OtlpSpan,
  OtlpScopeSpans,
  OtlpResourceSpans,
  OtlpLogRecord,
  OtlpScopeLogs,
  OtlpResourceLogs,
} from './decode';
export { otlpJsonToProtobuf, protobufToOtlpJson, messageToOtlpJson } from './json';
export type { OtlpSignal } from './json';
export { hexOf, hexToBytes, readUtf8 } from './wire';
export type { AttrValue } from './wire';
// Protobuf wire primitives, for a component that re-frames OTLP bytes itself (the kafka exporter's splitter).
export { asDecodeError, skipField, varintSize, writeVarint, WT_LEN } from './wire';
export {
  encodeThreshold,
  MAX_THRESHOLD,
  parseRandomness,
  parseThreshold,
  probabilityToThreshold,
  readOtSampling,
  thresholdAdjustedCount,
  thresholdToProbability,
  traceIdRandomness,
  TraceStateThreshold,
} from './tracestate';
export type { OtSampling, ThresholdRule } from './tracestate';
