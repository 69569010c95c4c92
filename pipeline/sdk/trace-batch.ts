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
  /** Where and when the spans entered the pipeline, when the sender knows it (the Kafka receiver). */
  readonly eventTime?: ChunkEventTime;
}

/**
 * EventClock is the event-time clock of one input (a Kafka partition): its watermark is a time (ms since the
 * epoch, on the clocks of the processes that accepted the data) below which no more data will arrive on
 * that input. A consumer that waits for more data of a trace can wait on this clock instead of its own.
 */
export interface EventClock {
  /**
   * watermark returns the input's current watermark, or undefined when the input has none (its writers do
   * not publish one, or the clock was closed): the consumer then counts on its own wall clock.
   */
  watermark(nowMs: number): number | undefined;
}

/** ChunkEventTime places a chunk on its input's event-time clock. */
export interface ChunkEventTime {
  /** The clock of the input the chunk came from (a live view: its watermark moves). */
  readonly clock: EventClock;
  /** When the spans were accepted by the pipeline's first tier (ms since the epoch). */
  readonly acceptedAt: number;
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
 * in `chunks`, when that chunk reached the end of its journey without error (decided and dropped, or kept
 * and accepted downstream). A chunk that fails is never reported: the batch's promise stays the authority,
 * and settles as before once every chunk did.
 *
 * Rules that keep it safe:
 * - A sender attaches it with `withChunkSettledHook`, as a non-enumerable property: a component that
 *   passes on `{ ...batch, chunks: other }` does not carry it along by mistake, while one that hands on
 *   the batch object itself keeps it (same chunks, same indexes).
 * - A component that hands one batch to more than one consumer (a fan-out) must not pass it on: one
 *   consumer's notice would settle a chunk the others still hold.
 * - The notice holds no reference to the chunk, so a consumer may copy a chunk's bytes and let go of the
 *   original (the Kafka fetch it is a view of).
 */
export type ChunkSettledHook = (index: number) => void;

/**
 * withChunkSettledHook returns `batch` with the early per-chunk notice attached (non-enumerable, so that
 * spreading the batch into a new one drops it).
 */
export function withChunkSettledHook<B extends TraceBatch | LogBatch>(batch: B, hook: ChunkSettledHook): B {
  Object.defineProperty(batch, 'onChunkSettled', {
    value: hook,
    enumerable: false,
    writable: false,
    configurable: false,
  });
  return batch;
}

/** TraceBatch is what a TracesConsumer receives: chunks, usually of many traces. */
export interface TraceBatch {
  readonly chunks: readonly TraceChunk[];
  /** Optional early per-chunk settlement notice (see ChunkSettledHook). */
  readonly onChunkSettled?: ChunkSettledHook;
}

/** LogBatch is what a LogsConsumer receives. */
export interface LogBatch {
  readonly chunks: readonly LogChunk[];
  /** Optional early per-chunk settlement notice (see ChunkSettledHook). */
  readonly onChunkSettled?: ChunkSettledHook;
}

/** countBatchSpans sums the spans of a batch. */
export function countBatchSpans(batch: TraceBatch): number {
  let n = 0;
  for (const c of batch.chunks) n += c.spanCount;
  return n;
}

/**
 * FramedBytes is encoded bytes that can be written into a larger buffer without being built on their own
 * first. A receiver's chunks are framed from the request they were split from: a writer that copies them
 * anyway (the Kafka exporter into its produce request) asks for them this way and saves a copy and an
 * allocation per chunk; `data` builds them (once) for everyone else.
 */
export interface FramedBytes {
  /** The number of bytes. */
  readonly byteLength: number;
  /** copyTo writes the bytes into `out` at `offset` and returns the offset after them. */
  copyTo(out: Uint8Array, offset: number): number;
}

/** isFramedBytes tells whether `x` can write itself as FramedBytes. */
export function isFramedBytes(x: unknown): x is FramedBytes {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as Partial<FramedBytes>;
  return typeof f.copyTo === 'function' && typeof f.byteLength === 'number';
}

/** framedBytesOf returns the chunk as FramedBytes when it can write itself that way, else undefined. */
export function framedBytesOf(chunk: TraceChunk | LogChunk): FramedBytes | undefined {
  return isFramedBytes(chunk) ? chunk : undefined;
}
