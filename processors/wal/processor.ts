// The `wal` processor: makes a single process durable. Each batch is appended to a local write-ahead log
// and its sender is answered once the bytes are on disk; the batch then travels on, and each record is
// settled (and its segment deleted once all of a segment's records are) when the rest of the pipeline
// settled it: decided and dropped, or kept and exported. After a crash, `start` replays what was not
// settled. In one process the log plays the role Kafka plays between the cluster's tiers.

import path from 'node:path';
import type { Logger } from 'pino';
import type {
  Capabilities,
  ComponentHealth,
  ComponentSettings,
  Processor,
  ProcessorNext,
} from '../../pipeline/sdk/component';
import { BackpressureError, PermanentError, ShutdownError, errorMessage, isPermanent } from '../../pipeline/sdk/errors';
import { backoffPolicyFrom, retry, type BackoffPolicy } from '../../pipeline/sdk/retry';
import {
  withChunkSettledHook,
  type LogBatch,
  type LogChunk,
  type TraceBatch,
  type TraceChunk,
} from '../../pipeline/sdk/trace-batch';
import type { WalConfig } from './config';
import { createWalMetrics, type WalMetrics } from './metrics';
import type { RecordKind, WalRecord } from './record';
import { SegmentLog, type RecordRef, type ReplayedSegment } from './segment-log';

/** Chunks handed downstream in one replayed batch. */
const REPLAY_BATCH_CHUNKS = 256;
/** Replayed bytes handed downstream and not settled yet, above which replay waits. */
const REPLAY_INFLIGHT_BYTES = 64 * 1024 * 1024;
/** Least time between two "redelivering" warnings. */
const WARN_INTERVAL_MS = 30_000;

type Chunk = TraceChunk | LogChunk;

/** resolveWalDir applies the documented default directory for a processor named `name`. */
export function resolveWalDir(configured: string, name: string, env: NodeJS.ProcessEnv, cwd: string): string {
  if (configured !== '') return path.resolve(cwd, configured);
  const stateHome = env.XDG_STATE_HOME;
  if (stateHome !== undefined && stateHome !== '') return path.join(stateHome, 'tusk-collector', 'wal', name);
  return path.join(cwd, '.tusk-state', 'wal', name);
}

/** WalProcessor is the write-ahead log in front of the rest of a pipeline. */
export class WalProcessor implements Processor {
  readonly capabilities: Capabilities = { mutatesData: false };
  private readonly _log: SegmentLog;
  private readonly _logger: Logger;
  private readonly _metrics: WalMetrics;
  private readonly _policy: BackoffPolicy;
  private readonly _stop = new AbortController();
  private readonly _inflight = new Set<Promise<void>>();
  private _replayBytes = 0;
  private _lastWarn = 0;
  private _writeError: string | undefined;
  private _gaugeTimer: NodeJS.Timeout | undefined;
  private _shutdown: Promise<void> | undefined;
  private _replaying: Promise<void> | undefined;

  constructor(
    settings: ComponentSettings,
    private readonly _cfg: WalConfig,
    private readonly _next: ProcessorNext,
    dir = resolveWalDir(_cfg.dir, settings.name, process.env, process.cwd()),
  ) {
    this._logger = settings.logger;
    this._metrics = createWalMetrics(settings.metrics, settings.name);
    this._policy = backoffPolicyFrom(_cfg.retry_on_failure);
    this._log = new SegmentLog({
      dir,
      segmentBytes: _cfg.segment_size,
      maxBytes: _cfg.max_size,
      fsync: _cfg.fsync,
      fsyncIntervalMs: _cfg.fsync_interval,
      retryAfterMs: _cfg.retry_after,
      logger: this._logger,
      onSync: (seconds) => this._metrics.fsyncSeconds.observe(seconds),
    });
  }

  /** The log's directory figures, for tests and the admin endpoints. */
  stats(): { bytes: number; segments: number; inflight: number } {
    return { bytes: this._log.bytes, segments: this._log.segmentCount, inflight: this._inflight.size };
  }

  /** start opens the log (failing at once when its directory is not usable) and replays what it holds. */
  async start(): Promise<void> {
    const replayed = await this._log.open();
    const chunks = replayed.reduce((n, s) => n + s.records.length, 0);
    if (chunks > 0) {
      this._logger.info(
        { segments: replayed.length, chunks },
        'write-ahead log: replaying what the last run did not settle',
      );
    }
    this._replaying = this._replay(replayed).catch((err: unknown) =>
      this._logger.error({ err }, 'write-ahead log replay failed'),
    );
    this._gaugeTimer = setInterval(() => this._updateGauges(), 1000);
    this._gaugeTimer.unref();
    this._updateGauges();
  }

  /** health is not ready while appends fail, and degraded while the log is full. */
  health(): ComponentHealth {
    if (this._writeError !== undefined) return { ready: false, detail: `write-ahead log: ${this._writeError}` };
    const full = this._log.bytes >= this._cfg.max_size * 0.95;
    return full
      ? { ready: true, degraded: true, detail: `write-ahead log nearly full (${this._log.bytes} bytes)` }
      : { ready: true };
  }

  consumeTraces(batch: TraceBatch): Promise<void> {
    const records = batch.chunks.map((c): WalRecord => ({
      kind: 'traces',
      traceId: c.traceId,
      itemCount: c.spanCount,
      data: c.data,
    }));
    return this._accept('traces', batch.chunks, records);
  }

  consumeLogs(batch: LogBatch): Promise<void> {
    if (this._next.consumeLogs === undefined) {
      return Promise.reject(
        new PermanentError('ERR_WAL_NO_LOGS', 'the component after this write-ahead log takes no logs'),
      );
    }
    const records = batch.chunks.map((c): WalRecord => ({
      kind: 'logs',
      traceId: c.traceId,
      itemCount: c.recordCount,
      data: c.data,
    }));
    return this._accept('logs', batch.chunks, records);
  }

  /** _accept appends, answers the sender once durable, and sends the chunks on in the background. */
  private async _accept(kind: RecordKind, chunks: readonly Chunk[], records: WalRecord[]): Promise<void> {
    if (chunks.length === 0) return;
    let refs: RecordRef[];
    try {
      refs = await this._log.append(records);
      this._writeError = undefined;
    } catch (err) {
      const reason =
        err instanceof BackpressureError ? 'full' : err instanceof ShutdownError ? 'shutdown' : 'write_error';
      if (reason === 'write_error') this._writeError = errorMessage(err);
      this._metrics.refusedChunks.inc({ reason }, chunks.length);
      throw err;
    }
    let bytes = 0;
    for (const r of records) bytes += r.data.byteLength;
    this._metrics.appendedBytes.inc(bytes);
    this._track(this._deliver(kind, chunks, refs, false));
  }

  /**
   * _deliver hands chunks to the next component until each one settled, redelivering only what has not
   * (the next component may settle chunks one by one). A permanent rejection settles the chunks on purpose
   * (they can never be delivered) and says so; data still undelivered at shutdown stays in the log.
   */
  private async _deliver(
    kind: RecordKind,
    chunks: readonly Chunk[],
    refs: RecordRef[],
    replay: boolean,
  ): Promise<void> {
    const settled = new Array<boolean>(chunks.length).fill(false);
    const settle = (i: number): void => {
      if (settled[i]) return;
      settled[i] = true;
      if (replay) this._replayBytes -= chunks[i].data.byteLength;
      this._log.settle(refs[i]);
    };
    const attempt = async (): Promise<void> => {
      const indexes: number[] = [];
      for (let i = 0; i < chunks.length; i++) if (!settled[i]) indexes.push(i);
      if (indexes.length === 0) return;
      const pending = indexes.map((i) => chunks[i]);
      if (kind === 'traces') {
        const batch = withChunkSettledHook({ chunks: pending as TraceChunk[] }, (j) => settle(indexes[j]));
        await this._next.consumeTraces(batch);
      } else {
        const batch = withChunkSettledHook({ chunks: pending as LogChunk[] }, (j) => settle(indexes[j]));
        await this._next.consumeLogs!(batch);
      }
      for (const i of indexes) settle(i);
    };
    try {
      await retry(this._policy, attempt, {
        signal: this._stop.signal,
        onRetry: (err, delayMs) => this._onRetry(err, delayMs),
      });
    } catch (err) {
      const left = settled.reduce((n, s, i) => (s ? n : n + itemsOf(chunks[i])), 0);
      const leftChunks = settled.filter((s) => !s).length;
      if (isPermanent(err)) {
        this._metrics.droppedChunks.inc({ reason: 'permanent' }, leftChunks);
        this._logger.error(
          { err: errorMessage(err), chunks: leftChunks, items: left, signal: kind },
          `dropped ${leftChunks} ${kind} chunks (${left} ${kind === 'traces' ? 'spans' : 'log records'}): ` +
            'the next component rejected them for good',
        );
        for (let i = 0; i < chunks.length; i++) settle(i);
      } else if (!this._stop.signal.aborted) {
        this._logger.warn(
          { err: errorMessage(err), chunks: leftChunks },
          'write-ahead log: retries ran out (retry_on_failure.max_elapsed_time); the data stays in the log ' +
            'and is replayed at the next start',
        );
      }
    }
  }

  private _onRetry(err: unknown, delayMs: number): void {
    this._metrics.redeliveries.inc();
    const now = Date.now();
    if (now - this._lastWarn < WARN_INTERVAL_MS) return;
    this._lastWarn = now;
    this._logger.warn(
      { err: errorMessage(err), retry_in_ms: delayMs },
      'write-ahead log: the pipeline refused data for now; it stays in the log, retrying',
    );
  }

  /** _replay sends what a previous run left, segment by segment, with a bound on unsettled replayed bytes. */
  private async _replay(segments: ReplayedSegment[]): Promise<void> {
    for (const segment of segments) {
      if (segment.torn) {
        this._metrics.tornSegments.inc();
        this._logger.warn(
          { file: segment.file, offset: segment.torn.offset, reason: segment.torn.reason },
          'write-ahead log: a segment ends in a torn record (a crash mid-write); it was cut off there',
        );
      }
      for (const kind of ['traces', 'logs'] as const) {
        const ofKind = segment.records.filter((r) => r.record.kind === kind);
        for (let i = 0; i < ofKind.length; i += REPLAY_BATCH_CHUNKS) {
          if (this._stop.signal.aborted) return;
          while (this._replayBytes > REPLAY_INFLIGHT_BYTES && this._inflight.size > 0) {
            await Promise.race(this._inflight);
          }
          const part = ofKind.slice(i, i + REPLAY_BATCH_CHUNKS);
          const chunks = part.map((r) => toChunk(r.record));
          for (const c of chunks) this._replayBytes += c.data.byteLength;
          this._metrics.replayedChunks.inc({ signal: kind }, chunks.length);
          if (kind === 'logs' && this._next.consumeLogs === undefined) {
            this._logger.warn({ chunks: chunks.length }, 'write-ahead log: replayed log chunks have no logs consumer');
            for (const r of part) this._log.settle(r.ref);
            continue;
          }
          this._track(
            this._deliver(
              kind,
              chunks,
              part.map((r) => r.ref),
              true,
            ),
          );
        }
      }
    }
  }

  private _track(run: Promise<void>): void {
    const tracked = run.catch((err: unknown) => this._logger.error({ err }, 'write-ahead log delivery failed'));
    this._inflight.add(tracked);
    void tracked.finally(() => this._inflight.delete(tracked));
  }

  private _updateGauges(): void {
    this._metrics.bytes.set(this._log.bytes);
    this._metrics.segments.set(this._log.segmentCount);
    const oldest = this._log.oldestUnsettledAt;
    this._metrics.oldestUnsettledAge.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
  }

  /**
   * beginDrain: nothing to hand back (the log keeps it). Shutdown refuses new data, finishes queued
   * appends, stops redelivery waits and closes the log; what is unsettled then is replayed next start.
   */
  shutdown(): Promise<void> {
    return (this._shutdown ??= (async () => {
      this._stop.abort();
      if (this._gaugeTimer) clearInterval(this._gaugeTimer);
      await this._replaying;
      await this._log.close();
      this._updateGauges();
    })());
  }
}

function itemsOf(chunk: Chunk): number {
  return 'spanCount' in chunk ? chunk.spanCount : chunk.recordCount;
}

function toChunk(record: WalRecord): Chunk {
  return record.kind === 'traces'
    ? { traceId: record.traceId, data: record.data, spanCount: record.itemCount }
    : { traceId: record.traceId, data: record.data, recordCount: record.itemCount };
}
