// The trace buffer: per trace id, the encoded span chunks (bytes as received) plus their small index (a
// SpanTable: packed numbers, no object per span), the
// log chunks held with the trace, and the handles of the callers waiting for the trace to settle. Tracks
// memory in bytes and trace count, keeps deadlines on a timer wheel, and picks the oldest traces for an
// early decision when a limit is exceeded (never drops anything itself). A trace whose spans came with an
// event-time clock (a Kafka partition's watermark) waits decision_wait on that clock, bounded by
// max_decision_wait on the wall clock.

import type { ChunkEventTime, LogChunk } from '../../pipeline/sdk/trace-batch';
import type { SlabAllocator } from './slab';
import { SpanTable, type ChunkSpanScan } from './span-table';
import type { LedgerRecord } from './state/types';
import { TimerWheel } from './timer-wheel';

/**
 * Estimated in-memory cost of one span's index entry beyond its encoded bytes (object, strings, map slot).
 * Counted in bytes_buffered so the memory bound covers the index, not only the payload.
 */
export const SPAN_INDEX_OVERHEAD_BYTES = 256;
/** A trace waiting on its event-time clock is looked at again at least this often (the clock can jump). */
export const CLOCK_RECHECK_MS = 500;
/** Estimated fixed cost of one buffered trace (entry, arrays, timer slot). */
export const TRACE_OVERHEAD_BYTES = 512;

/** Why a trace is decided now. */
export type Trigger =
  | 'root_settled'
  | 'decision_wait'
  | 'max_decision_wait'
  | 'max_spans_per_trace'
  | 'max_bytes_per_trace'
  | 'max_buffered_bytes'
  | 'num_traces'
  | 'ledger'
  | 'shutdown'
  | 'flush';

/** Waiter is the settle handle of one chunk handed to consumeTraces/consumeLogs. */
export interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** BufferedTrace is everything held for one trace id until it is decided. */
export interface BufferedTrace {
  readonly traceId: string;
  readonly firstSeenMs: number;
  readonly chunks: Uint8Array[];
  /** Index of the spans in `chunks` (rows refer to chunks by position: append both together). */
  readonly spans: SpanTable;
  readonly logs: LogChunk[];
  readonly waiters: Waiter[];
  readonly logWaiters: Waiter[];
  /** Accounted bytes: encoded spans and logs plus the index estimate. */
  bytes: number;
  rootSeenMs?: number;
  /** Current deadline and what set it. */
  dueMs: number;
  trigger: Trigger;
  /** An earlier decision found in the ledger (late spans, replay): followed instead of evaluating. */
  ledger?: LedgerRecord;
  /** Its chunks were copied out of the buffers they arrived in (it outlived the detach age); later ones are copied on arrival. */
  detached?: boolean;
  /** Clock and accept time of its first span chunk that had them: decision_wait counts on that clock. */
  eventTime?: ChunkEventTime;
}

/** EventTimeWaits are the waits of a trace on its event-time clock. */
export interface EventTimeWaits {
  /** Wait from the first span's accept time, on its clock (decision_wait). */
  readonly decisionWaitMs: number;
  /** Bound on the wall clock from when the trace was first seen (max_decision_wait). */
  readonly maxDecisionWaitMs: number;
}

/** Limits the buffer enforces by asking for early decisions. */
export interface BufferLimits {
  maxBufferedBytes: number;
  numTraces: number;
}

/** TraceBuffer holds undecided traces in first-seen order. */
export class TraceBuffer {
  private readonly _traces = new Map<string, BufferedTrace>();
  private readonly _now = new Set<string>();
  private readonly _wheel: TimerWheel;
  private _bytes = 0;
  private _spans = 0;
  /** Bytes of the traces in `_now` (already due at the next tick). */
  private _markedBytes = 0;
  /** Trace ids and first-seen times in creation order, for `takeAged`. */
  private _agedIds: string[] = [];
  private _agedAt: number[] = [];
  private _agedHead = 0;

  /** `slabs` holds the span rows of the buffered traces. */
  constructor(
    tickMs: number,
    nowMs: number,
    private readonly _slabs: SlabAllocator,
  ) {
    this._wheel = new TimerWheel(tickMs, nowMs);
  }

  get traceCount(): number {
    return this._traces.size;
  }

  get bytes(): number {
    return this._bytes;
  }

  get spanCount(): number {
    return this._spans;
  }

  get(traceId: string): BufferedTrace | undefined {
    return this._traces.get(traceId);
  }

  /** create adds an empty trace due at `dueMs` (its decision_wait deadline). */
  create(traceId: string, nowMs: number, dueMs: number): BufferedTrace {
    const t: BufferedTrace = {
      traceId,
      firstSeenMs: nowMs,
      chunks: [],
      spans: new SpanTable(this._slabs),
      logs: [],
      waiters: [],
      logWaiters: [],
      bytes: TRACE_OVERHEAD_BYTES,
      dueMs,
      trigger: 'decision_wait',
    };
    this._traces.set(traceId, t);
    this._bytes += t.bytes;
    this._wheel.schedule(traceId, dueMs);
    this._agedIds.push(traceId);
    this._agedAt.push(nowMs);
    return t;
  }

  /**
   * takeAged returns the traces created at or before `cutoffMs` that are still buffered, each once, oldest
   * first (the ones decided meanwhile are skipped). The owner calls it every tick, which keeps the list of
   * creation times short.
   */
  takeAged(cutoffMs: number): BufferedTrace[] {
    const ids = this._agedIds;
    const at = this._agedAt;
    let head = this._agedHead;
    const out: BufferedTrace[] = [];
    while (head < ids.length && at[head] <= cutoffMs) {
      const t = this._traces.get(ids[head]);
      if (t && t.firstSeenMs === at[head]) out.push(t);
      head++;
    }
    if (head === ids.length) {
      this._agedIds = [];
      this._agedAt = [];
      head = 0;
    } else if (head > 4096 && head * 2 > ids.length) {
      this._agedIds = ids.slice(head);
      this._agedAt = at.slice(head);
      head = 0;
    }
    this._agedHead = head;
    return out;
  }

  /** addSpans appends one encoded chunk and its index (`scan`: the spans scanned from `data`). */
  addSpans(t: BufferedTrace, data: Uint8Array, scan: ChunkSpanScan): void {
    const cost = data.byteLength + scan.count * SPAN_INDEX_OVERHEAD_BYTES;
    t.spans.append(scan, t.chunks.length);
    t.chunks.push(data);
    t.bytes += cost;
    this._bytes += cost;
    this._spans += scan.count;
    if (this._now.has(t.traceId)) this._markedBytes += cost;
  }

  /** addLogs holds one log chunk with its trace. */
  addLogs(t: BufferedTrace, chunk: LogChunk): void {
    t.logs.push(chunk);
    t.bytes += chunk.data.byteLength;
    this._bytes += chunk.data.byteLength;
    if (this._now.has(t.traceId)) this._markedBytes += chunk.data.byteLength;
  }

  /** dueAt moves a trace's deadline earlier (never later). */
  dueAt(t: BufferedTrace, atMs: number, trigger: Trigger): void {
    if (atMs >= t.dueMs || this._now.has(t.traceId)) return;
    t.dueMs = atMs;
    t.trigger = trigger;
    this._wheel.schedule(t.traceId, atMs);
  }

  /** decideNow marks a trace for the next tick. */
  decideNow(t: BufferedTrace, trigger: Trigger): void {
    if (this._now.has(t.traceId)) return;
    t.trigger = trigger;
    this._now.add(t.traceId);
    this._markedBytes += t.bytes;
    this._wheel.cancel(t.traceId);
  }

  /** isMarked tells whether a trace is already due at the next tick. */
  isMarked(traceId: string): boolean {
    return this._now.has(traceId);
  }

  /** decideAllNow marks every trace (shutdown, flush). */
  decideAllNow(trigger: Trigger): void {
    for (const t of this._traces.values()) this.decideNow(t, trigger);
  }

  /**
   * enforce marks the oldest unmarked traces for an early decision until what remains fits the limits.
   * Returns what it marked, by reason, so the caller can count evictions.
   */
  enforce(limits: BufferLimits): { bytes: number; traces: number } {
    let keptBytes = this._bytes - this._markedBytes;
    let keptTraces = this._traces.size - this._now.size;
    const marked = { bytes: 0, traces: 0 };
    if (keptBytes <= limits.maxBufferedBytes && keptTraces <= limits.numTraces) return marked;
    for (const t of this._traces.values()) {
      if (keptBytes <= limits.maxBufferedBytes && keptTraces <= limits.numTraces) break;
      if (this._now.has(t.traceId)) continue;
      const reason = keptTraces > limits.numTraces ? 'num_traces' : 'max_buffered_bytes';
      this.decideNow(t, reason);
      keptBytes -= t.bytes;
      keptTraces--;
      if (reason === 'num_traces') marked.traces++;
      else marked.bytes++;
    }
    return marked;
  }

  /**
   * takeDue removes and returns the traces to decide now: marked ones and those whose deadline passed. With
   * `waits`, a trace due by decision_wait whose clock has a watermark is taken only once that watermark is
   * decisionWaitMs past its accept time, or (trigger max_decision_wait) maxDecisionWaitMs after it was first
   * seen; until then it is put back on the wheel.
   */
  takeDue(nowMs: number, waits?: EventTimeWaits): BufferedTrace[] {
    const out: BufferedTrace[] = [];
    for (const id of this._now) this._take(id, out);
    this._now.clear();
    this._markedBytes = 0;
    for (const id of this._wheel.takeDue(nowMs)) {
      const t = this._traces.get(id);
      if (t && waits && t.trigger === 'decision_wait' && this._waitsOnClock(t, nowMs, waits)) continue;
      this._take(id, out);
    }
    return out;
  }

  /** _waitsOnClock puts `t` back on the wheel and returns true when its clock says it must wait further. */
  private _waitsOnClock(t: BufferedTrace, nowMs: number, waits: EventTimeWaits): boolean {
    const et = t.eventTime;
    const watermark = et?.clock.watermark(nowMs);
    if (et === undefined || watermark === undefined) return false; // no clock: the wall clock decided
    const left = et.acceptedAt + waits.decisionWaitMs - watermark;
    if (left <= 0) return false;
    const cap = t.firstSeenMs + waits.maxDecisionWaitMs;
    if (nowMs >= cap) {
      t.trigger = 'max_decision_wait';
      return false;
    }
    // Look again when the clock could have reached the deadline at wall-clock pace, or sooner: a clock
    // jumps forward when its stalled writers resume (or one expires).
    t.dueMs = Math.min(nowMs + Math.min(left, CLOCK_RECHECK_MS), cap);
    this._wheel.schedule(t.traceId, t.dueMs);
    return true;
  }

  private _take(id: string, out: BufferedTrace[]): void {
    const t = this._traces.get(id);
    if (!t) return;
    this._traces.delete(id);
    this._wheel.cancel(id);
    this._bytes -= t.bytes;
    this._spans -= t.spans.count;
    out.push(t);
  }
}
