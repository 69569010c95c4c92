// Kept data given up after it was acknowledged (ack "buffered") is never lost silently: counted in
// tusk_sampler_dropped_traces_total / _spans_total and logged "dropped N traces (N spans) after retries";
// with ack "settled" the same failure goes back upstream and nothing counts as dropped.

import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { PermanentError } from '../../../pipeline/sdk/errors';
import { configSchema } from '../../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../../processors/tail-sampling/processor';
import { FakeSamplingState } from './helpers/fake-state';
import { chunkOf, metricValue, newTraceId } from './helpers/fixtures';
import { FakeNext, HOST, status } from './helpers/harness';

async function sampler(ack: 'buffered' | 'settled') {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l !== '') lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  const clock = { now: 1_700_000_000_000 };
  const next = new FakeNext();
  const config = configSchema.parse({
    ack,
    root_settle_delay: 0,
    policies: [{ name: 'all', type: 'always_sample' }],
    retry_on_failure: { initial_interval: '2ms', max_interval: '5ms', max_elapsed_time: '40ms' },
  });
  const settings = {
    id: 'processors.tail_sampling',
    name: 'tail_sampling',
    logger: pino({ level: 'info' }, sink),
    metrics: new Registry(),
  };
  const p = new TailSamplingProcessor(settings, config, next, {
    state: new FakeSamplingState(),
    now: () => clock.now,
    autoTick: false,
  });
  await p.start(HOST);
  const advance = async (ms: number) => {
    clock.now += ms;
    await p.tick();
  };
  return { p, next, lines, metrics: settings.metrics, advance };
}

const threeSpans = () => {
  const traceId = newTraceId();
  const root = '1111111111111111';
  return chunkOf([
    { traceId, spanId: root },
    { traceId, parentSpanId: root },
    { traceId, parentSpanId: root },
  ]);
};

describe('tail_sampling: data dropped after it was acknowledged', () => {
  it('ack "buffered": retries running out count the traces and spans and log "dropped ... after retries"', async () => {
    const s = await sampler('buffered');
    for (let i = 0; i < 1000; i++) s.next.steps.push(new Error('connect ECONNREFUSED 127.0.0.1:14268'));
    const chunk = threeSpans();
    expect(await status(s.p.consumeTraces({ chunks: [chunk] }))).to.equal('resolved');
    await s.advance(10_000);
    await new Promise((r) => setTimeout(r, 150));
    expect(await metricValue(s.metrics, 'tusk_sampler_dropped_traces_total', { reason: 'gave_up' })).to.equal(1);
    expect(await metricValue(s.metrics, 'tusk_sampler_dropped_spans_total', { reason: 'gave_up' })).to.equal(
      chunk.spanCount,
    );
    const line = s.lines.find((l) => l.msg.startsWith('dropped '));
    expect(line?.msg)
      .to.contain(`dropped 1 traces (${chunk.spanCount} spans) after retries`)
      .and.contain('ECONNREFUSED');
    expect(line?.level).to.equal(40);
    await s.p.shutdown();
  });

  it('ack "settled": the same failure is handed back upstream and nothing counts as dropped', async () => {
    const s = await sampler('settled');
    for (let i = 0; i < 1000; i++) s.next.steps.push(new Error('down'));
    const settled = s.p.consumeTraces({ chunks: [threeSpans()] });
    await s.advance(10_000);
    expect(
      await settled.then(
        () => 'resolved',
        () => 'rejected',
      ),
    ).to.equal('rejected');
    expect(await metricValue(s.metrics, 'tusk_sampler_dropped_traces_total', { reason: 'gave_up' })).to.equal(0);
    expect(s.lines.some((l) => l.msg.startsWith('dropped '))).to.equal(false);
    await s.p.shutdown();
  });

  it('counts a permanent rejection downstream as dropped (reason rejected)', async () => {
    const s = await sampler('buffered');
    s.next.steps.push(new PermanentError('ERR_TEST_BAD', 'undecodable'));
    const chunk = threeSpans();
    await s.p.consumeTraces({ chunks: [chunk] });
    await s.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(await metricValue(s.metrics, 'tusk_sampler_dropped_spans_total', { reason: 'rejected' })).to.equal(
      chunk.spanCount,
    );
    await s.p.shutdown();
  });
});
