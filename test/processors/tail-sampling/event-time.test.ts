// decision_wait on a Kafka partition's event-time clock (simulated clocks): a stalled partition holds the
// decision, a resumed one decides with the late spans, max_decision_wait bounds the wait (counted), an
// expired writer stops holding, and without watermarks the wall clock decides as before.

import { expect } from 'chai';
import { PartitionClock } from '../../../pipeline/sdk/kafka/event-time';
import type { TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { CLOCK_RECHECK_MS } from '../../../processors/tail-sampling/trace-buffer';
import { chunkOf, metricValue, newSpanId, newTraceId } from './helpers/fixtures';
import { harness, status, type Harness } from './helpers/harness';

const WAIT = { decision_wait: '6s', root_settle_delay: '1s' };

/** onClock places a chunk on a partition clock with an accept time. */
function onClock(chunk: TraceChunk, clock: PartitionClock, acceptedAt: number): TraceChunk {
  return { ...chunk, eventTime: { clock, acceptedAt } };
}

/** child is a chunk of one non-root span of `traceId`. */
function child(traceId: string, error = false): TraceChunk {
  return chunkOf([{ traceId, parentSpanId: newSpanId(), ...(error ? { status: 'ERROR' as const } : {}) }]);
}

async function trigger(h: Harness, name: string): Promise<number> {
  return metricValue(h.settings.metrics, 'tusk_sampler_decision_triggers_total', { trigger: name });
}

describe('tail_sampling decision_wait on a partition clock', () => {
  it('holds the decision while the partition is stalled, then decides with the late spans', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(30_000);
    const t0 = h.clock.now;
    clock.observe({ writer: 'ingest-1', watermark: t0 }, t0);
    const id = newTraceId();
    const first = h.p.consumeTraces({ chunks: [onClock(child(id), clock, t0)] });
    // The writer stalls (a broker failover): its watermark stays at t0 + 1s while the wall clock runs on.
    clock.observe({ writer: 'ingest-1', watermark: t0 + 1_000 }, t0 + 1_000);
    for (let i = 0; i < 9; i++) await h.advance(1_000);
    expect(h.next.calls, 'no decision 9 s in: the partition clock is at +1 s').to.equal(0);
    expect(await status(first)).to.equal('pending');
    // The writer's retried records are written (accepted at +1.5 s), then its watermark moves on.
    const late = h.p.consumeTraces({ chunks: [onClock(child(id, true), clock, t0 + 1_500)] });
    clock.observe({ writer: 'ingest-1', watermark: t0 + 10_000 }, h.clock.now);
    await h.advance(CLOCK_RECHECK_MS);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(h.next.exportedSpans()).to.have.length(2, 'the late span is decided with the trace');
    expect(await status(first)).to.equal('resolved');
    expect(await status(late)).to.equal('resolved');
    expect(await trigger(h, 'decision_wait')).to.equal(1);
    expect(await trigger(h, 'max_decision_wait')).to.equal(0);
  });

  it('decides once the partition clock is decision_wait past the first accept time, not before', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(30_000);
    const t0 = h.clock.now;
    clock.observe({ writer: 'w', watermark: t0 }, t0);
    const id = newTraceId();
    void h.p.consumeTraces({ chunks: [onClock(child(id), clock, t0 - 500)] });
    clock.observe({ writer: 'w', watermark: t0 + 5_400 }, t0 + 5_400);
    await h.advance(6_000);
    expect(h.next.calls, 'the clock is at +5.4 s: 0.1 s to go').to.equal(0);
    clock.observe({ writer: 'w', watermark: t0 + 5_600 }, t0 + 6_000);
    await h.advance(100);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
  });

  it('decides at max_decision_wait when the clock stays behind, counts and logs it', async () => {
    const h = await harness({ ...WAIT, max_decision_wait: '15s' });
    const warnings: unknown[] = [];
    h.settings.logger.warn = ((obj: unknown) => void warnings.push(obj)) as typeof h.settings.logger.warn;
    const clock = new PartitionClock(30_000);
    const t0 = h.clock.now;
    clock.observe({ writer: 'w', watermark: t0 }, t0);
    const id = newTraceId();
    const settled = h.p.consumeTraces({ chunks: [onClock(child(id), clock, t0)] });
    for (let i = 0; i < 14; i++) {
      clock.observe({ writer: 'w', watermark: t0 }, h.clock.now); // heard from, but stalled
      await h.advance(1_000);
    }
    expect(h.next.calls).to.equal(0);
    await h.advance(1_100);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(await status(settled)).to.equal('resolved');
    expect(await trigger(h, 'max_decision_wait')).to.equal(1);
    expect(await trigger(h, 'decision_wait')).to.equal(0);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ traces: 1, trace_id: id });
  });

  it('defaults max_decision_wait to 3 x decision_wait and refuses one below decision_wait', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(60_000);
    clock.observe({ writer: 'w', watermark: h.clock.now }, h.clock.now);
    void h.p.consumeTraces({ chunks: [onClock(child(newTraceId()), clock, h.clock.now)] });
    await h.advance(17_900);
    expect(h.next.calls).to.equal(0);
    await h.advance(200);
    expect(await trigger(h, 'max_decision_wait')).to.equal(1);
    let err: unknown;
    await harness({ decision_wait: '6s', max_decision_wait: '5s' }).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/max_decision_wait[\s\S]*at least decision_wait/);
  });

  it('stops waiting for a writer that expired: the others move the clock', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(10_000);
    const t0 = h.clock.now;
    clock.observe({ writer: 'dead', watermark: t0 }, t0);
    clock.observe({ writer: 'alive', watermark: t0 }, t0);
    const id = newTraceId();
    void h.p.consumeTraces({ chunks: [onClock(child(id), clock, t0)] });
    for (let i = 0; i < 9; i++) {
      await h.advance(1_000);
      clock.observe({ writer: 'alive', watermark: h.clock.now }, h.clock.now);
    }
    expect(h.next.calls, 'the silent writer still holds the clock').to.equal(0);
    await h.advance(1_100); // +10.1 s: "dead" expired
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(await trigger(h, 'decision_wait')).to.equal(1);
  });

  it('without watermark records (a clock with no writer, or no clock) decides on the wall clock', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(30_000);
    const a = newTraceId();
    const b = newTraceId();
    void h.p.consumeTraces({ chunks: [onClock(child(a), clock, h.clock.now - 60_000), child(b)] });
    await h.advance(5_900);
    expect(h.next.calls).to.equal(0);
    await h.advance(200);
    expect(h.next.exportedTraceIds().sort()).to.deep.equal([a, b].sort());
    expect(await trigger(h, 'decision_wait')).to.equal(2);
  });

  it('a root span still decides root_settle_delay after it arrived, whatever the clock says', async () => {
    const h = await harness(WAIT);
    const clock = new PartitionClock(30_000);
    clock.observe({ writer: 'w', watermark: h.clock.now - 10_000 }, h.clock.now);
    const id = newTraceId();
    void h.p.consumeTraces({ chunks: [onClock(chunkOf([{ traceId: id }]), clock, h.clock.now)] });
    await h.advance(1_100);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(await trigger(h, 'root_settled')).to.equal(1);
  });
});
