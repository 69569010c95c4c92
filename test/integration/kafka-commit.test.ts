// The Kafka receiver against the real broker: the committed offset (read back with admin.fetchOffsets) is
// the first unsettled message while later ones settle first or are held; permanent rejections are skipped
// and retriable ones retried; undecodable messages are dead-lettered; a partition over its in-flight limit
// is paused and resumed; with a real tail sampler downstream, one slow trace holds only its own message
// (commit and in-flight bytes), not the whole fetch it came in, and only it is copied out of the fetch.

import { expect } from 'chai';
import type { Receiver } from '../../pipeline/sdk/component';
import { BackpressureError, PermanentError } from '../../pipeline/sdk/errors';
import { factory as samplerFactory } from '../../processors/tail-sampling/factory';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { chunkOf, newSpanId } from '../processors/tail-sampling/helpers/fixtures';
import { traceIdOf } from '../exporters/kafka/otlp-fixtures';
import {
  committedOffsets,
  FakeDownstream,
  KafkaSuite,
  metricValue,
  rawKafka,
  receiverConfig,
  settingsFor,
  TestHost,
  uniqueGroup,
  uniqueName,
  waitFor,
} from './kafka-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kafka receiver commits (real broker)', function () {
  this.timeout(90_000);
  const kafka = new KafkaSuite();
  const receivers: Receiver[] = [];

  before(() => kafka.connect());

  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.shutdown();
  });

  after(() => kafka.close());

  /** produce writes one keyed trace message per id (one request each, so one record batch each). */
  async function produce(topic: string, ids: string[], padBytes = 10): Promise<void> {
    for (const id of ids) await kafka.sendTrace(topic, id, { spansPerTrace: 1, padBytes });
  }

  async function startReceiver(
    topic: string,
    group: string,
    down: FakeDownstream,
    extra: Record<string, unknown> = {},
  ) {
    const settings = settingsFor('receivers.kafka');
    const r = receiverFactory.create(
      settings,
      receiverFactory.configSchema.parse(receiverConfig(topic, group, 1, extra)),
      { traces: down },
    );
    receivers.push(r);
    await r.start(new TestHost());
    return { r, metrics: settings.metrics };
  }

  async function committed(group: string, topic: string): Promise<number | undefined> {
    return (await committedOffsets(kafka.admin, group, topic)).get(0);
  }

  it('commits only up to the first unsettled message while later ones settle first', async () => {
    const topic = await kafka.newTopic('t-commit');
    const group = uniqueGroup('g-commit');
    const down = new FakeDownstream();
    down.policy = () => 'hold';
    const { metrics } = await startReceiver(topic, group, down);
    const ids = Array.from({ length: 15 }, (_, i) => traceIdOf(i, 0x44));
    // Three waves of 5 (offsets 0-4, 5-9, 10-14); each wave's calls are recorded apart.
    const waves: (typeof down.calls)[] = [];
    for (let w = 0; w < 3; w++) {
      const from = down.calls.length;
      await produce(topic, ids.slice(w * 5, w * 5 + 5));
      await waitFor(`wave ${w} delivered`, () => down.chunkCount() === (w + 1) * 5);
      waves.push(down.calls.slice(from));
    }
    for (let w = 0; w < 3; w++) {
      expect(waves[w].flatMap((c) => c.batch.chunks.map((ch) => ch.traceId))).to.deep.equal(
        ids.slice(w * 5, w * 5 + 5),
      );
    }
    const settle = (w: number) => waves[w].forEach((c) => c.resolve());

    await waitFor(
      'first commit (nothing settled: offset 0)',
      async () => (await committed(group, topic)) === 0,
      5000,
      50,
    );
    settle(2); // the newest wave settles first
    await sleep(400);
    expect(await committed(group, topic)).to.equal(0, 'offsets 0-4 are unsettled: nothing beyond 0 may be committed');
    settle(0);
    await waitFor('commit = first unsettled offset (5)', async () => (await committed(group, topic)) === 5, 5000, 50);
    await sleep(400); // several commit intervals: it must stay at 5 while offsets 5-9 are held
    expect(await committed(group, topic)).to.equal(5);
    expect(await metricValue(metrics, 'tusk_kafka_unsettled_messages', { topic, partition: '0' })).to.equal(5);
    settle(1);
    await waitFor('commit = end (15) once all settled', async () => (await committed(group, topic)) === 15, 5000, 50);
    expect(await metricValue(metrics, 'tusk_kafka_consumer_lag', { topic, partition: '0' })).to.equal(0);
    // The broker can show a commit before the receiver has processed its response: wait for the count.
    await waitFor(
      'three successful commits counted (0, 5, 15)',
      async () => (await metricValue(metrics, 'tusk_kafka_commits_total', { result: 'ok' })) >= 3,
      2000,
    );
  });

  it('on a graceful shutdown commits the settled watermark, never the offsets kafkajs resolved', async () => {
    const topic = await kafka.newTopic('t-stop');
    const group = uniqueGroup('g-stop');
    const down = new FakeDownstream();
    down.policy = (_b, i) => (i === 0 ? 'ok' : 'hold');
    const { r } = await startReceiver(topic, group, down, { shutdown_drain_timeout: '200ms' });
    const ids = Array.from({ length: 8 }, (_, i) => traceIdOf(i, 0x4b));
    await produce(topic, ids.slice(0, 3));
    await waitFor('first call (settled)', () => down.chunkCount() === 3 || down.calls.length > 1);
    await produce(topic, ids.slice(3));
    await waitFor('all 8 delivered', () => down.chunkCount() === 8);
    const firstHeld = down.traceIds().indexOf(down.calls[1].batch.chunks[0].traceId);
    expect(firstHeld).to.be.within(1, 7);
    await r.shutdown();
    // kafkajs resolved all 8 offsets (its fetch position is 8); only the settled prefix may be committed.
    expect(await committed(group, topic)).to.equal(firstHeld);
  });

  it('skips a permanently rejected message (counted, committed past) and retries a retriable one until it settles', async () => {
    const topic = await kafka.newTopic('t-perm');
    const group = uniqueGroup('g-perm');
    const ids = Array.from({ length: 10 }, (_, i) => traceIdOf(i, 0x55));
    const bad = ids[3];
    const flaky = ids[6];
    let flakyRejections = 0;
    const down = new FakeDownstream();
    down.policy = (batch) => {
      const tids = batch.chunks.map((c) => c.traceId);
      if (tids.includes(bad)) return new PermanentError('ERR_TEST_INVALID', 'invalid span');
      if (tids.includes(flaky) && flakyRejections < 2) {
        flakyRejections++;
        return new BackpressureError('sampler full', 50);
      }
      return 'ok';
    };
    await produce(topic, ids);
    const { metrics } = await startReceiver(topic, group, down);
    await waitFor('everything settled and committed', async () => (await committed(group, topic)) === 10, 20_000, 100);
    const delivered = new Set(
      down.calls
        .filter((c) => c.settled && !c.batch.chunks.some((ch) => ch.traceId === bad))
        .flatMap((c) => c.batch.chunks.map((ch) => ch.traceId)),
    );
    expect([...delivered].sort()).to.deep.equal(ids.filter((id) => id !== bad).sort());
    expect(flakyRejections).to.equal(2);
    expect(await metricValue(metrics, 'tusk_kafka_skipped_messages_total', { reason: 'permanent' })).to.equal(1);
    expect(await metricValue(metrics, 'tusk_kafka_delivery_retries_total')).to.be.at.least(2);
  });

  it('dead-letters an undecodable message (headers say why and where from) and then commits past it', async () => {
    const topic = await kafka.newTopic('t-poison');
    const dlq = uniqueName('t-dlq');
    kafka.ownTopic(dlq);
    const group = uniqueGroup('g-poison');
    const good = traceIdOf(1, 0x66);
    await kafka.producer.send({
      topic,
      acks: -1,
      messages: [{ key: null, value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]) }],
    });
    await produce(topic, [good]);
    const down = new FakeDownstream();
    const { metrics } = await startReceiver(topic, group, down, { dead_letter: { topic: dlq } });
    await waitFor('committed past the poison message', async () => (await committed(group, topic)) === 2, 20_000, 100);
    expect(down.traceIds()).to.deep.equal([good]);
    expect(await metricValue(metrics, 'tusk_kafka_skipped_messages_total', { reason: 'poison' })).to.equal(1);
    expect(await metricValue(metrics, 'tusk_kafka_dead_lettered_messages_total')).to.equal(1);

    const consumer = rawKafka().consumer({ groupId: uniqueGroup('g-dlq-reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    const seen: { value: Buffer | null; headers: Record<string, string> }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ value: message.value, headers });
      },
    });
    try {
      await waitFor('dead letter readable', () => seen.length >= 1, 20_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).to.have.length(1);
    expect(seen[0].value?.equals(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]))).to.equal(true);
    expect(seen[0].headers).to.include({
      'tusk.dlq.reason': 'poison',
      'tusk.dlq.component': 'receivers.kafka',
      'tusk.dlq.signal': 'traces',
      'tusk.dlq.source.topic': topic,
      'tusk.dlq.source.partition': '0',
      'tusk.dlq.source.offset': '0',
      'tusk.dlq.error.code': 'ERR_OTLP_DECODE',
    });
    expect(await metricValue(metrics, 'tusk_dead_letter_messages_total', { result: 'written' })).to.equal(1);
  });

  it('with a tail sampler downstream, a slow trace holds only its own message: the rest commits and the partition keeps flowing', async () => {
    const topic = await kafka.newTopic('t-slow');
    const group = uniqueGroup('g-slow');
    const ids = Array.from({ length: 40 }, (_, i) => traceIdOf(i, 0x88));
    const slowAt = 2;
    const pad = { key: 'pad', value: 'x'.repeat(900) };
    // One produce request: the 40 messages (~1 KB each) arrive in the same fetch. The one at offset 2 has no
    // root span, so the sampler waits decision_wait for it; all others have theirs and are decided at once.
    await kafka.producer.send({
      topic,
      acks: -1,
      messages: ids.map((id, i) => ({
        key: id,
        value: Buffer.from(
          chunkOf([
            { traceId: id, attributes: { pad: pad.value }, ...(i === slowAt ? { parentSpanId: newSpanId() } : {}) },
          ]).data,
        ),
      })),
    });
    const down = new FakeDownstream();
    down.policy = () => 'ok';
    const samplerSettings = settingsFor('processors.tail_sampling');
    const sampler = samplerFactory.create(
      samplerSettings,
      samplerFactory.configSchema.parse({
        decision_wait: '6s',
        root_settle_delay: 0,
        policies: [{ name: 'all', type: 'always_sample' }],
      }),
      down,
    );
    await sampler.start(new TestHost());
    try {
      const settings = settingsFor('receivers.kafka');
      // 8 KiB in flight is less than the fetch: without per-message settlement the partition would be paused
      // for the whole decision_wait behind the one slow trace.
      const r = receiverFactory.create(
        settings,
        receiverFactory.configSchema.parse(
          receiverConfig(topic, group, 1, { max_inflight_bytes_per_partition: '8KiB', detach_after: '1s' }),
        ),
        { traces: sampler },
      );
      receivers.push(r);
      await r.start(new TestHost());
      // Joining the group takes a few seconds; the commit then stops at the slow message, well before decision_wait.
      await waitFor('the other traces exported', () => down.traceIds().length === ids.length - 1, 15_000, 20);
      const exportedAt = Date.now();
      await waitFor('commit at the slow message', async () => (await committed(group, topic)) === slowAt, 3000, 50);
      expect(Date.now() - exportedAt).to.be.below(3000);
      expect(down.traceIds().sort()).to.deep.equal(
        ids.filter((_, i) => i !== slowAt).sort(),
        'every other trace was decided and exported',
      );
      expect(await metricValue(settings.metrics, 'tusk_kafka_unsettled_messages', { topic, partition: '0' })).to.equal(
        1,
      );
      expect(await metricValue(settings.metrics, 'tusk_kafka_paused_partitions')).to.equal(0);
      await waitFor(
        'the slow trace decided at decision_wait, then everything committed',
        async () => (await committed(group, topic)) === ids.length,
        15_000,
        100,
      );
      expect(down.traceIds()).to.include(ids[slowAt]);
      expect(await metricValue(settings.metrics, 'tusk_kafka_detached_messages_total')).to.equal(
        1,
        'only the slow message outlived detach_after and was copied out of its fetch',
      );
    } finally {
      for (const r of receivers.splice(0)) await r.shutdown();
      await sampler.shutdown();
    }
  });

  it('pauses a partition holding more than max_inflight_bytes_per_partition unsettled, and resumes it as it drains', async () => {
    const topic = await kafka.newTopic('t-pause');
    const group = uniqueGroup('g-pause');
    const ids = Array.from({ length: 60 }, (_, i) => traceIdOf(i, 0x77));
    await produce(topic, ids, 900); // ~1 KB per message, one record batch each
    const down = new FakeDownstream();
    down.policy = () => 'hold';
    const { r, metrics } = await startReceiver(topic, group, down, { max_inflight_bytes_per_partition: '4KiB' });
    await waitFor('first deliveries', () => down.chunkCount() > 0);
    await sleep(800); // plenty of fetch rounds (fetch_max_wait 50ms) had the partition not been paused
    const whilePaused = down.chunkCount();
    expect(whilePaused).to.be.within(4, 12, 'the limit (4 KiB) plus at most one fetch (4 KiB) of ~1 KB messages');
    expect(await metricValue(metrics, 'tusk_kafka_paused_partitions')).to.equal(1);
    expect(r.health?.()).to.include({ ready: true, degraded: true });
    // Drain: settle whatever is held until everything arrived.
    await waitFor(
      'all 60 delivered once drained',
      () => {
        for (const c of down.calls) if (!c.settled) c.resolve();
        return down.chunkCount() === 60;
      },
      30_000,
      20,
    );
    await waitFor(
      'committed to the end',
      async () => {
        for (const c of down.calls) if (!c.settled) c.resolve();
        return (await committed(group, topic)) === 60;
      },
      10_000,
      50,
    );
    expect(new Set(down.traceIds()).size).to.equal(60);
    expect(await metricValue(metrics, 'tusk_kafka_paused_partitions')).to.equal(0);
  });
});
