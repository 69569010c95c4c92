// Lifecycle through the factory (real timers, memory state): create -> start -> consume -> shutdown,
// shutdown without start, refusal before start, backpressure when exports pile up, abort = decide now.

import { expect } from 'chai';
import { BackpressureError, type PipelineError } from '../../../pipeline/sdk/errors';
import { factory } from '../../../processors/tail-sampling/factory';
import type { TailSamplingProcessor } from '../../../processors/tail-sampling/processor';
import { chunkOf, metricValue, newSpanId, newTraceId, settings } from './helpers/fixtures';
import { FakeNext, HOST, harness, status } from './helpers/harness';

describe('tail_sampling lifecycle', () => {
  it('factory-built processor decides on its own timer and settles after the export', async () => {
    const next = new FakeNext();
    const config = factory.configSchema.parse({
      root_settle_delay: '50ms',
      tick_interval: '10ms',
      policies: [{ name: 'all', type: 'always_sample' }],
    });
    const p = factory.create(settings(), config, next) as TailSamplingProcessor;
    await p.start(HOST);
    try {
      const id = newTraceId();
      const started = Date.now();
      await p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
      expect(Date.now() - started).to.be.within(40, 1000);
      expect(next.exportedTraceIds()).to.deep.equal([id]);
      expect(p.health()).to.include({ ready: true });
    } finally {
      await p.shutdown();
    }
    expect(p.health().ready).to.equal(false);
  });

  it('shutdown without start, twice, is safe (factory default config)', async () => {
    const p = factory.create(settings(), factory.createDefaultConfig(), new FakeNext());
    await p.shutdown();
    await p.shutdown();
  });

  it('two samplers can share one metrics registry (series labelled by processor)', async () => {
    const shared = settings('a');
    const a = factory.create(shared, factory.createDefaultConfig(), new FakeNext());
    const b = factory.create(
      { ...shared, id: 'processors.b', name: 'b' },
      factory.createDefaultConfig(),
      new FakeNext(),
    );
    await Promise.all([a.shutdown(), b.shutdown()]);
    expect(shared.metrics.getSingleMetric('tusk_sampler_decisions_total')).to.not.equal(undefined);
  });

  it('refuses data before start with a retriable error', async () => {
    const p = factory.create(settings(), factory.createDefaultConfig(), new FakeNext());
    let caught: unknown;
    await p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] }).catch((e) => (caught = e));
    expect((caught as PipelineError).code).to.equal('ERR_SAMPLER_NOT_STARTED');
    expect((caught as PipelineError).retriable).to.equal(true);
    await p.shutdown();
  });

  it('rejects with BackpressureError while kept data awaiting export exceeds max_buffered_bytes', async () => {
    const h = await harness({ root_settle_delay: 0, max_buffered_bytes: 1024 });
    let release!: () => void;
    h.next.steps.push({ hold: new Promise<void>((r) => (release = r)) });
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId(), attributes: { pad: 'z'.repeat(2000) } }])] });
    await h.advance(100);
    expect(h.p.stats().exportingBytes).to.be.above(1024);
    let caught: unknown;
    await h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(BackpressureError);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_rejected_chunks_total', { reason: 'backpressure' }),
    ).to.equal(1);
    release();
    await new Promise((r) => setTimeout(r, 5));
    expect(h.p.stats().exportingBytes).to.equal(0);
  });

  it('an aborted call gets its traces decided at the next tick (partition revoked)', async () => {
    const h = await harness({ decision_wait: '60s' });
    const ac = new AbortController();
    const settled = h.p.consumeTraces(
      { chunks: [chunkOf([{ traceId: newTraceId(), parentSpanId: newSpanId() }])] },
      ac.signal,
    );
    await h.advance(100);
    expect(await status(settled)).to.equal('pending');
    ac.abort();
    await h.advance(0);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(1);
  });

  it('flush decides everything buffered and waits for the exports', async () => {
    const h = await harness({ decision_wait: '60s' });
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId(), parentSpanId: newSpanId() }])] });
    expect(await h.p.flush(1000)).to.equal(true);
    expect(await status(settled)).to.equal('resolved');
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: 'flush' }),
    ).to.equal(1);
  });
});
