// The `debug` exporter: decodes each trace or log chunk and writes its spans or log records as text or JSON
// lines to stdout or a file. consumeTraces / consumeLogs resolve once the text was handed to the OS (write
// callback / file write done).

import * as fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ComponentSettings, Exporter, Host } from '../../pipeline/sdk/component';
import { once } from '../../pipeline/sdk/component';
import { errorMessage, isPermanent, ShutdownError } from '../../pipeline/sdk/errors';
import { decodeLogs, decodeTraces } from '../../pipeline/sdk/otlp';
import type { LogBatch, LogChunk, TraceBatch, TraceChunk } from '../../pipeline/sdk/trace-batch';
import { ExporterErrorCode, ExportError, ExportRejectedError } from '../../pipeline/sdk/exporterhelper/errors';
import { ExporterMetrics } from '../../pipeline/sdk/exporterhelper/metrics';
import type { DebugExporterConfig } from './config';
import { renderLogs, renderSpans } from './format';

/** Sink is where the text goes. */
export interface DebugSink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function stdoutSink(): DebugSink {
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => {},
  };
}

async function fileSink(path: string): Promise<DebugSink> {
  const fh = await fs.open(path, 'a');
  return {
    write: async (text) => {
      await fh.write(text);
    },
    close: () => fh.close(),
  };
}

/** Signal is what differs between writing spans and writing log records: the name, the size of a chunk and the counters. */
interface Signal<C> {
  readonly name: 'trace' | 'log';
  size(chunk: C): number;
  sent(m: ExporterMetrics, n: number): void;
  failed(m: ExporterMetrics, n: number, kind: 'retriable' | 'permanent'): void;
}

const TRACES: Signal<TraceChunk> = {
  name: 'trace',
  size: (c) => c.spanCount,
  sent: (m, n) => m.sent(n),
  failed: (m, n, kind) => m.failed(n, kind),
};

const LOGS: Signal<LogChunk> = {
  name: 'log',
  size: (c) => c.recordCount,
  sent: (m, n) => m.sentLogRecords(n),
  failed: (m, n, kind) => m.failedLogRecords(n, kind),
};

/** DebugExporter writes spans and log records for people; see README.md. */
export class DebugExporter implements Exporter {
  readonly capabilities = { mutatesData: false } as const;
  private readonly _logger: Logger;
  private readonly _metrics: ExporterMetrics;
  private _sink?: Promise<DebugSink>;
  private _tail: Promise<unknown> = Promise.resolve();
  private _closed = false;

  constructor(
    private readonly _settings: ComponentSettings,
    private readonly _cfg: DebugExporterConfig,
    sink?: DebugSink,
  ) {
    this._logger = _settings.logger;
    this._metrics = new ExporterMetrics(_settings.metrics, _settings.id);
    if (sink) this._sink = Promise.resolve(sink);
  }

  /** start opens the output file (a bad path fails start). */
  async start(_host: Host): Promise<void> {
    await this._open();
  }

  /** consumeTraces writes every span of the batch; resolves once written, rejects permanently for undecodable chunks. */
  consumeTraces(batch: TraceBatch): Promise<void> {
    const { format, verbosity } = this._cfg;
    return this._export(batch.chunks, TRACES, (data) => renderSpans(decodeTraces(data), format, verbosity));
  }

  /** consumeLogs writes every log record of the batch, like consumeTraces. */
  consumeLogs(batch: LogBatch): Promise<void> {
    const { format, verbosity } = this._cfg;
    return this._export(batch.chunks, LOGS, (data) => renderLogs(decodeLogs(data), format, verbosity));
  }

  /** shutdown waits for pending writes and closes the file. Idempotent; safe without start. */
  readonly shutdown = once(async () => {
    this._closed = true;
    await this._tail;
    const sink = await this._sink?.catch(() => undefined);
    await sink?.close();
  });

  /**
   * _export renders the chunks (one entry per span or record), writes what rendered in one write, counts it,
   * and then rejects permanently, naming the trace ids, if any chunk could not be decoded.
   */
  private async _export<C extends TraceChunk | LogChunk>(
    chunks: readonly C[],
    signal: Signal<C>,
    render: (data: Uint8Array) => string[],
  ): Promise<void> {
    if (this._closed) throw new ShutdownError(this._settings.id);
    const entries: string[] = [];
    const bad: string[] = [];
    let badItems = 0;
    let firstErr: unknown;
    for (const chunk of chunks) {
      try {
        entries.push(...render(chunk.data));
      } catch (err) {
        if (!isPermanent(err)) throw err;
        firstErr ??= err;
        bad.push(chunk.traceId);
        badItems += signal.size(chunk);
      }
    }
    if (entries.length > 0) {
      const text = `${entries.join('\n')}\n`;
      const write = this._tail.then(async () => (await this._open()).write(text));
      this._tail = write.catch(() => undefined);
      try {
        await write;
      } catch (err) {
        signal.failed(this._metrics, entries.length, 'retriable');
        throw new ExportError(
          ExporterErrorCode.NETWORK,
          `${this._settings.id}: writing to ${this._cfg.path || 'stdout'} failed: ${errorMessage(err)}`,
          {
            cause: err,
            retriable: true,
            component: this._settings.id,
          },
        );
      }
      signal.sent(this._metrics, entries.length);
    }
    if (bad.length > 0) {
      signal.failed(this._metrics, badItems, 'permanent');
      this._logger.error({ traceIds: bad.slice(0, 100), err: firstErr }, `undecodable ${signal.name} chunks`);
      throw new ExportRejectedError(
        `${this._settings.id}: ${bad.length} ${signal.name} chunk(s) could not be decoded: ${errorMessage(firstErr)}`,
        bad,
        false,
        {
          cause: firstErr,
          component: this._settings.id,
        },
      );
    }
  }

  private _open(): Promise<DebugSink> {
    if (!this._sink) {
      const path = this._cfg.path;
      this._sink = path === '' ? Promise.resolve(stdoutSink()) : fileSink(path);
      this._sink.catch(() => (this._sink = undefined));
    }
    return this._sink;
  }
}
