// The exporter skeleton every exporter builds on (like the OTel Collector's exporterhelper): bounded sending
// queue -> split the batch into requests -> each request retried with backoff -> metrics, logs, and the
// permanent-rejection path (count, log trace ids, dead-letter, reject with ExportRejectedError). A batch's
// promise resolves only when every request of it was accepted by the backend. Traces always; logs for an
// exporter that implements `splitLogs` and exposes `consumeLogs` through `exportLogs`.

import type { Logger } from 'pino';
import type { ComponentHealth, ComponentSettings, Exporter, Host } from '../component';
import { once } from '../component';
import { errorMessage, isPermanent, PipelineError, ShutdownError } from '../errors';
import type { LogBatch, LogChunk, TraceBatch, TraceChunk } from '../trace-batch';
import { backoffPolicyFrom, retry, retryAfterOf } from '../retry';
import type { BackoffPolicy, RetryOnFailureConfig } from '../retry';
import type { SendingQueueConfig } from './config';
import { DeadLetterWriter, type DeadLetterConfig } from '../kafka/dead-letter';
import { ExporterErrorCode, ExportError, ExportRejectedError } from './errors';
import { ExporterMetrics } from './metrics';
import { SendingQueue } from './queue';
import { causeOf, ExportStatus } from './export-status';

/** ExportSignal is what a request carries: spans or log records. */
export type ExportSignal = 'traces' | 'logs';

/** ExportRequest is one request to the backend, cut from a batch by the exporter. */
export interface ExportRequest {
  /** Ids of the traces whose spans (or log records) the request carries. */
  readonly traceIds: readonly string[];
  /** Number of spans it carries, or of log records for a logs request. */
  readonly itemCount: number;
}

/** ExportChunk is a chunk of either signal. */
export type ExportChunk = TraceChunk | LogChunk;

/** SplitResult is a batch cut into requests, plus the chunks that can never be exported (undecodable). */
export interface SplitResult<R extends ExportRequest, C extends ExportChunk = TraceChunk> {
  readonly requests: R[];
  /** Chunks refused before sending, with the PermanentError that says why. */
  readonly invalid: ReadonlyArray<{ readonly chunk: C; readonly error: unknown }>;
}

/** itemsOf is the number of spans or log records a chunk holds. */
export function itemsOf(c: ExportChunk): number {
  return 'spanCount' in c ? c.spanCount : c.recordCount;
}

/** CommonExporterConfig is the part of the config the skeleton reads (snake_case, parsed). */
export interface CommonExporterConfig {
  readonly retry_on_failure: RetryOnFailureConfig;
  readonly sending_queue: SendingQueueConfig;
  readonly dead_letter?: DeadLetterConfig;
  /** Failing this long (ms) with no success makes health() not ready; default 5s, 0 = at the first failure. */
  readonly not_ready_after?: number;
}

/** Default of not_ready_after in milliseconds when the config has none. */
const DEFAULT_NOT_READY_AFTER_MS = 5000;

const MAX_LOGGED_TRACE_IDS = 100;

/**
 * QueuedExporter implements the Exporter contract around two hooks: `split` (batch -> requests; throws a
 * PermanentError for data that can never be exported) and `send` (one attempt of one request; throws an
 * ExportError whose `retriable` flag drives the retry loop). `consumeTraces` never resolves on failure:
 * retriable failures reject with the last retriable error after the bounded retries, permanent ones with
 * ExportRejectedError. Shutdown is idempotent and safe without start.
 */
export abstract class QueuedExporter<R extends ExportRequest> implements Exporter {
  readonly capabilities = { mutatesData: false } as const;
  protected readonly _logger: Logger;
  protected readonly _metrics: ExporterMetrics;
  protected readonly _id: string;
  /** Outcome of the attempts: the warn line of a failure streak and the not-ready verdict (export-status.ts). */
  protected readonly _status: ExportStatus;
  private readonly _policy: BackoffPolicy;
  private readonly _queue?: SendingQueue;
  private readonly _drainTimeoutMs: number;
  private readonly _deadLetter?: DeadLetterWriter;
  private readonly _abort = new AbortController();
  /** Batches being exported without a queue (sending_queue.enabled false). */
  private readonly _direct = new Set<Promise<void>>();
  private _closed = false;
  private readonly _endpoint: string;

  /** `endpoint` names the destination in log lines and health (a URL, host:port or gRPC target). */
  constructor(settings: ComponentSettings, common: CommonExporterConfig, endpoint = '') {
    this._id = settings.id;
    this._logger = settings.logger;
    this._endpoint = endpoint;
    this._status = new ExportStatus({
      component: settings.id,
      endpoint,
      logger: settings.logger,
      notReadyAfterMs: common.not_ready_after ?? DEFAULT_NOT_READY_AFTER_MS,
    });
    this._metrics = new ExporterMetrics(settings.metrics, settings.id);
    this._policy = backoffPolicyFrom(common.retry_on_failure);
    const q = common.sending_queue;
    this._drainTimeoutMs = q.drain_timeout;
    if (q.enabled) {
      this._queue = new SendingQueue({
        component: settings.id,
        numConsumers: q.num_consumers,
        maxItems: q.queue_size,
        maxBytes: q.queue_bytes,
        retryAfterMs: common.retry_on_failure.initial_interval,
        onChange: (n, bytes) => this._metrics.queue(n, bytes),
      });
      this._metrics.queueCapacity(q.queue_size);
    }
    this._metrics.queue(0, 0);
    if (common.dead_letter) {
      const { id, logger, metrics } = settings;
      this._deadLetter = new DeadLetterWriter({ component: id, config: common.dead_letter, logger, metrics });
    }
  }

  /** split cuts a batch into requests and sets aside the chunks that can never be exported. */
  protected abstract split(batch: TraceBatch): SplitResult<R>;

  /** splitLogs is split for log batches, in exporters that take logs. */
  protected splitLogs(_batch: LogBatch): SplitResult<R, LogChunk> {
    throw new PipelineError('ERR_EXPORTER_NO_LOGS', `${this._id} does not export logs`, {
      retriable: false,
      component: this._id,
    });
  }

  /** send makes ONE attempt to deliver one request within the exporter's timeout. */
  protected abstract send(request: R, signal: AbortSignal, kind: ExportSignal): Promise<void>;

  /** onStart prepares clients; must return quickly. Default: nothing. */
  protected async onStart(_host: Host): Promise<void> {}

  /** onShutdown releases clients after the queue drained. Default: nothing. */
  protected async onShutdown(): Promise<void> {}

  /** start prepares the exporter and checks the dead-letter topic in the background; connections open on first use. */
  async start(host: Host): Promise<void> {
    this._deadLetter?.start();
    await this.onStart(host);
  }

  /**
   * health is not ready after shutdown and once the exporter has failed with no success for not_ready_after
   * (the reason names the endpoint and the cause); otherwise ready, with healthDetail() as the detail.
   */
  health(): ComponentHealth {
    if (this._closed) return { ready: false, detail: 'shut down' };
    return this._status.health() ?? { ready: true, detail: this.healthDetail() };
  }

  /** healthDetail is the one-line detail of a ready exporter. Default: its endpoint. */
  protected healthDetail(): string {
    return this._endpoint;
  }

  /** consumeTraces resolves once every span of the batch was accepted by the backend. */
  consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
    return this._submit('traces', batch.chunks, () => this.split(batch), signal);
  }

  /**
   * exportLogs resolves once every log record of the batch was accepted by the backend; an exporter that
   * takes logs calls it from its `consumeLogs` (the pipeline sends logs only to exporters that have one).
   */
  protected exportLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
    return this._submit('logs', batch.chunks, () => this.splitLogs(batch), signal);
  }

  private _submit<C extends ExportChunk>(
    kind: ExportSignal,
    chunks: readonly C[],
    split: () => SplitResult<R, C>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (this._closed) return Promise.reject(new ShutdownError(this._id));
    if (chunks.length === 0) return Promise.resolve();
    if (!this._queue) {
      const p = this._export(kind, chunks, split, signal);
      const tracked = p.catch(() => undefined);
      this._direct.add(tracked);
      void tracked.finally(() => this._direct.delete(tracked));
      return p;
    }
    let bytes = 0;
    for (const c of chunks) bytes += c.data.byteLength;
    return this._queue.submit(bytes, () => this._export(kind, chunks, split, signal));
  }

  /**
   * shutdown stops accepting batches, waits up to sending_queue.drain_timeout for accepted ones, then aborts
   * what is left (those reject retriably), and releases clients. Idempotent; safe without start.
   */
  readonly shutdown = once(async () => {
    this._closed = true;
    const left = this._queue ? await this._queue.drain(this._drainTimeoutMs) : await this._drainDirect();
    if (left > 0)
      this._logger.warn(
        { batches: left },
        'shutdown deadline passed: aborting unfinished batches (they are rejected, not acknowledged)',
      );
    this._abort.abort();
    try {
      await this.onShutdown();
    } finally {
      await this._deadLetter?.close();
    }
  });

  private async _drainDirect(): Promise<number> {
    if (this._direct.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all([...this._direct]).then(() => true);
    const finished = await Promise.race([
      all,
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), this._drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return finished ? 0 : this._direct.size;
  }

  private async _export<C extends ExportChunk>(
    kind: ExportSignal,
    chunks: readonly C[],
    split: () => SplitResult<R, C>,
    callerSignal?: AbortSignal,
  ): Promise<void> {
    const signal = callerSignal ? AbortSignal.any([this._abort.signal, callerSignal]) : this._abort.signal;
    const { requests, invalid } = split();
    const results = await Promise.allSettled(requests.map((r) => this._sendWithRetry(r, signal, kind)));
    let retriable: unknown;
    let permanent: unknown = invalid[0]?.error;
    const rejectedIds = new Set<string>(invalid.map((x) => x.chunk.traceId));
    let rejectedItems = invalid.reduce((n, x) => n + itemsOf(x.chunk), 0);
    results.forEach((res, i) => {
      const req = requests[i];
      if (res.status === 'fulfilled') {
        this._countSent(kind, req.itemCount);
      } else if (isPermanent(res.reason)) {
        permanent ??= res.reason;
        rejectedItems += req.itemCount;
        for (const id of req.traceIds) rejectedIds.add(id);
      } else {
        retriable ??= res.reason;
        this._countFailed(kind, req.itemCount, 'retriable');
      }
    });
    if (permanent !== undefined) {
      const rejected = chunks.filter((c) => rejectedIds.has(c.traceId));
      const rejection = this._rejectForGood(kind, rejected, rejectedItems, permanent);
      // When part of the batch failed retriably the sender redelivers all of it; report that first.
      if (retriable === undefined) return rejection;
      await rejection.catch(() => undefined);
    }
    if (retriable !== undefined) {
      // The streak's warn line named the cause already; the stack is in the debug lines.
      const fields = { cause: causeOf(retriable), signal: kind, chunks: chunks.length };
      this._logger.warn(fields, 'export failed after retries; batch handed back to the sender');
      throw retriable instanceof Error ? retriable : new Error(String(retriable));
    }
  }

  /** _countSent counts spans or log records the backend accepted. */
  protected _countSent(kind: ExportSignal, items: number): void {
    if (kind === 'logs') this._metrics.sentLogRecords(items);
    else this._metrics.sent(items);
  }

  /** _countFailed counts spans or log records that failed. */
  protected _countFailed(kind: ExportSignal, items: number, how: 'retriable' | 'permanent'): void {
    if (kind === 'logs') this._metrics.failedLogRecords(items, how);
    else this._metrics.failed(items, how);
  }

  private async _sendWithRetry(request: R, signal: AbortSignal, kind: ExportSignal): Promise<void> {
    await retry(
      this._policy,
      async () => {
        const started = process.hrtime.bigint();
        try {
          await this.send(request, signal, kind);
          this._metrics.attempt(Number(process.hrtime.bigint() - started) / 1e9, 'success');
          this._status.succeeded();
        } catch (err) {
          this._metrics.attempt(Number(process.hrtime.bigint() - started) / 1e9, 'failure');
          const e =
            err instanceof PipelineError
              ? err
              : new ExportError(ExporterErrorCode.LIBRARY, errorMessage(err), {
                  cause: err,
                  retriable: true,
                  component: this._id,
                });
          // An aborted attempt (shutdown) says nothing about the backend.
          if (e.retriable && !signal.aborted) this._status.failed(e);
          throw e;
        }
      },
      {
        signal,
        onRetry: (err, delayMs, retry) => {
          this._metrics.retried();
          this._logger.debug({ err, delayMs, retry, signal: kind, items: request.itemCount }, 'retrying export');
        },
        exhausted: (err, attempts, elapsedMs) =>
          retriesExhausted(err, attempts, elapsedMs, this._policy.maxElapsedTimeMs),
      },
    );
  }

  private async _rejectForGood(
    kind: ExportSignal,
    chunks: readonly ExportChunk[],
    items: number,
    cause: unknown,
  ): Promise<never> {
    const traceIds = chunks.map((c) => c.traceId);
    const code = cause instanceof PipelineError ? cause.code : ExporterErrorCode.REJECTED;
    const status = cause instanceof ExportError ? cause.status : undefined;
    this._countFailed(kind, items, 'permanent');
    this._logger.error(
      {
        code,
        status,
        signal: kind,
        [kind === 'logs' ? 'logRecords' : 'spans']: items,
        traces: traceIds.length,
        traceIds: traceIds.slice(0, MAX_LOGGED_TRACE_IDS),
        cause: causeOf(cause),
      },
      kind === 'logs' ? 'backend rejected log records for good' : 'backend rejected traces for good',
    );
    this._logger.debug({ err: cause }, 'rejection cause');
    let deadLettered = false;
    if (this._deadLetter) {
      // A failed dead-letter write rejects retriably (ERR_KAFKA_DEAD_LETTER): the data is redelivered, not lost.
      const letters = chunks.map((c) => ({ key: c.traceId === '' ? null : c.traceId, value: c.data }));
      const why = { reason: 'permanent', signal: kind, code, message: errorMessage(cause), status } as const;
      await this._deadLetter.write(letters, why);
      if (kind === 'traces') this._metrics.deadLettered(items);
      else this._metrics.deadLetteredLogRecords(items);
      deadLettered = true;
    }
    const what = kind === 'logs' ? 'log chunk(s)' : 'trace(s)';
    throw new ExportRejectedError(
      `${this._id}: ${traceIds.length} ${what} rejected for good: ${errorMessage(cause)}`,
      traceIds,
      deadLettered,
      {
        cause,
        component: this._id,
      },
    );
  }
}

/**
 * retriesExhausted is the error a request rejects with when max_elapsed_time ran out: retriable (the sender
 * redelivers later), code ERR_EXPORTER_RETRIES_EXHAUSTED, the last failure as `cause`, and its status and
 * delay hint.
 */
function retriesExhausted(last: unknown, attempts: number, elapsedMs: number, budgetMs: number): ExportError {
  const what = last instanceof PipelineError ? `${last.code}: ${last.message}` : errorMessage(last);
  return new ExportError(
    ExporterErrorCode.RETRIES_EXHAUSTED,
    `gave up after ${attempts} attempt(s) in ${elapsedMs}ms (max_elapsed_time ${budgetMs}ms): ${what}`,
    {
      cause: last,
      retriable: true,
      status: last instanceof ExportError ? last.status : undefined,
      retryAfterMs: retryAfterOf(last),
    },
  );
}
