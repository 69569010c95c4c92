// The unit of data that moves between components: traces kept as encoded OTLP bytes, one chunk per
// trace, exactly the value of a Kafka message on the `otlp_spans` topic (architecture.md, contract 1).

/**
 * TraceChunk is the spans of ONE trace as an encoded OTLP `ExportTraceServiceRequest` (= `TracesData`):
 * ResourceSpans -> ScopeSpans -> Span, holding nothing of any other trace. Chunks of the same trace can
 * be concatenated byte-wise and still form one valid message (protobuf merges repeated fields).
 */
export interface TraceChunk {
  /** Lowercase 32-char hex trace id. */
  readonly traceId: string;
  /** Encoded ExportTraceServiceRequest bytes. */
  readonly data: Uint8Array;
  /** Number of spans in `data`. */
  readonly spanCount: number;
}

/** LogChunk is the log records of one trace (or of no trace: traceId '') as an encoded ExportLogsServiceRequest. */
export interface LogChunk {
  /** Lowercase 32-char hex trace id, or '' for records outside any trace. */
  readonly traceId: string;
  /** Encoded ExportLogsServiceRequest bytes. */
  readonly data: Uint8Array;
  /** Number of log records in `data`. */
  readonly recordCount: number;
}

/** TraceBatch is what a TracesConsumer receives: chunks, usually of many traces. */
export interface TraceBatch {
  readonly chunks: readonly TraceChunk[];
}

/** LogBatch is what a LogsConsumer receives. */
export interface LogBatch {
  readonly chunks: readonly LogChunk[];
}

/** countSpans sums the spans of a batch. */
export function countSpans(batch: TraceBatch): number {
  let n = 0;
  for (const c of batch.chunks) n += c.spanCount;
  return n;
}
