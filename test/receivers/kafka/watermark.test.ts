// Tests of SettledWatermark: the commit offset is always the first unsettled offset (or the end when all
// settled), whatever the settlement order, with gaps in the offsets and with messages skipped on purpose.

import { expect } from 'chai';
import { SettledWatermark } from '../../../receivers/kafka/watermark';
import { rng } from '../../helpers/random';

describe('kafka receiver: SettledWatermark', () => {
  it('has no commit offset before anything is tracked, unless a start was given', () => {
    expect(new SettledWatermark().commitOffset).to.equal(undefined);
    expect(new SettledWatermark().nextOffset).to.equal(undefined);
    expect(new SettledWatermark(42).commitOffset).to.equal(42);
  });

  it('commits the first unsettled offset while settlement comes out of order', () => {
    const w = new SettledWatermark();
    for (let o = 10; o < 15; o++) w.track(o, 100);
    expect(w.commitOffset).to.equal(10);
    expect(w.settle(12)).to.equal(true);
    expect(w.settle(14)).to.equal(true);
    expect(w.commitOffset).to.equal(10, '10 is still unsettled');
    w.settle(10);
    expect(w.commitOffset).to.equal(11);
    w.settle(11);
    expect(w.commitOffset).to.equal(13, '12 was settled already: the prefix jumps to 13');
    w.settle(13);
    expect(w.commitOffset).to.equal(15, 'all settled: commit the offset after the last one');
    expect(w.unsettledCount).to.equal(0);
    expect(w.unsettledWeight).to.equal(0);
  });

  it('handles gaps in the offsets (compaction, transaction markers)', () => {
    const w = new SettledWatermark();
    w.track(5);
    w.track(7);
    w.track(10);
    w.settle(5);
    expect(w.commitOffset).to.equal(7, 'the gap 6 is not waited for');
    w.settle(10);
    expect(w.commitOffset).to.equal(7);
    w.settle(7);
    expect(w.commitOffset).to.equal(11);
  });

  it('advances over records that were fetched but filtered (never below what it tracked)', () => {
    const w = new SettledWatermark();
    w.track(3);
    w.advance(6); // offsets 4, 5: a control record and an aborted record
    expect(w.commitOffset).to.equal(3);
    w.settle(3);
    expect(w.commitOffset).to.equal(6);
    w.advance(4);
    expect(w.nextOffset).to.equal(6, 'advance never moves backwards');
    expect(() => w.track(5)).to.throw(RangeError);
    w.track(6);
    expect(w.commitOffset).to.equal(6);
  });

  it('treats a message skipped on purpose (permanent error) as settled', () => {
    const w = new SettledWatermark();
    w.track(0);
    w.track(1); // poison: skipped
    w.track(2);
    w.settle(1);
    expect(w.commitOffset).to.equal(0);
    w.settle(0);
    expect(w.commitOffset).to.equal(2);
  });

  it('ignores a second settlement and unknown offsets', () => {
    const w = new SettledWatermark();
    w.track(0, 10);
    w.track(1, 20);
    expect(w.settle(1)).to.equal(true);
    expect(w.settle(1)).to.equal(false);
    expect(w.settle(99)).to.equal(false);
    expect(w.unsettledCount).to.equal(1);
    expect(w.unsettledWeight).to.equal(10);
    expect(w.isUnsettled(0)).to.equal(true);
    expect(w.isUnsettled(1)).to.equal(false);
  });

  it('refuses duplicates and offsets below the tracked end', () => {
    const w = new SettledWatermark(100);
    expect(() => w.track(99)).to.throw(RangeError);
    w.track(100);
    expect(() => w.track(100)).to.throw(RangeError);
    expect(() => w.track(-1)).to.throw(RangeError);
  });

  it('always equals a brute-force model over thousands of random settlements (with compaction)', function () {
    this.timeout(20_000);
    const rnd = rng(20240601);
    const w = new SettledWatermark();
    // The model: unsettled offsets kept sorted (tracked in increasing order), so its minimum is unsettled[0].
    const unsettled: number[] = [];
    let offset = 1000;
    let end = offset;
    for (let ops = 1; ops <= 20_000; ops++) {
      if (rnd() < 0.55) {
        offset += rnd() < 0.1 ? 2 + Math.floor(rnd() * 5) : 1; // occasional gaps
        w.track(offset, 1);
        unsettled.push(offset);
        end = offset + 1;
      } else if (unsettled.length > 0) {
        // Mostly settle the oldest (like a real downstream), sometimes any.
        const i = rnd() < 0.5 ? 0 : Math.floor(rnd() * unsettled.length);
        expect(w.settle(unsettled[i])).to.equal(true);
        unsettled.splice(i, 1);
      }
      const expected = unsettled.length > 0 ? unsettled[0] : end;
      if (w.commitOffset !== expected || w.unsettledCount !== unsettled.length) {
        expect({ ops, commit: w.commitOffset, count: w.unsettledCount }).to.deep.equal({
          ops,
          commit: expected,
          count: unsettled.length,
        });
      }
    }
    expect(unsettled.length).to.be.greaterThan(
      0,
      'the walk ends with some offsets unsettled (exercises the non-empty case)',
    );
  });
});
