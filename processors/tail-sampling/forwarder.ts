// Sends kept traces (and the logs held with them) downstream in batches of many traces, retries
// retriable rejections with the SDK's backoff (retry_on_failure), and settles the waiting chunks: resolved
// after `next` accepted, resolved and counted for a PermanentError, rejected with the last error when the
// retry budget ran out or retries are disabled (so the Kafka receiver does not commit and the trace is
// replayed later). Data nobody waits for any more (acknowledged already: ack "buffered") that is given up
// is never lost silently: counted (tusk_sampler_dropped_*) and logged "dropped N traces (N spans) after
// retries", at most one line per DROP_LOG_INTERVAL_MS with the totals since.

import type { Logger } from 'pino';
import type { ProcessorNext } from '../../pipeline/sdk/component';
import { errorMessage, isPermanent } from '../../pipeline/sdk/errors';
import { retry, type BackoffPolicy } from '../../pipeline/sdk/retry';
import type { LogChunk, TraceChunk } from '../../pipeline/sdk/trace-batch';
import type { DropReason, SamplerMetrics } from './metrics';
import type { Waiter } from './trace-buffer';

/** Outgoing is one kept trace's (or its logs') data and the chunks waiting for it. */
export interface Outgoing<C> {
  readonly traceId: string;
  readonly chunks: readonly C[];
  readonly bytes: number;
  readonly waiters: readonly Waiter[];
}

/** Interval between two "dropped ... after retries" lines (the first is logged at once). */
export const DROP_LOG_INTERVAL_MS = 10_000;

/** itemCount is the number of spans (trace chunk) or log records (log chunk) a chunk holds. */
function itemCount(c: unknown): number {
  const x = c as { spanCount?: number; recordCount?: number };
  return x.spanCount ?? x.recordCount ?? 0;
}

/** ForwarderOptions configures batching and retry. */
export interface ForwarderOptions {
  /** Retry of one batch (retry_on_failure; max_elapsed_time 0 = no limit, enabled false = no retry). */
  readonly retry: BackoffPolicy;
  readonly maxBatchBytes: number;
  readonly maxBatchTraces: number;
  readonly logger: Logger;
  readonly metrics: SamplerMetrics;
}

/** Forwarder delivers kept data to the next consumer and settles the waiters. */
export class Forwarder {
  private readonly _inflight = new Set<Promise<void>>();
  private readonly _abort = new AbortController();
  private _pendingBytes = 0;
  /** Drops given up since the last "dropped" line: traces, spans, log records. */
  private _unlogged = { traces: 0, spans: 0, logRecords: 0, cause: '' };
  private _lastDropLogAt = -Infinity;
  private _dropLogTimer?: NodeJS.Timeout;

  constructor(
    private readonly _next: ProcessorNext,
    private _opts: ForwarderOptions,
  ) {}

  /** Bytes accepted for delivery and not yet settled (counted against the memory bound). */
  get pendingBytes(): number {
    return this._pendingBytes;
  }

  /** Number of batches in flight (including those waiting to retry). */
  get inflight(): number {
    return this._inflight.size;
  }

  /** updateOptions applies new batching/retry settings to batches sent from now on. */
  updateOptions(opts: ForwarderOptions): void {
    this._opts = opts;
  }

  /** sendTraces delivers kept traces in batches; returns at once. */
  sendTraces(items: readonly Outgoing<TraceChunk>[]): void {
    for (const batch of this._batches(items)) {
      this._track('traces', batch, (signal) =>
        this._next.consumeTraces({ chunks: batch.flatMap((i) => i.chunks) }, signal),
      );
    }
  }

  /** sendLogs delivers the logs of kept traces; without a logs consumer they are settled and counted as dropped. */
  sendLogs(items: readonly Outgoing<LogChunk>[]): void {
    if (items.length === 0) return;
    const consume = this._next.consumeLogs?.bind(this._next);
    if (!consume) {
      this._opts.metrics.exportFailures.inc({ kind: 'no_logs_consumer' }, items.length);
      for (const i of items) for (const w of i.waiters) w.resolve();
      return;
    }
    for (const batch of this._batches(items)) {
      this._track('logs', batch, (signal) => consume({ chunks: batch.flatMap((i) => i.chunks) }, signal));
    }
  }

  /** drain waits until every batch settled or `timeoutMs` passed; true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this._inflight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this._inflight]),
        new Promise<void>((r) => (timer = setTimeout(r, left))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  /** abort stops retries and in-flight sends (their signal aborts); the affected waiters are rejected with `err`. */
  abort(err: Error): void {
    if (!this._abort.signal.aborted) this._abort.abort(err);
  }

  /** flushDropLog writes the pending "dropped ... after retries" line now (shutdown), if any. */
  flushDropLog(): void {
    clearTimeout(this._dropLogTimer);
    this._dropLogTimer = undefined;
    const u = this._unlogged;
    if (u.traces === 0 && u.logRecords === 0) return;
    this._lastDropLogAt = Date.now();
    const what = u.traces > 0 ? `${u.traces} traces (${u.spans} spans)` : '';
    const logs = u.logRecords > 0 ? `${what === '' ? '' : ' and '}${u.logRecords} log records` : '';
    this._opts.logger.warn(
      { droppedTraces: u.traces, droppedSpans: u.spans, droppedLogRecords: u.logRecords, cause: u.cause },
      `dropped ${what}${logs} after retries: they were acknowledged already (ack "buffered"): ${u.cause}`,
    );
    this._unlogged = { traces: 0, spans: 0, logRecords: 0, cause: '' };
  }

  /** _dropped counts kept data lost after it was acknowledged; gave_up ones go to the periodic log line. */
  private _dropped<C>(
    kind: 'traces' | 'logs',
    items: readonly Outgoing<C>[],
    reason: DropReason,
    cause: unknown,
  ): void {
    if (items.length === 0) return;
    let n = 0;
    for (const i of items) for (const c of i.chunks) n += itemCount(c);
    const { metrics } = this._opts;
    if (kind === 'logs') {
      metrics.droppedLogRecords.inc({ reason }, n);
    } else {
      metrics.droppedTraces.inc({ reason }, items.length);
      metrics.droppedSpans.inc({ reason }, n);
    }
    if (reason !== 'gave_up') return; // a permanent rejection has its own error line
    const u = this._unlogged;
    if (kind === 'logs') u.logRecords += n;
    else {
      u.traces += items.length;
      u.spans += n;
    }
    u.cause = errorMessage(cause);
    const wait = this._lastDropLogAt + DROP_LOG_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flushDropLog();
    else if (!this._dropLogTimer) {
      this._dropLogTimer = setTimeout(() => this.flushDropLog(), wait);
      this._dropLogTimer.unref();
    }
  }

  private *_batches<C>(items: readonly Outgoing<C>[]): Generator<Outgoing<C>[]> {
    let batch: Outgoing<C>[] = [];
    let bytes = 0;
    for (const item of items) {
      if (
        batch.length > 0 &&
        (batch.length >= this._opts.maxBatchTraces || bytes + item.bytes > this._opts.maxBatchBytes)
      ) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.bytes;
    }
    if (batch.length > 0) yield batch;
  }

  private _track<C>(kind: 'traces' | 'logs', batch: Outgoing<C>[], send: (signal: AbortSignal) => Promise<void>): void {
    const bytes = batch.reduce((n, i) => n + i.bytes, 0);
    this._pendingBytes += bytes;
    const p = this._deliver(kind, batch, send).finally(() => {
      this._pendingBytes -= bytes;
      this._inflight.delete(p);
    });
    this._inflight.add(p);
  }

  private async _deliver<C>(
    kind: 'traces' | 'logs',
    batch: Outgoing<C>[],
    send: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const { retry: policy, metrics, logger } = this._opts;
    const signal = this._abort.signal;
    let attempts = 0;
    try {
      await retry(
        policy,
        async () => {
          attempts++;
          if (signal.aborted) throw signal.reason;
          try {
            await send(signal);
          } catch (err) {
            if (!isPermanent(err)) metrics.exportFailures.inc({ kind: 'retriable' }, 1);
            throw err;
          }
        },
        { signal },
      );
    } catch (failure) {
      const traceIds = batch.map((i) => i.traceId);
      if (isPermanent(failure)) {
        metrics.exportFailures.inc({ kind: 'permanent' }, batch.length);
        const fields = { err: failure, kind, traceIds: traceIds.slice(0, 50), traces: traceIds.length };
        logger.error(fields, 'next consumer rejected kept %s permanently; settled as failed', kind);
        this._dropped(kind, batch, 'rejected', failure);
        for (const i of batch) for (const w of i.waiters) w.resolve();
        return;
      }
      // Stopped by abort (shutdown): the waiters get the abort's reason, as abort() promises.
      const err: unknown = signal.aborted ? signal.reason : failure;
      metrics.exportFailures.inc({ kind: 'gave_up' }, batch.length);
      const fields = {
        err: errorMessage(err),
        kind,
        attempts,
        traceIds: traceIds.slice(0, 50),
        traces: traceIds.length,
      };
      // Items with waiters go back upstream (redelivered); items without were acknowledged: they are lost.
      const orphans = batch.filter((i) => i.waiters.length === 0);
      if (orphans.length < batch.length) logger.warn(fields, 'giving up delivering kept %s; chunks not settled', kind);
      this._dropped(kind, orphans, 'gave_up', err);
      for (const i of batch) for (const w of i.waiters) w.reject(err);
      return;
    }
    for (const i of batch) for (const w of i.waiters) w.resolve();
  }
}
