// compact: a buffered chunk that is a small view of a large buffer (a Kafka fetch response) is copied, so
// holding the trace does not pin the whole fetch; a chunk that owns most of its buffer is kept as is.

import { expect } from 'chai';
import { compact } from '../../../processors/tail-sampling/processor';
import { SLAB_BYTES, SlabAllocator } from '../../../processors/tail-sampling/slab';

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
