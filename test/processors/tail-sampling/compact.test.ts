// compact: a buffered chunk that is a small view of a large buffer (a Kafka fetch response) is copied, so
// holding the trace does not pin the whole fetch; a chunk that owns most of its buffer is kept as is. With
// ack "buffered" the processor holds such copies (the caller lets go of its buffer at once).

import { expect } from 'chai';
import { compact } from '../../../processors/tail-sampling/processor';
import { SLAB_BYTES, SlabAllocator } from '../../../processors/tail-sampling/slab';
import { chunkOf, newSpanId, newTraceId } from './helpers/fixtures';
import { harness } from './helpers/harness';

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
    const h = await harness({ ack: 'buffered', root_settle_delay: 0, policies: [{ name: 'keep', type: 'always_sample' }] });
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
