// The `debug` exporter: decodes each trace chunk and writes its spans as text or JSON lines to stdout or a
// file. consumeTraces resolves once the text was handed to the OS (write callback / file write done).

import * as fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ComponentSettings, Exporter, Host } from '../../pipeline/component';
import { once } from '../../pipeline/component';
import { errorMessage, isPermanent, ShutdownError } from '../../pipeline/errors';
import { decodeTraces } from '../../pipeline/otlp';
import type { TraceBatch } from '../../pipeline/trace-batch';
import { ExporterErrorCode, ExportError, ExportRejectedError } from '../shared/errors';
import { ExporterMetrics } from '../shared/metrics';
import type { DebugExporterConfig } from './config';
import { renderSpans } from './format';

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

/** DebugExporter writes spans for people; see README.md. */
export class DebugExporter implements Exporter {
  readonly capabilities = { mutatesData: false } as const;
  private readonly _logger: Logger;
  private readonly _metrics: ExporterMetrics;
  private _sink?: Promise<DebugSink>;
  private _tail: Promise<unknown> = Promise.resolve();
  private _closed = false;

  constructor(private readonly _settings: ComponentSettings, private readonly _cfg: DebugExporterConfig, sink?: DebugSink) {
    this._logger = _settings.logger;
    this._metrics = new ExporterMetrics(_settings.metrics, _settings.id);
    if (sink) this._sink = Promise.resolve(sink);
  }

  /** start opens the output file (a bad path fails start). */
  async start(_host: Host): Promise<void> {
    await this._open();
  }

  /** consumeTraces writes every span of the batch; resolves once written, rejects permanently for undecodable chunks. */
  async consumeTraces(batch: TraceBatch): Promise<void> {
    if (this._closed) throw new ShutdownError(this._settings.id);
    const entries: string[] = [];
    const bad: string[] = [];
    let badSpans = 0;
    let firstErr: unknown;
    let spans = 0;
    for (const chunk of batch.chunks) {
      try {
        const lines = renderSpans(decodeTraces(chunk.data), this._cfg.format, this._cfg.verbosity);
        entries.push(...lines);
        spans += lines.length;
      } catch (err) {
        if (!isPermanent(err)) throw err;
        firstErr ??= err;
        bad.push(chunk.traceId);
        badSpans += chunk.spanCount;
      }
    }
    if (entries.length > 0) {
      const text = `${entries.join('\n')}\n`;
      const write = this._tail.then(async () => (await this._open()).write(text));
      this._tail = write.catch(() => undefined);
      try {
        await write;
      } catch (err) {
        this._metrics.failed(spans, 'retriable');
        throw new ExportError(ExporterErrorCode.NETWORK, `${this._settings.id}: writing to ${this._cfg.path || 'stdout'} failed: ${errorMessage(err)}`, {
          cause: err,
          retriable: true,
          component: this._settings.id,
        });
      }
      this._metrics.sent(spans);
    }
    if (bad.length > 0) {
      this._metrics.failed(badSpans, 'permanent');
      this._logger.error({ traceIds: bad.slice(0, 100), err: firstErr }, 'undecodable trace chunks');
      throw new ExportRejectedError(`${this._settings.id}: ${bad.length} trace chunk(s) could not be decoded: ${errorMessage(firstErr)}`, bad, false, {
        cause: firstErr,
        component: this._settings.id,
      });
    }
  }

  /** shutdown waits for pending writes and closes the file. Idempotent; safe without start. */
  readonly shutdown = once(async () => {
    this._closed = true;
    await this._tail;
    const sink = await this._sink?.catch(() => undefined);
    await sink?.close();
  });

  private _open(): Promise<DebugSink> {
    if (!this._sink) {
      const path = this._cfg.path;
      this._sink = path === '' ? Promise.resolve(stdoutSink()) : fileSink(path);
      this._sink.catch(() => (this._sink = undefined));
    }
    return this._sink;
  }
}
