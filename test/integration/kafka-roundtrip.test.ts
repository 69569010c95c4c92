// Exporter -> real Kafka -> receiver: every chunk arrives exactly once, keyed by its trace id, with the
// same bytes; an oversized trace arrives split into same-key messages holding all its spans in order;
// messages sit on the partition the configured partitioner (fnv1a or murmur2) says; logs take logs_topic.

import { expect } from 'chai';
import type { Exporter, Receiver } from '../../pipeline/sdk/component';
import { partitionOf, type PartitionerName } from '../../pipeline/sdk/kafka/partitioners';
import { splitLogsByTraceId, splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import type { LogBatch, TraceChunk } from '../../pipeline/sdk/trace-batch';
import { factory as exporterFactory } from '../../exporters/kafka/factory';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { decodeSpans, logsRequest, traceIdOf, traceRequest } from '../exporters/kafka/otlp-fixtures';
import {
  committedOffsets,
  deleteTopics,
  endOffsets,
  FakeDownstream,
  metricValue,
  rawKafka,
  requireKafka,
  settingsFor,
  TestHost,
  uniqueGroup,
  uniqueName,
  waitFor,
  deleteCreatedGroups,
} from './kafka-helpers';

const PARTITIONS = 8;

describe('kafka round trip: exporter -> broker -> receiver', function () {
  this.timeout(90_000);
  const topics: string[] = [];
  const components: { shutdown(): Promise<void> }[] = [];

  before(requireKafka);

  afterEach(async () => {
    for (const c of components.splice(0).reverse()) await c.shutdown();
  });

  after(async () => {
    await deleteCreatedGroups();
    await deleteTopics(topics);
  });

  for (const [partitioner, compression] of [
    ['fnv1a', 'none'],
    ['murmur2', 'gzip'],
  ] as [PartitionerName, string][]) {
    it(`delivers every chunk once, keyed by trace id, byte-identical, on the ${partitioner} partition (compression ${compression})`, async () => {
      const topic = uniqueName(`t-rt-${partitioner}`);
      topics.push(topic);
      const host = new TestHost();
      const exporterSettings = settingsFor('exporters.kafka');
      const exporter: Exporter = exporterFactory.create(
        exporterSettings,
        exporterFactory.configSchema.parse({
          topic,
          partitioner,
          compression,
          partitions: PARTITIONS,
          max_message_bytes: '64KiB',
          batch_max_bytes: '64KiB',
          linger: '5ms',
          // The placement check below counts records per partition; watermark records would add to them.
          watermark_interval: '0s',
        }),
      );
      components.push(exporter);
      await exporter.start(host);

      // 200 small traces of 1..5 spans, and one trace of ~400 KB that must be split into several messages.
      const chunks: TraceChunk[] = [];
      for (let i = 0; i < 200; i++)
        chunks.push(
          ...splitTracesByTraceId(
            traceRequest({ traceIds: [traceIdOf(i, 0x11)], spansPerTrace: 1 + (i % 5), padBytes: 20 }),
          ).chunks,
        );
      const bigId = traceIdOf(9999, 0x22);
      const big = splitTracesByTraceId(
        traceRequest({ traceIds: [bigId], spansPerTrace: 3000, padBytes: 100, resources: 2, scopes: 2 }),
      ).chunks[0];
      expect(big.data.length).to.be.greaterThan(5 * 64 * 1024);

      // Ten concurrent callers of 20 chunks, the big one alone: all resolve only once acknowledged.
      const calls = Array.from({ length: 10 }, (_, k) =>
        exporter.consumeTraces({ chunks: chunks.slice(k * 20, k * 20 + 20) }),
      );
      calls.push(exporter.consumeTraces({ chunks: [big] }));
      await Promise.all(calls);
      const produced = await metricValue(exporterSettings.metrics, 'tusk_kafka_produced_messages_total', { topic });
      const bigParts = produced - 200;
      expect(bigParts).to.be.within(6, 12);

      const group = uniqueGroup('g-rt');
      const down = new FakeDownstream();
      const receiverSettings = settingsFor('receivers.kafka');
      const receiver: Receiver = receiverFactory.create(
        receiverSettings,
        receiverFactory.configSchema.parse({
          topic,
          group,
          partitions: PARTITIONS,
          commit_interval: '100ms',
          session_timeout: '6s',
        }),
        { traces: down },
      );
      components.push(receiver);
      await receiver.start(host);
      await waitFor('all messages delivered', () => down.chunkCount() >= 200 + bigParts, 30_000);
      await new Promise((r) => setTimeout(r, 300)); // would-be duplicates have time to show up
      expect(receiver.health?.().ready).to.equal(true);

      // Every small chunk exactly once, same key, same bytes.
      const got = new Map<string, TraceChunk[]>();
      for (const c of down.calls.flatMap((call) => call.batch.chunks))
        got.set(c.traceId, [...(got.get(c.traceId) ?? []), c]);
      expect(got.size).to.equal(201);
      for (const c of chunks) {
        const arrived = got.get(c.traceId) ?? [];
        expect(arrived).to.have.length(1, `trace ${c.traceId}`);
        expect(Buffer.compare(Buffer.from(arrived[0].data), Buffer.from(c.data))).to.equal(0);
        expect(arrived[0].spanCount).to.equal(c.spanCount);
      }
      // The big trace: its parts, same key, all spans in their original order.
      const parts = got.get(bigId) ?? [];
      expect(parts).to.have.length(bigParts);
      for (const p of parts) expect(p.data.length).to.be.at.most(64 * 1024);
      expect(parts.flatMap((p) => decodeSpans(p.data))).to.deep.equal(decodeSpans(big.data));
      expect(parts.reduce((n, p) => n + p.spanCount, 0)).to.equal(3000);

      // Partition placement: per partition, exactly the messages the partitioner assigns there.
      const admin = rawKafka().admin();
      await admin.connect();
      try {
        const expected = new Map<number, number>();
        for (const c of chunks)
          expected.set(
            partitionOf(partitioner, c.traceId, PARTITIONS),
            (expected.get(partitionOf(partitioner, c.traceId, PARTITIONS)) ?? 0) + 1,
          );
        const bigPartition = partitionOf(partitioner, bigId, PARTITIONS);
        expected.set(bigPartition, (expected.get(bigPartition) ?? 0) + bigParts);
        const ends = await endOffsets(admin, topic);
        expect(ends.size).to.equal(PARTITIONS);
        for (let p = 0; p < PARTITIONS; p++) expect(ends.get(p)).to.equal(expected.get(p) ?? 0, `partition ${p}`);
        // And the receiver commits everything it settled.
        await waitFor(
          'commits reach the partition ends',
          async () => {
            const committed = await committedOffsets(admin, group, topic);
            return [...ends].every(([p, end]) => end === 0 || committed.get(p) === end);
          },
          10_000,
          100,
        );
      } finally {
        await admin.disconnect();
      }
      expect(await metricValue(receiverSettings.metrics, 'tusk_kafka_consumed_messages_total', { topic })).to.equal(
        200 + bigParts,
      );
      expect(host.fatal).to.deep.equal([]);
    });
  }

  it('carries log chunks through logs_topic into the logs pipeline', async () => {
    const topic = uniqueName('t-rt-spans');
    const logsTopic = uniqueName('t-rt-logs');
    topics.push(topic, logsTopic);
    const host = new TestHost();
    const exporter = exporterFactory.create(
      settingsFor('exporters.kafka'),
      exporterFactory.configSchema.parse({ topic, logs_topic: logsTopic, partitions: 2 }),
    );
    components.push(exporter);
    await exporter.start(host);
    const ids = [traceIdOf(1, 0x33), traceIdOf(2, 0x33), ''];
    const logChunks = splitLogsByTraceId(logsRequest(ids, 3)).chunks;
    expect(logChunks).to.have.length(3);
    await (exporter.consumeLogs as (b: LogBatch) => Promise<void>)({ chunks: logChunks });

    const gotLogs: LogBatch[] = [];
    const receiver = receiverFactory.create(
      settingsFor('receivers.kafka'),
      receiverFactory.configSchema.parse({
        topic,
        logs_topic: logsTopic,
        group: uniqueGroup('g-rt-logs'),
        partitions: 2,
        session_timeout: '6s',
      }),
      {
        traces: new FakeDownstream(),
        logs: { consumeLogs: async (b) => void gotLogs.push(b) },
      },
    );
    components.push(receiver);
    await receiver.start(host);
    await waitFor('log chunks delivered', () => gotLogs.flatMap((b) => b.chunks).length >= 3, 30_000);
    const got = gotLogs.flatMap((b) => b.chunks);
    expect(got.map((c) => c.traceId).sort()).to.deep.equal([...ids].sort());
    for (const c of got) expect(c.recordCount).to.equal(3);
  });
});
