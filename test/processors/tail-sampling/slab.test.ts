// SlabAllocator: copies and row storage carved out of shared slabs; pieces never overlap, float64 rooms are
// aligned, large pieces get their own memory, and a new slab starts when the current one is full.

import { expect } from 'chai';
import { MAX_PIECE_BYTES, SLAB_BYTES, SlabAllocator } from '../../../processors/tail-sampling/slab';
import { rng } from '../../helpers/random';

describe('tail_sampling SlabAllocator', () => {
  it('copies bytes into pieces that do not overlap and do not follow the source', () => {
    const slabs = new SlabAllocator();
    const rand = rng(7);
    const sources: Buffer[] = [];
    const copies: Buffer[] = [];
    for (let i = 0; i < 500; i++) {
      const src = Buffer.alloc(1 + Math.floor(rand() * 3000));
      for (let j = 0; j < src.length; j++) src[j] = Math.floor(rand() * 256);
      sources.push(Buffer.from(src));
      copies.push(slabs.copy(src));
      src.fill(0); // the copy must not share memory with its source
    }
    copies.forEach((c, i) => expect(c.equals(sources[i]), `copy ${i}`).to.equal(true));
    expect(slabs.slabs, 'about 750 KB of copies span several slabs').to.be.greaterThan(5);
    const shared = copies.filter((c) => c.buffer.byteLength === SLAB_BYTES);
    expect(shared.length).to.equal(copies.length);
  });

  it('aligns float64 rooms, keeps them apart from byte pieces, and gives large requests their own memory', () => {
    const slabs = new SlabAllocator();
    const a = slabs.copy(Buffer.from('abc'));
    const rows = slabs.float64(16);
    expect(rows.byteOffset % 8).to.equal(0);
    expect(rows.buffer).to.equal(a.buffer);
    rows.fill(-1);
    const b = slabs.copy(Buffer.from('xyz'));
    expect(a.toString()).to.equal('abc');
    expect(b.toString()).to.equal('xyz');
    expect(Array.from(rows).every((x) => x === -1)).to.equal(true);
    const big = slabs.float64(MAX_PIECE_BYTES / 8 + 1);
    expect(big.buffer).to.not.equal(a.buffer);
    expect(big.length).to.equal(MAX_PIECE_BYTES / 8 + 1);
    const bigCopy = slabs.copy(Buffer.alloc(MAX_PIECE_BYTES + 1, 5));
    expect(bigCopy.buffer).to.not.equal(a.buffer);
    expect(bigCopy.every((x) => x === 5)).to.equal(true);
  });

  it('starts a new slab when a piece does not fit in the rest of the current one', () => {
    const slabs = new SlabAllocator();
    const pieces: Buffer[] = [];
    for (let i = 0; i < SLAB_BYTES / MAX_PIECE_BYTES; i++) pieces.push(slabs.copy(Buffer.alloc(MAX_PIECE_BYTES, i)));
    expect(slabs.slabs).to.equal(1);
    const next = slabs.copy(Buffer.alloc(1, 99));
    expect(slabs.slabs).to.equal(2);
    expect(next.buffer).to.not.equal(pieces[0].buffer);
    pieces.forEach((p, i) =>
      expect(
        p.every((x) => x === i),
        `piece ${i}`,
      ).to.equal(true),
    );
  });
});
