// Unit tests of pipeline/sdk/exporterhelper/export-status.ts: one warn line at the first failure (component,
// endpoint, cause, "retrying"), rate-limited after that, the stack only at debug, one info line on recovery,
// and the not-ready verdict after not_ready_after; plus the QueuedExporter wiring (health after failures).

import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ExporterErrorCode, ExportError } from '../../../../pipeline/sdk/exporterhelper/errors';
import { ExportStatus } from '../../../../pipeline/sdk/exporterhelper/export-status';
import { retryOnFailureSchema, sendingQueueSchema } from '../../../../pipeline/sdk/exporterhelper/config';
import { QueuedExporter } from '../../../../pipeline/sdk/exporterhelper/exporter-helper';
import type { ExportRequest, SplitResult } from '../../../../pipeline/sdk/exporterhelper/exporter-helper';
import type { TraceBatch } from '../../../../pipeline/sdk/trace-batch';

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
  cause?: string;
  endpoint?: string;
  component?: string;
}

/** capture returns a debug-level logger and the parsed lines it wrote. */
function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

const refused = () =>
  new ExportError(ExporterErrorCode.NETWORK, 'POST http://127.0.0.1:1/api/traces: connect ECONNREFUSED', {
    retriable: true,
  });
const WARN = 40;
const INFO = 30;
const DEBUG = 20;

describe('pipeline/sdk/exporterhelper/export-status', () => {
  it('logs one warn line at the first failure, naming component, endpoint, cause and "retrying"', () => {
    const { logger, lines } = capture();
    let now = 1000;
    const s = new ExportStatus({
      component: 'exporters.jaeger',
      endpoint: 'http://127.0.0.1:1/api/traces',
      logger,
      notReadyAfterMs: 5000,
      now: () => now,
    });
    s.failed(refused());
    now += 100;
    s.failed(refused());
    s.failed(refused());
    const warns = lines.filter((l) => l.level === WARN);
    expect(warns).to.have.length(1);
    expect(warns[0].msg)
      .to.contain('exporters.jaeger')
      .and.contain('http://127.0.0.1:1/api/traces')
      .and.contain('ECONNREFUSED')
      .and.contain('retrying');
    expect(warns[0].err, 'no stack trace at warn').to.equal(undefined);
    const debugs = lines.filter((l) => l.level === DEBUG);
    expect(debugs).to.have.length(3);
    expect(debugs[0].err?.stack).to.be.a('string');
  });

  it('rate-limits the warn lines of one streak and logs the recovery once', () => {
    const { logger, lines } = capture();
    let now = 0;
    const s = new ExportStatus({
      component: 'c',
      endpoint: 'e',
      logger,
      notReadyAfterMs: 0,
      warnIntervalMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 50; i++) {
      s.failed(refused());
      now += 100; // 5s of failures: the first line, then one per second
    }
    const warns = lines.filter((l) => l.level === WARN);
    expect(warns.length).to.be.within(4, 6);
    expect(warns[1].msg).to.contain('still failing');
    s.succeeded();
    s.succeeded();
    const infos = lines.filter((l) => l.level === INFO);
    expect(infos).to.have.length(1);
    expect(infos[0].msg).to.contain('works again after 50 failed attempt(s)');
    expect(s.failing).to.equal(false);
  });

  it('turns not ready only after failing for not_ready_after with no success, with the reason', () => {
    const { logger } = capture();
    let now = 0;
    const s = new ExportStatus({
      component: 'c',
      endpoint: 'http://x:1',
      logger,
      notReadyAfterMs: 2000,
      now: () => now,
    });
    expect(s.health()).to.equal(undefined);
    s.failed(refused());
    now = 1999;
    expect(s.health()).to.equal(undefined);
    now = 2000;
    const h = s.health();
    expect(h?.ready).to.equal(false);
    expect(h?.detail).to.contain('http://x:1').and.contain('ECONNREFUSED').and.contain('no success');
    s.succeeded();
    expect(s.health()).to.equal(undefined);
  });

  it('QueuedExporter: health is not ready after failed attempts, ready again after a success', async () => {
    const { logger, lines } = capture();
    let fail = true;
    class Flaky extends QueuedExporter<ExportRequest> {
      protected split(b: TraceBatch): SplitResult<ExportRequest> {
        return { requests: [{ traceIds: b.chunks.map((c) => c.traceId), itemCount: 1 }], invalid: [] };
      }
      protected send(): Promise<void> {
        return fail ? Promise.reject(refused()) : Promise.resolve();
      }
    }
    const e = new Flaky(
      { id: 'exporters.flaky', name: 'flaky', logger, metrics: new Registry() },
      {
        retry_on_failure: retryOnFailureSchema.parse({
          initial_interval: '1ms',
          max_interval: '2ms',
          max_elapsed_time: '30ms',
        }),
        sending_queue: sendingQueueSchema.parse({}),
        not_ready_after: 0,
      },
      'http://127.0.0.1:1/api/traces',
    );
    const batch: TraceBatch = { chunks: [{ traceId: 'a'.repeat(32), data: Uint8Array.from([1]), spanCount: 1 }] };
    expect(e.health().ready).to.equal(true);
    const outcome = await e.consumeTraces(batch).then(
      () => 'resolved',
      () => 'rejected',
    );
    expect(outcome).to.equal('rejected');
    expect(e.health()).to.include({ ready: false });
    expect(e.health().detail).to.contain('http://127.0.0.1:1/api/traces');
    expect(lines.filter((l) => l.level === WARN && l.msg.includes('retrying'))).to.have.length(1);
    fail = false;
    await e.consumeTraces(batch);
    expect(e.health().ready).to.equal(true);
    await e.shutdown();
    expect(e.health().ready).to.equal(false);
  });
});
