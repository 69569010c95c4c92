// ensureTopics (pipeline/sdk/kafka/topics.ts) against a fake kafkajs admin: missing topics are created with
// the configured partition count and replication factor, and an existing topic with fewer replicas than
// configured is reported (warning + replicationFactor in the result) and used as it is.

import { expect } from 'chai';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { ensureTopics } from '../../../../pipeline/sdk/kafka/topics';

interface Created {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
}

function fakeKafka(existing: Map<string, number[][]>, created: Created[]): Kafka {
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [...existing.keys()],
    createTopics: async ({ topics }: { topics: Created[] }) => {
      for (const t of topics) {
        created.push(t);
        existing.set(
          t.topic,
          Array.from({ length: t.numPartitions }, () => Array.from({ length: t.replicationFactor }, (_, i) => i + 1)),
        );
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({
        name,
        partitions: (existing.get(name) ?? []).map((replicas, partitionId) => ({ partitionId, replicas })),
      })),
    }),
  };
  return { admin: () => admin } as unknown as Kafka;
}

describe('ensureTopics: replication factor', () => {
  it('creates a missing topic with the configured replication factor', async () => {
    const created: Created[] = [];
    const out = await ensureTopics(
      fakeKafka(new Map(), created),
      pino({ level: 'silent' }),
      [{ topic: 'spans', partitions: 6, replicationFactor: 3 }],
      1000,
    );
    expect(created).to.deep.equal([{ topic: 'spans', numPartitions: 6, replicationFactor: 3 }]);
    expect(out).to.deep.equal([{ topic: 'spans', created: true, partitions: 6, replicationFactor: 3 }]);
  });

  it('warns when an existing topic has fewer replicas than configured, and uses it', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const existing = new Map([['spans', [[1], [2], [3]]]]);
    const out = await ensureTopics(
      fakeKafka(existing, []),
      logger,
      [{ topic: 'spans', partitions: 3, replicationFactor: 3 }],
      1000,
    );
    expect(out).to.deep.equal([{ topic: 'spans', created: false, partitions: 3, replicationFactor: 1 }]);
    expect(lines.join('')).to.include('fewer replicas than the configured replication_factor');
  });
});

describe('ensureTopics: co-partitioned topics', () => {
  it('creates a missing topic with the partition count of the existing topic it is co-partitioned with', async () => {
    const created: Created[] = [];
    const existing = new Map([['spans', [[1], [1], [1], [1], [1]]]]);
    const out = await ensureTopics(
      fakeKafka(existing, created),
      pino({ level: 'silent' }),
      [
        { topic: 'spans', partitions: 8, replicationFactor: 1, partitionsLike: 'logs' },
        { topic: 'logs', partitions: 8, replicationFactor: 1, partitionsLike: 'spans' },
      ],
      1000,
    );
    expect(created).to.deep.equal([{ topic: 'logs', numPartitions: 5, replicationFactor: 1 }]);
    expect(out.map((t) => [t.topic, t.partitions])).to.deep.equal([
      ['spans', 5],
      ['logs', 5],
    ]);
  });

  it('creates both with the configured count when neither exists', async () => {
    const created: Created[] = [];
    await ensureTopics(
      fakeKafka(new Map(), created),
      pino({ level: 'silent' }),
      [
        { topic: 'spans', partitions: 6, replicationFactor: 1, partitionsLike: 'logs' },
        { topic: 'logs', partitions: 6, replicationFactor: 1, partitionsLike: 'spans' },
      ],
      1000,
    );
    expect(created.map((c) => [c.topic, c.numPartitions])).to.deep.equal([
      ['spans', 6],
      ['logs', 6],
    ]);
  });
});
