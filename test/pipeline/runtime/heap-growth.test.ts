// Heap growth of a small heap: the factor chosen from the heap in use, set only when it changes, handed back
// to V8 on stop, and re-evaluated after a real mark-compact.

import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  HeapGrowth,
  SMALL_HEAP_BYTES,
  SMALL_HEAP_GROWING_PERCENT,
  growingPercentFor,
  type HeapGrowthHost,
} from '../../../pipeline/runtime/heap-growth';

const MB = 1 << 20;

function fakeHost(used: number): HeapGrowthHost & { used: number; flags: string[] } {
  const host = {
    used,
    flags: [] as string[],
    usedHeapBytes: () => host.used,
    setFlags: (f: string) => void host.flags.push(f),
  };
  return host;
}

describe('heap growth of a small heap', () => {
  it('uses a factor of 4 below the threshold and V8 own factor from it on', () => {
    expect(SMALL_HEAP_GROWING_PERCENT).to.equal(300);
    expect(growingPercentFor(22 * MB)).to.equal(300);
    expect(growingPercentFor(SMALL_HEAP_BYTES - 1)).to.equal(300);
    expect(growingPercentFor(SMALL_HEAP_BYTES)).to.equal(0);
    expect(growingPercentFor(200 * MB)).to.equal(0);
    expect(growingPercentFor(10 * MB, 8 * MB)).to.equal(0);
  });

  it('sets the flag only when the choice changes, and gives it back to V8 on stop', () => {
    const host = fakeHost(20 * MB);
    const g = new HeapGrowth(host);
    g.update();
    expect(host.flags).to.deep.equal(['--heap-growing-percent=300']);
    expect(g.percent).to.equal(300);
    host.used = 25 * MB;
    g.update();
    expect(host.flags).to.have.length(1);
    host.used = 64 * MB;
    g.update();
    expect(host.flags).to.deep.equal(['--heap-growing-percent=300', '--heap-growing-percent=0']);
    expect(g.percent).to.equal(0);
    host.used = 10 * MB;
    g.update();
    g.stop();
    expect(host.flags.slice(2)).to.deep.equal(['--heap-growing-percent=300', '--heap-growing-percent=0']);
    expect(g.percent).to.equal(0);
    g.stop();
    expect(host.flags).to.have.length(4);
  });

  it('decides again after a mark-compact of this process', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const host = fakeHost(100 * MB);
    const g = new HeapGrowth(host);
    g.start();
    expect(host.flags).to.deep.equal([]);
    host.used = 1 * MB;
    gc();
    await new Promise((r) => setTimeout(r, 50));
    g.stop();
    expect(host.flags).to.deep.equal(['--heap-growing-percent=300', '--heap-growing-percent=0']);
  });
});
