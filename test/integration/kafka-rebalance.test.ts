// A rebalance against the real broker: receiver A owns all partitions and holds one message per partition
// unsettled; receiver B joins the group. Partitions that move to B are replayed from A's settled watermark
// (the held message and everything after it, nothing before); partitions A keeps are not delivered to A a
// second time; once everything settles, the group's commits reach every partition's end.

import { expect } from 'chai';
import type { Receiver } from '../../pipeline/sdk/component';
import { partitionOf } from '../../pipeline/sdk/kafka/partitioners';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { traceIdOf } from '../exporters/kafka/otlp-fixtures';
import {
  committedOffsets,
  endOffsets,
  FakeDownstream,
  KafkaSuite,
  receiverConfig,
  settingsFor,
  TestHost,
  uniqueGroup,
  waitFor,
} from './kafka-helpers';

const PARTITIONS = 4;

describe('kafka receiver rebalance (real broker, two members)', function () {
  this.timeout(90_000);
  const receivers: Receiver[] = [];
  const kafka = new KafkaSuite();

  before(() => kafka.connect());

  after(async () => {
    for (const r of receivers) await r.shutdown();
    await kafka.close();
  });

  it('replays moved partitions from the settled watermark and never redelivers kept ones', async () => {
    const topic = await kafka.newTopic('t-rebal', PARTITIONS);
    const group = uniqueGroup('g-rebal');

    // Pick 10 trace ids per partition (kafkajs's default partitioner is murmur2); hold offset 3 of each in A.
    const byPartition = new Map<number, string[]>();
    for (let i = 0; [...byPartition.values()].filter((ids) => ids.length === 10).length < PARTITIONS; i++) {
      expect(i).to.be.below(1000);
      const id = traceIdOf(i, 0xaa);
      const p = partitionOf('murmur2', id, PARTITIONS);
      const ids = byPartition.get(p) ?? [];
      if (ids.length < 10) byPartition.set(p, [...ids, id]);
    }
    const all = [...byPartition.values()].flat();
    const held = new Set([...byPartition.values()].map((ids) => ids[3]));
    const partitionOfId = new Map([...byPartition].flatMap(([p, ids]) => ids.map((id) => [id, p] as const)));

    const config = receiverFactory.configSchema.parse(receiverConfig(topic, group, PARTITIONS));
    const downA = new FakeDownstream();
    downA.policy = (batch) => (batch.chunks.some((c) => held.has(c.traceId)) ? 'hold' : 'ok');
    const a = receiverFactory.create(settingsFor('receivers.a'), config, { traces: downA });
    receivers.push(a);
    await a.start(new TestHost());
    await waitFor('A joined', () => Boolean(a.health?.().ready), 30_000);
    // One message at a time, each in its own downstream call (A is caught up before the next).
    for (let k = 0; k < 10; k++) {
      for (const ids of byPartition.values()) {
        await kafka.sendTrace(topic, ids[k], { spansPerTrace: 1 });
        await waitFor(`A got ${ids[k]}`, () => downA.traceIds().includes(ids[k]), 20_000, 5);
      }
    }
    await waitFor(
      'A committed up to each held message (offset 3)',
      async () => {
        const c = await committedOffsets(kafka.admin, group, topic);
        return [...c.values()].filter((o) => o === 3).length === PARTITIONS;
      },
      10_000,
      100,
    );
    const aBefore = downA.traceIds().length;

    const downB = new FakeDownstream();
    const b = receiverFactory.create(settingsFor('receivers.b'), config, { traces: downB });
    receivers.push(b);
    await b.start(new TestHost());
    await waitFor('B received the replay of the partitions it got', () => downB.traceIds().length > 0, 60_000, 50);
    await waitFor('both members in the group', () => Boolean(a.health?.().ready && b.health?.().ready), 30_000, 50);
    await new Promise((r) => setTimeout(r, 500));

    const movedToB = new Set(downB.traceIds().map((id) => partitionOfId.get(id)));
    expect(movedToB.size).to.be.within(
      1,
      PARTITIONS - 1,
      'the round-robin assigner splits 4 partitions over 2 members',
    );
    for (const p of movedToB) {
      const ids = byPartition.get(p as number) as string[];
      const got = downB.traceIds().filter((id) => partitionOfId.get(id) === p);
      expect(got).to.deep.equal(ids.slice(3), `partition ${p}: replay from the held offset 3, nothing before it`);
    }
    // A never got a message twice: kept partitions continue where A had dispatched.
    const aIds = downA.traceIds();
    expect(aIds.length).to.equal(new Set(aIds).size, 'no duplicate delivery to A');
    expect(aIds.length).to.equal(aBefore);

    // Release A's held messages: kept partitions settle in A, moved ones were settled by B.
    for (const c of downA.calls) if (!c.settled) c.resolve();
    const ends = await endOffsets(kafka.admin, topic);
    await waitFor(
      'commits reach every partition end',
      async () => {
        const c = await committedOffsets(kafka.admin, group, topic);
        return [...ends].every(([p, end]) => c.get(p) === end);
      },
      15_000,
      100,
    );
    expect(new Set([...aIds, ...downB.traceIds()])).to.have.property('size', all.length);
  });
});
