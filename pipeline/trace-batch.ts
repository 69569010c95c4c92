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

/**
 * ChunkSettledHook is an optional early notice from a consumer that holds chunks for long (the tail
 * sampler) to a sender that can release part of a batch before all of it settled (the Kafka receiver
 * settles each message's offset on its own). The consumer calls it once per chunk, with the chunk's index
 * in `chunks` and the chunk itself, when that chunk reached the end of its journey without error (decided
 * and dropped, or kept and accepted downstream). A chunk that fails is never reported: the batch's promise
 * stays the authority, and settles as before once every chunk did.
 *
 * Rules that keep it safe:
 * - The sender ignores a call whose chunk is not the object it put at that index, so a component that
 *   passes on `{ ...batch, chunks: other }` by mistake cannot settle the wrong message.
 * - A component that hands one batch to more than one consumer (a fan-out) must not pass the hook on:
 *   one consumer's notice would settle a chunk the others still hold.
 * - A component that builds new chunks passes no hook (its batch then settles as a whole).
 */
export type ChunkSettledHook<C> = (index: number, chunk: C) => void;

/** TraceBatch is what a TracesConsumer receives: chunks, usually of many traces. */
export interface TraceBatch {
  readonly chunks: readonly TraceChunk[];
  /** Optional early per-chunk settlement notice (see ChunkSettledHook). */
  readonly onChunkSettled?: ChunkSettledHook<TraceChunk>;
}

/** LogBatch is what a LogsConsumer receives. */
export interface LogBatch {
  readonly chunks: readonly LogChunk[];
  /** Optional early per-chunk settlement notice (see ChunkSettledHook). */
  readonly onChunkSettled?: ChunkSettledHook<LogChunk>;
}

/** countSpans sums the spans of a batch. */
export function countSpans(batch: TraceBatch): number {
  let n = 0;
  for (const c of batch.chunks) n += c.spanCount;
  return n;
}
