// Unit tests of pipeline/sdk/exporterhelper/exporter-helper.ts with a scripted exporter: the settle chain (resolve only
// on success), retries and their metrics, permanent rejection with trace ids, undecodable chunks, queue
// backpressure, and the lifecycle (shutdown drains, aborts at its deadline, idempotent, safe without start).

import { expect } from 'chai';
import type { ComponentSettings } from '../../../../pipeline/sdk/component';
import { BackpressureError, isPermanent, PermanentError, ShutdownError } from '../../../../pipeline/sdk/errors';
import type { TraceBatch } from '../../../../pipeline/sdk/trace-batch';
import { retryOnFailureSchema, sendingQueueSchema } from '../../../../pipeline/sdk/exporterhelper/config';
import { ExporterErrorCode, ExportError, ExportRejectedError } from '../../../../pipeline/sdk/exporterhelper/errors';
import { QueuedExporter } from '../../../../pipeline/sdk/exporterhelper/exporter-helper';
import type { ExportRequest, SplitResult } from '../../../../pipeline/sdk/exporterhelper/exporter-helper';
import { metricValue, settings } from './fixtures';

interface Req extends ExportRequest {
  readonly n: number;
}
type Script = (req: Req, attempt: number, signal: AbortSignal) => Promise<void>;

class ScriptedExporter extends QueuedExporter<Req> {
  attempts = new Map<number, number>();
  constructor(
    s: ComponentSettings,
    private readonly _script: Script,
    cfg: { retry?: unknown; queue?: unknown } = {},
  ) {
    super(s, {
      retry_on_failure: retryOnFailureSchema.parse(
        cfg.retry ?? { initial_interval: '1ms', max_interval: '2ms', max_elapsed_time: '2s' },
      ),
      sending_queue: sendingQueueSchema.parse(cfg.queue ?? {}),
    });
  }
  protected split(batch: TraceBatch): SplitResult<Req> {
    const invalid = batch.chunks
      .filter((c) => c.data[0] === 0xff)
      .map((chunk) => ({ chunk, error: new PermanentError('ERR_TEST_DECODE', 'undecodable') }));
    const requests = batch.chunks
      .filter((c) => c.data[0] !== 0xff)
      .map((c, n) => ({ n, traceIds: [c.traceId], itemCount: c.spanCount }));
    return { requests, invalid };
  }
  protected send(req: Req, signal: AbortSignal): Promise<void> {
    const a = (this.attempts.get(req.n) ?? 0) + 1;
    this.attempts.set(req.n, a);
    return this._script(req, a, signal);
  }
}

const batch = (...ids: string[]): TraceBatch => ({
  chunks: ids.map((traceId) => ({ traceId, data: Uint8Array.from([traceId === 'bad' ? 0xff : 1]), spanCount: 3 })),
});
const fail503 = () =>
  Promise.reject(new ExportError(ExporterErrorCode.HTTP_STATUS, 'HTTP 503', { status: 503, retriable: true }));
const fail400 = () =>
  Promise.reject(new ExportError(ExporterErrorCode.HTTP_STATUS, 'HTTP 400', { status: 400, retriable: false }));
const host = { reportFatalError() {} };

describe('pipeline/sdk/exporterhelper/exporter-helper', () => {
  it('resolves once every request succeeded and counts the spans sent', async () => {
    const s = settings('exporters.h1');
    const e = new ScriptedExporter(s, async () => {});
    await e.start(host);
    await e.consumeTraces(batch('a', 'b'));
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.h1' })).to.equal(6);
    expect(await metricValue(s.metrics, 'tusk_exporter_queue_capacity', { exporter: 'exporters.h1' })).to.equal(1000);
    await e.shutdown();
  });

  it('retries a retriable failure and resolves when a later attempt succeeds', async () => {
    const s = settings('exporters.h2');
    const e = new ScriptedExporter(s, (_r, attempt) => (attempt < 3 ? fail503() : Promise.resolve()));
    await e.consumeTraces(batch('a'));
    expect(e.attempts.get(0)).to.equal(3);
    expect(await metricValue(s.metrics, 'tusk_exporter_retries_total', { exporter: 'exporters.h2' })).to.equal(2);
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.h2' })).to.equal(3);
    const hist = await s.metrics.getSingleMetric('tusk_exporter_send_latency_seconds')!.get();
    const count = (outcome: string) =>
      hist.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === 'tusk_exporter_send_latency_seconds_count' &&
          v.labels.outcome === outcome,
      )?.value;
    expect(count('failure')).to.equal(2);
    expect(count('success')).to.equal(1);
    await e.shutdown();
  });

  it('rejects retriably (never resolves) when retries run out, counting the spans as failed retriable', async () => {
    const s = settings('exporters.h3');
    const e = new ScriptedExporter(s, fail503, {
      retry: { initial_interval: '5ms', max_interval: '5ms', max_elapsed_time: '60ms' },
    });
    const err = (await e.consumeTraces(batch('a')).then(
      () => 'resolved',
      (x: unknown) => x,
    )) as ExportError;
    expect(err).to.not.equal('resolved');
    expect(err.retriable).to.equal(true);
    expect(err.code).to.equal(ExporterErrorCode.RETRIES_EXHAUSTED);
    expect(err.status).to.equal(503);
    expect((err.cause as ExportError).code).to.equal(ExporterErrorCode.HTTP_STATUS);
    expect(e.attempts.get(0)).to.be.at.least(3);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', { exporter: 'exporters.h3', kind: 'retriable' }),
    ).to.equal(3);
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.h3' })).to.equal(
      undefined,
    );
    await e.shutdown();
  });

  it('gives up at once (RETRIES_EXHAUSTED, with the hint) when Retry-After asks for more than is left', async () => {
    const s = settings('exporters.h3b');
    const tooManyRequests = { status: 429, retriable: true, retryAfterMs: 60_000 };
    const busy = () => Promise.reject(new ExportError(ExporterErrorCode.HTTP_STATUS, 'HTTP 429', tooManyRequests));
    const retry = { initial_interval: '1ms', max_interval: '2ms', max_elapsed_time: '1s' };
    const e = new ScriptedExporter(s, busy, { retry });
    const started = Date.now();
    const err = (await e.consumeTraces(batch('a')).catch((x: unknown) => x)) as ExportError;
    expect(err.code).to.equal(ExporterErrorCode.RETRIES_EXHAUSTED);
    expect(err.retryAfterMs).to.equal(60_000);
    expect(e.attempts.get(0)).to.equal(1);
    expect(Date.now() - started).to.be.below(200);
    await e.shutdown();
  });

  it('rejects with ExportRejectedError (permanent) naming the rejected traces, without retrying them', async () => {
    const s = settings('exporters.h4');
    const e = new ScriptedExporter(s, (r) => (r.traceIds[0] === 'b' ? fail400() : Promise.resolve()));
    const err = (await e.consumeTraces(batch('a', 'b', 'c')).catch((x: unknown) => x)) as ExportRejectedError;
    expect(err).to.be.instanceOf(ExportRejectedError);
    expect(isPermanent(err)).to.equal(true);
    expect(err.code).to.equal(ExporterErrorCode.REJECTED);
    expect(err.traceIds).to.deep.equal(['b']);
    expect(err.deadLettered).to.equal(false);
    expect((err.cause as ExportError).status).to.equal(400);
    expect(e.attempts.get(1)).to.equal(1);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', { exporter: 'exporters.h4', kind: 'permanent' }),
    ).to.equal(3);
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.h4' })).to.equal(6);
    await e.shutdown();
  });

  it('rejects undecodable chunks permanently and still sends the rest', async () => {
    const s = settings('exporters.h5');
    const sent: string[] = [];
    const e = new ScriptedExporter(s, async (r) => {
      sent.push(r.traceIds[0]);
    });
    const err = (await e.consumeTraces(batch('a', 'bad')).catch((x: unknown) => x)) as ExportRejectedError;
    expect(err).to.be.instanceOf(ExportRejectedError);
    expect(err.traceIds).to.deep.equal(['bad']);
    expect(sent).to.deep.equal(['a']);
    await e.shutdown();
  });

  it('reports a retriable failure before a permanent one in the same batch (the sender redelivers the batch)', async () => {
    const s = settings('exporters.h6');
    const e = new ScriptedExporter(s, (r) => (r.traceIds[0] === 'a' ? fail503() : fail400()), {
      retry: { enabled: false },
    });
    const err = (await e.consumeTraces(batch('a', 'b')).catch((x: unknown) => x)) as ExportError;
    expect(err.retriable).to.equal(true);
    expect(err.status).to.equal(503);
    await e.shutdown();
  });

  it('applies backpressure: a full queue rejects with BackpressureError instead of dropping', async () => {
    const s = settings('exporters.h7');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const e = new ScriptedExporter(s, () => gate, { queue: { num_consumers: 1, queue_size: 1 } });
    const first = e.consumeTraces(batch('a'));
    const second = e.consumeTraces(batch('b'));
    const third = await e.consumeTraces(batch('c')).catch((x: unknown) => x);
    expect(third).to.be.instanceOf(BackpressureError);
    expect(await metricValue(s.metrics, 'tusk_exporter_queue_size', { exporter: 'exporters.h7' })).to.equal(1);
    release();
    await Promise.all([first, second]);
    expect(await metricValue(s.metrics, 'tusk_exporter_queue_size', { exporter: 'exporters.h7' })).to.equal(0);
    await e.shutdown();
  });

  it('shutdown waits for accepted batches, then refuses new ones with ShutdownError', async () => {
    const s = settings('exporters.h8');
    const e = new ScriptedExporter(s, () => new Promise((r) => setTimeout(r, 50)));
    const p = e.consumeTraces(batch('a'));
    await e.shutdown();
    await p;
    const err = await e.consumeTraces(batch('b')).catch((x: unknown) => x);
    expect(err).to.be.instanceOf(ShutdownError);
  });

  it('at the drain deadline shutdown aborts retrying batches, which reject retriably', async () => {
    const s = settings('exporters.h9');
    const e = new ScriptedExporter(s, fail503, {
      retry: { initial_interval: '20ms', max_interval: '20ms', max_elapsed_time: '0' },
      queue: { drain_timeout: '100ms' },
    });
    const p = e.consumeTraces(batch('a')).then(
      () => 'resolved',
      (x: unknown) => x,
    );
    const started = Date.now();
    await e.shutdown();
    const err = (await p) as ExportError;
    expect(err).to.not.equal('resolved');
    expect(err.retriable).to.equal(true);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('without a queue, shutdown still waits (up to drain_timeout) for batches being exported', async () => {
    const s = settings('exporters.h12');
    const e = new ScriptedExporter(s, () => new Promise((r) => setTimeout(r, 80)), {
      queue: { enabled: false, drain_timeout: '2s' },
    });
    let done = false;
    const p = e.consumeTraces(batch('a')).then(() => {
      done = true;
    });
    await e.shutdown();
    expect(done).to.equal(true);
    await p;
  });

  it('shutdown is idempotent and safe without start; metrics of two exporters share one registry', async () => {
    const s = settings('exporters.h10');
    const a = new ScriptedExporter(s, async () => {});
    const b = new ScriptedExporter({ ...s, id: 'exporters.h11' }, async () => {});
    await Promise.all([a.shutdown(), a.shutdown()]);
    await a.shutdown();
    await b.consumeTraces(batch('x'));
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.h11' })).to.equal(3);
    await b.shutdown();
  });
});
