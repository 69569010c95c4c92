// Event time on the Kafka bus: watermark records (written and read back), a writer's in-flight accept times,
// and a reader's per-partition clock (lowest writer, expiry, end notice, holds, closing).

import { expect } from 'chai';
import {
  AcceptClock,
  InFlightAcceptTimes,
  PartitionClock,
  WATERMARK_HEADER,
  WATERMARK_WRITER_HEADER,
  readWatermark,
  watermarkMessage,
} from '../../../../pipeline/sdk/kafka/event-time';

/** consumed turns produced string headers into what a consumer reads (Buffers). */
function consumed(headers: Record<string, string>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
}

describe('pipeline/sdk/kafka/event-time', () => {
  it('writes a watermark record with an empty value and reads it back; other records are not watermarks', () => {
    const m = watermarkMessage('ingest-1', 3, 1_000);
    expect(m.partition).to.equal(3);
    expect(m.key).to.equal(null);
    expect(m.value.length).to.equal(0);
    expect(m.timestamp).to.equal('1000');
    expect(readWatermark(consumed(m.headers))).to.deep.equal({ writer: 'ingest-1', watermark: 1_000 });
    const end = watermarkMessage('ingest-1', 0, undefined);
    expect(readWatermark(consumed(end.headers))).to.deep.equal({ writer: 'ingest-1', watermark: undefined });
    expect(readWatermark(undefined)).to.equal(undefined);
    expect(readWatermark({ traceparent: Buffer.from('x') })).to.equal(undefined);
    const bad = { [WATERMARK_WRITER_HEADER]: Buffer.from('w'), [WATERMARK_HEADER]: Buffer.from('soon') };
    expect(readWatermark(bad)).to.deep.equal({ writer: 'w', watermark: undefined }, 'a bad time ends the writer');
  });

  it('hands out accept times that never move backwards', () => {
    let now = 100;
    const c = new AcceptClock(() => now);
    expect(c.now()).to.equal(100);
    now = 90;
    expect(c.now()).to.equal(100);
    now = 120;
    expect(c.now()).to.equal(120);
  });

  it('tells the oldest accept time in flight per partition; an unknown partition holds every one', () => {
    const f = new InFlightAcceptTimes();
    expect(f.oldest(0)).to.equal(undefined);
    f.add(0, 10);
    f.add(0, 10);
    f.add(0, 20);
    f.add(1, 15);
    expect([f.oldest(0), f.oldest(1), f.oldest(2)]).to.deep.equal([10, 15, undefined]);
    f.remove(0, 10);
    expect(f.oldest(0)).to.equal(10, 'one of the two records accepted at 10 is still in flight');
    f.remove(0, 10);
    expect(f.oldest(0)).to.equal(20);
    f.add(undefined, 18);
    expect([f.oldest(0), f.oldest(1), f.oldest(2)]).to.deep.equal([18, 15, 18]);
    expect(f.size).to.equal(3);
    f.remove(undefined, 18);
    f.remove(0, 20);
    f.remove(1, 15);
    f.remove(1, 15); // twice: ignored
    expect(f.size).to.equal(0);
    expect(f.oldest(0)).to.equal(undefined);
  });

  it('a partition clock is the lowest writer watermark; none without writers; a writer never moves back', () => {
    const c = new PartitionClock(30_000);
    expect(c.watermark(0)).to.equal(undefined);
    c.observe({ writer: 'a', watermark: 1_000 }, 0);
    c.observe({ writer: 'b', watermark: 800 }, 0);
    expect(c.watermark(0)).to.equal(800);
    c.observe({ writer: 'b', watermark: 1_500 }, 100);
    expect(c.watermark(100)).to.equal(1_000);
    c.observe({ writer: 'a', watermark: 900 }, 200); // an older record read again (replay)
    expect(c.watermark(200)).to.equal(1_000);
    c.observe({ writer: 'a', watermark: undefined }, 300); // a ended
    expect(c.watermark(300)).to.equal(1_500);
    expect(c.writers(300)).to.equal(1);
  });

  it('forgets a writer not heard from for the expiry', () => {
    const c = new PartitionClock(30_000);
    c.observe({ writer: 'dead', watermark: 1_000 }, 0);
    c.observe({ writer: 'alive', watermark: 1_000 }, 0);
    c.observe({ writer: 'alive', watermark: 25_000 }, 25_000);
    expect(c.watermark(29_999)).to.equal(1_000);
    expect(c.watermark(30_001)).to.equal(25_000);
    expect(c.watermark(55_001)).to.equal(undefined, 'no writer left: no clock');
  });

  it('holds keep the watermark down until released; a closed clock stops where it was', () => {
    const c = new PartitionClock(1_000);
    c.observe({ writer: 'a', watermark: 500 }, 0);
    const key = {};
    c.hold(key, 300);
    expect(c.watermark(0)).to.equal(300);
    c.release(key);
    expect(c.watermark(0)).to.equal(500);
    c.close();
    c.observe({ writer: 'a', watermark: 900 }, 10);
    expect(c.watermark(60_000)).to.equal(500, 'neither observed nor expired any more');
  });
});
