// compact: a buffered chunk that is a small view of a large buffer (a Kafka fetch response) is copied, so
// holding the trace does not pin the whole fetch; a chunk that owns most of its buffer is kept as is. With
// ack "buffered" the processor holds such copies (the caller lets go of its buffer at once). With ack
// "settled" it holds views, and copies the chunks of a trace that outlives the detach age (a slow trace
// waiting decision_wait), so its Kafka fetch can be freed; checked with a real garbage collection.

import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compact, detachAgeMs } from '../../../processors/tail-sampling/processor';
import { SLAB_BYTES, SlabAllocator } from '../../../processors/tail-sampling/slab';
import { chunkOf, newSpanId, newTraceId } from './helpers/fixtures';
import { harness, status } from './helpers/harness';

/** gc runs two full garbage collections (V8's gc, exposed on demand). */
async function gc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const run = runInNewContext('gc') as () => void;
  await new Promise((r) => setImmediate(r));
  run();
  await new Promise((r) => setImmediate(r));
  run();
}

/** inFetch places a chunk's bytes inside a large "fetch response" and returns the view plus a weak handle on the fetch. */
function inFetch(data: Uint8Array): { view: Buffer; fetch: WeakRef<ArrayBufferLike> } {
  const fetch = Buffer.alloc(1 << 20);
  Buffer.from(data).copy(fetch, 4096);
  return { view: fetch.subarray(4096, 4096 + data.byteLength), fetch: new WeakRef(fetch.buffer) };
}

describe('tail_sampling compact', () => {
  it('copies a small view of a large buffer into a slab, not pinning the large buffer', () => {
    const fetch = Buffer.alloc(1 << 20, 7);
    fetch.write('trace-bytes', 1000);
    const view = fetch.subarray(1000, 1011);
    const out = compact(view, new SlabAllocator());
    expect(Buffer.from(out).toString()).to.equal('trace-bytes');
    expect(out.buffer).to.not.equal(fetch.buffer);
    expect(out.buffer.byteLength).to.be.at.most(SLAB_BYTES);
    fetch.write('XXXXXXXXXXX', 1000);
    expect(Buffer.from(out).toString(), 'the copy does not follow the fetch buffer').to.equal('trace-bytes');
  });

  it('keeps a chunk that owns most of its buffer', () => {
    const slabs = new SlabAllocator();
    const own = new Uint8Array(10_000);
    expect(compact(own, slabs)).to.equal(own);
    const mostly = Buffer.alloc(20_000).subarray(0, 15_000);
    expect(compact(mostly, slabs)).to.equal(mostly);
  });
});

describe('tail_sampling holding chunks', () => {
  it('with ack "buffered" holds a copy: the caller may reuse its buffer as soon as the chunk is accepted', async () => {
    const h = await harness({
      ack: 'buffered',
      root_settle_delay: 0,
      policies: [{ name: 'keep', type: 'always_sample' }],
    });
    const id = newTraceId();
    const chunk = chunkOf([{ traceId: id }, { traceId: id, parentSpanId: newSpanId() }]);
    const fetch = Buffer.alloc(1 << 20);
    Buffer.from(chunk.data).copy(fetch, 4096);
    const view = fetch.subarray(4096, 4096 + chunk.data.byteLength);
    await h.p.consumeTraces({ chunks: [{ ...chunk, data: view }] });
    fetch.fill(0xff); // the receiver let go: its buffer is reused
    await h.advance(100);
    expect(h.next.exportedTraceIds()).to.deep.equal([id]);
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['keep', 'keep']);
  });
});

describe('tail_sampling detaching slow traces (ack "settled")', () => {
  it('the detach age is twice root_settle_delay, at least 1 s', () => {
    expect(detachAgeMs({ root_settle_delay: 2000 })).to.equal(4000);
    expect(detachAgeMs({ root_settle_delay: 0 })).to.equal(1000);
  });

  it('copies a trace that outlives the detach age out of its fetch, and later chunks of it on arrival', async () => {
    const h = await harness({
      root_settle_delay: '1s',
      decision_wait: '30s',
      policies: [{ name: 'keep', type: 'always_sample' }],
    });
    const id = newTraceId();
    const first = inFetch(chunkOf([{ traceId: id, parentSpanId: newSpanId(), name: 'early' }]).data); // no root yet: waits
    const settled = h.p.consumeTraces({ chunks: [{ traceId: id, data: first.view, spanCount: 1 }] });
    first.view = Buffer.alloc(0);
    await h.advance(1000);
    await gc();
    expect(first.fetch.deref(), 'younger than the detach age (2 s): held as a view of its fetch').to.not.equal(
      undefined,
    );
    await h.advance(1100);
    await gc();
    expect(first.fetch.deref(), 'detached: the fetch is free').to.equal(undefined);
    const later = inFetch(chunkOf([{ traceId: id, parentSpanId: newSpanId(), name: 'late' }]).data);
    const settledLater = h.p.consumeTraces({ chunks: [{ traceId: id, data: later.view, spanCount: 1 }] });
    later.view = Buffer.alloc(0);
    await gc();
    expect(later.fetch.deref(), 'a chunk of a detached trace is copied on arrival').to.equal(undefined);
    expect(await status(settled)).to.equal('pending');
    await h.advance(30_000);
    expect(await status(settled)).to.equal('resolved');
    expect(await status(settledLater)).to.equal('resolved');
    expect(
      h.next
        .exportedSpans()
        .map((sp) => sp.name)
        .sort(),
    ).to.deep.equal(['early', 'late'], 'the copies hold the same spans');
  });
});
