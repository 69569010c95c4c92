// Settle semantics: a chunk's promise resolves only when its trace was decided and, if kept, accepted
// downstream; retriable rejections are retried (bounded) and then propagate; permanent ones are counted
// and resolve; ack "buffered" resolves at once; shutdown decides everything and refuses new data.

import { expect } from 'chai';
import { BackpressureError, PermanentError, PipelineError } from '../../../pipeline/sdk/errors';
import { configSchema } from '../../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../../processors/tail-sampling/processor';
import { FakeSamplingState } from './helpers/fake-state';
import { withChunkSettledHook, type TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { chunkOf, chunksOf, metricValue, newSpanId, newTraceId, settings } from './helpers/fixtures';
import { FakeNext, harness, status } from './helpers/harness';

describe('tail_sampling settle semantics', () => {
  it('resolves only after the next consumer resolved', async () => {
    const h = await harness({ root_settle_delay: 0 });
    let release!: () => void;
    h.next.steps.push({ hold: new Promise<void>((r) => (release = r)) });
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(h.next.calls).to.equal(1);
    expect(await status(settled)).to.equal('pending');
    release();
    expect(await status(settled)).to.equal('resolved');
  });

  it('resolves a trace dropped on purpose without calling next', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] });
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(0);
    expect(
      await metricValue(h.settings.metrics, 'tusk_sampler_decisions_total', {
        policy: '(none)',
        decision: 'not_sampled',
      }),
    ).to.equal(1);
  });

  it('retries a retriable rejection with backoff and resolves once accepted', async () => {
    const h = await harness({ root_settle_delay: 0 });
    h.next.steps.push(new Error('jaeger down'), new PipelineError('ERR_X', 'still down'));
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled, 60)).to.equal('resolved');
    expect(h.next.calls).to.equal(3);
    expect(h.next.traceBatches).to.have.length(1);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_export_failures_total', { kind: 'retriable' })).to.equal(
      2,
    );
  });

  it('after max_elapsed_time, rejects the chunk with the (retriable) error so the receiver does not commit', async () => {
    const h = await harness({
      root_settle_delay: 0,
      retry_on_failure: { initial_interval: '5ms', max_interval: '5ms', max_elapsed_time: '30ms' },
    });
    const down = new Error('down');
    for (let i = 0; i < 100; i++) h.next.steps.push(down);
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled, 10)).to.equal('pending');
    let caught: unknown;
    await settled.catch((e) => (caught = e));
    expect(caught).to.equal(down);
    expect(h.next.calls).to.be.above(2);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_export_failures_total', { kind: 'gave_up' })).to.equal(
      1,
    );
  });

  it('max_elapsed_time 0 means no limit (as for exporters): it retries until accepted', async () => {
    const retry = { initial_interval: '1ms', max_interval: '1ms', max_elapsed_time: '0' };
    const h = await harness({ root_settle_delay: 0, retry_on_failure: retry });
    for (let i = 0; i < 30; i++) h.next.steps.push(new Error('down'));
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled, 300)).to.equal('resolved');
    expect(h.next.calls).to.equal(31);
    const gaveUp = await metricValue(h.settings.metrics, 'tusk_sampler_export_failures_total', { kind: 'gave_up' });
    expect(gaveUp).to.equal(0);
  });

  it('enabled false means no retry: the first retriable rejection goes back upstream', async () => {
    const h = await harness({ root_settle_delay: 0, retry_on_failure: { enabled: false } });
    const down = new Error('down');
    h.next.steps.push(down);
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    let caught: unknown;
    await settled.catch((e) => (caught = e));
    expect(caught).to.equal(down);
    expect(h.next.calls).to.equal(1);
    const gaveUp = await metricValue(h.settings.metrics, 'tusk_sampler_export_failures_total', { kind: 'gave_up' });
    expect(gaveUp).to.equal(1);
  });

  it("waits at least the retryAfterMs of the next consumer's rejection before retrying", async () => {
    const h = await harness({ root_settle_delay: 0 });
    h.next.steps.push(new BackpressureError('exporter queue full', 150));
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled, 100)).to.equal('pending', 'backoff alone (1ms) would have retried by now');
    expect(h.next.calls).to.equal(1);
    expect(await status(settled, 150)).to.equal('resolved');
    expect(h.next.calls).to.equal(2);
  });

  it('a PermanentError from next is counted and the chunk resolves (settled as failed)', async () => {
    const h = await harness({ root_settle_delay: 0 });
    h.next.steps.push(new PermanentError('ERR_JAEGER_REJECTED', '400 bad span'));
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(1);
    expect(await metricValue(h.settings.metrics, 'tusk_sampler_export_failures_total', { kind: 'permanent' })).to.equal(
      1,
    );
  });

  it('ack "buffered" resolves as soon as the chunk is buffered', async () => {
    const h = await harness({ ack: 'buffered' });
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.calls).to.equal(0);
    await h.advance(10_000);
    expect(h.next.calls).to.equal(1);
  });

  it('rejects a malformed chunk with a permanent error, and still settles the good ones', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const good = chunkOf([{ traceId: newTraceId() }]);
    const bad = { traceId: newTraceId(), data: new Uint8Array([0x0a, 0x50, 0x01]), spanCount: 1 };
    const settled = h.p.consumeTraces({ chunks: [good, bad] });
    await h.advance(100);
    let caught: unknown;
    await settled.catch((e) => (caught = e));
    expect((caught as PipelineError).retriable).to.equal(false);
    expect(h.next.exportedTraceIds()).to.deep.equal([good.traceId]);
  });

  it('if deciding fails unexpectedly, the chunks are rejected as retriable instead of hanging', async () => {
    const h = await harness({ root_settle_delay: 0 });
    h.state.recordSeen = () => {
      throw new Error('boom');
    };
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    let caught: unknown;
    await settled.catch((e) => (caught = e));
    expect((caught as PipelineError).code).to.equal('ERR_SAMPLER_DECIDE');
    expect((caught as PipelineError).retriable).to.equal(true);
    expect(h.p.stats()).to.include({ traces: 0, deciding: 0 });
  });

  it('reports each chunk settled as soon as its trace is decided and exported, long before the batch promise', async () => {
    const h = await harness({ root_settle_delay: 0, decision_wait: '10s' });
    const slow = chunkOf([{ traceId: newTraceId(), parentSpanId: newSpanId() }]); // no root: waits decision_wait
    const fast = chunkOf([{ traceId: newTraceId() }]);
    const bad: TraceChunk = { traceId: newTraceId(), data: new Uint8Array([0x0a, 0x50, 0x01]), spanCount: 1 };
    const told: number[] = [];
    const chunks = [slow, fast, bad];
    const settled = h.p.consumeTraces(withChunkSettledHook({ chunks }, (i) => told.push(i)));
    let release!: () => void;
    h.next.steps.push({ hold: new Promise<void>((r) => (release = r)) });
    await h.advance(100);
    expect(h.next.calls).to.equal(1, 'the fast trace was decided and handed on');
    expect(told).to.deep.equal([], 'a kept trace is reported once the next consumer accepted it, not at its decision');
    release();
    await status(settled);
    expect(h.next.exportedTraceIds()).to.deep.equal([fast.traceId]);
    expect(told).to.deep.equal([1]);
    expect(await status(settled)).to.equal('pending');
    await h.advance(10_000);
    expect(told).to.deep.equal([1, 0], 'the malformed chunk is never reported');
    expect(
      await settled.then(
        () => 'resolved',
        (e: PipelineError) => (e.retriable ? 'retriable' : 'permanent'),
      ),
    ).to.equal('permanent');
  });

  it('reports a late chunk of a dropped trace settled at once, and a dropped trace at its decision', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] });
    const id = newTraceId();
    const told: string[] = [];
    const first = chunkOf([{ traceId: id }]);
    const settled = h.p.consumeTraces(withChunkSettledHook({ chunks: [first] }, () => told.push(id)));
    await h.advance(100);
    expect(told).to.deep.equal([id]);
    await settled;
    void h.p.consumeTraces(
      withChunkSettledHook({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] }, () =>
        told.push(`late ${id}`),
      ),
    );
    expect(told).to.deep.equal([id, `late ${id}`], 'reported during consumeTraces itself');
  });

  it('batches many kept traces of one tick into one downstream call', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const ids = Array.from({ length: 40 }, () => newTraceId());
    const settled = h.p.consumeTraces({ chunks: chunksOf(ids.map((traceId) => ({ traceId }))) });
    await h.advance(100);
    await settled;
    expect(h.next.calls).to.equal(1);
    expect(h.next.traceBatches[0].chunks.map((c) => c.traceId).sort()).to.deep.equal([...ids].sort());
    expect(h.state.calls.recordDecisions).to.equal(1);
  });

  it('splits downstream calls at send_batch_max_traces', async () => {
    const h = await harness({ root_settle_delay: 0, send_batch_max_traces: 16 });
    const settled = h.p.consumeTraces({
      chunks: chunksOf(Array.from({ length: 40 }, () => ({ traceId: newTraceId() }))),
    });
    await h.advance(100);
    await settled;
    expect(h.next.traceBatches.map((b) => b.chunks.length)).to.deep.equal([16, 16, 8]);
  });

  it('with ack "buffered", shutdown decides everything buffered now, exports it, then refuses new data; idempotent', async () => {
    const h = await harness({ decision_wait: '60s', ack: 'buffered' });
    const ids = [newTraceId(), newTraceId()];
    const settled = h.p.consumeTraces({ chunks: chunksOf(ids.map((traceId) => ({ traceId }))) });
    await Promise.all([h.p.shutdown(), h.p.shutdown()]);
    expect(await status(settled)).to.equal('resolved');
    expect(h.next.exportedTraceIds().sort()).to.deep.equal([...ids].sort());
    let caught: unknown;
    await h.p.consumeTraces({ chunks: chunksOf([{ traceId: newTraceId() }]) }).catch((e) => (caught = e));
    expect((caught as PipelineError).code).to.equal('ERR_PIPELINE_SHUTDOWN');
    expect((caught as PipelineError).retriable).to.equal(true);
    expect(h.state.calls.shutdown).to.equal(1);
    await h.p.shutdown();
    expect(h.state.calls.shutdown).to.equal(1);
  });

  it('with ack "settled", draining hands undecided traces back for replay: no decision, no ledger entry, retriable rejection', async () => {
    const h = await harness({ decision_wait: '60s', root_settle_delay: '0s' });
    const decidedId = newTraceId();
    const decided = h.p.consumeTraces({ chunks: chunksOf([{ traceId: decidedId }]) });
    await h.advance(1); // the complete (root-only) trace is decided and exported as usual
    expect(await status(decided)).to.equal('resolved');
    const pendingId = newTraceId();
    const pending = h.p.consumeTraces({ chunks: chunksOf([{ traceId: pendingId, parentSpanId: 'b7ad6b7169203331' }]) });
    const ledgerWritesBefore = h.state.calls.recordDecisions;
    h.p.beginDrain();
    let caught: unknown;
    await pending.catch((e) => (caught = e));
    expect((caught as PipelineError).code).to.equal('ERR_PIPELINE_SHUTDOWN');
    expect((caught as PipelineError).retriable).to.equal(true);
    let refused: unknown;
    await h.p.consumeTraces({ chunks: chunksOf([{ traceId: newTraceId() }]) }).catch((e) => (refused = e));
    expect((refused as PipelineError).code).to.equal('ERR_PIPELINE_SHUTDOWN');
    await h.p.shutdown();
    expect(h.state.calls.recordDecisions).to.equal(ledgerWritesBefore);
    expect(h.next.exportedTraceIds()).to.deep.equal([decidedId]);
    expect(await h.p.explainDecision(pendingId)).to.equal(undefined);
  });

  it('shutdown without start is safe', async () => {
    const state = new FakeSamplingState();
    const p = new TailSamplingProcessor(settings(), configSchema.parse({}), new FakeNext(), { state, autoTick: false });
    await p.shutdown();
    await p.shutdown();
    expect(state.calls.shutdown).to.equal(1);
  });
});
