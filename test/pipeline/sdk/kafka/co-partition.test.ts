// coPartitionVerdict (pipeline/sdk/kafka/co-partition.ts): a logs topic is co-partitioned with its traces
// topic(s) only when every count is known and equal; otherwise the verdict names the counts and the effect.

import { expect } from 'chai';
import { coPartitionVerdict } from '../../../../pipeline/sdk/kafka/co-partition';

describe('coPartitionVerdict', () => {
  it('is ok with the common count when every topic has the same partition count', () => {
    const v = coPartitionVerdict(
      new Map([
        ['spans', 6],
        ['logs', 6],
      ]),
      ['spans'],
      'logs',
    );
    expect(v).to.deep.equal({ ok: true, partitions: 6, detail: 'co-partitioned: 6 partitions each' });
  });

  it('is not ok, naming the counts and the effect, when they differ or one is unknown', () => {
    const differ = coPartitionVerdict(
      new Map([
        ['spans', 6],
        ['logs', 4],
      ]),
      ['spans'],
      'logs',
    );
    expect(differ.ok).to.equal(false);
    expect(differ.partitions).to.equal(undefined);
    expect(differ.detail).to.include('spans has 6, logs has 4 partitions').and.include('decision_wait');
    const unknown = coPartitionVerdict(new Map([['spans', 6]]), ['spans'], 'logs');
    expect(unknown.ok).to.equal(false);
    expect(unknown.detail).to.include('logs has unknown');
  });

  it('checks every traces topic of a receiver reading several', () => {
    const counts = new Map([
      ['a', 3],
      ['b', 4],
      ['logs', 3],
    ]);
    expect(coPartitionVerdict(counts, ['a', 'b'], 'logs').ok).to.equal(false);
    expect(coPartitionVerdict(counts, ['a'], 'logs').ok).to.equal(true);
  });
});
