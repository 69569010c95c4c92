// The co-partitioned assigner (receivers/kafka/assigner.ts): partition N of the traces topic and of the logs
// topic go to one member; member loads differ by at most one; the plan is deterministic; an unchanged group
// gets its assignment back; a member joining or leaving moves only what must move; topics with different
// partition counts are assigned each on its own (and reported); the kafkajs wrapper round-trips the member
// metadata (versioned) and encodes assignments kafkajs decodes.

import { expect } from 'chai';
import { AssignerProtocol, type Cluster, type GroupMember } from 'kafkajs';
import pino from 'pino';
import {
  CO_PARTITIONED_ASSIGNER,
  CO_PARTITIONED_VERSION,
  coLocationGaps,
  coPartitionedAssigner,
  decodeMember,
  encodeMemberUserData,
  planAssignment,
  type MemberSubscription,
  type TopicAssignment,
} from '../../../receivers/kafka/assigner';

const T = 'spans';
const L = 'logs';
const SET = [[T, L]];

function counts(traces: number, logs: number): Map<string, number> {
  return new Map([
    [T, traces],
    [L, logs],
  ]);
}

function member(memberId: string, owned: TopicAssignment = {}, topics = [T, L]): MemberSubscription {
  return { memberId, topics, owned };
}

/** Runs a plan and returns it as plain objects (member id -> topic -> partitions). */
function plan(
  members: MemberSubscription[],
  c = counts(12, 12),
  sets: string[][] = SET,
): Record<string, TopicAssignment> {
  return Object.fromEntries(planAssignment(members, c, sets).assignment);
}

/** Units (partition numbers of the traces topic) per member. */
function loads(a: Record<string, TopicAssignment>): number[] {
  return Object.values(a).map((x) => (x[T] ?? []).length);
}

function allPartitions(a: Record<string, TopicAssignment>, topic: string): number[] {
  return Object.values(a)
    .flatMap((x) => x[topic] ?? [])
    .sort((x, y) => x - y);
}

/** Next generation: every member reports what it got (as the receiver does in its metadata). */
function rejoin(a: Record<string, TopicAssignment>, ids: string[]): MemberSubscription[] {
  return ids.map((id) => member(id, a[id] ?? {}));
}

/** The units (traces partitions) that changed owner between two plans, counting only members in both. */
function moved(before: Record<string, TopicAssignment>, after: Record<string, TopicAssignment>): number {
  const ownerOf = (a: Record<string, TopicAssignment>): Map<number, string> =>
    new Map(Object.entries(a).flatMap(([id, x]) => (x[T] ?? []).map((p) => [p, id] as [number, string])));
  const b = ownerOf(before);
  const c = ownerOf(after);
  let n = 0;
  for (const [p, id] of c) if (b.get(p) !== id) n++;
  return n;
}

describe('co-partitioned assigner: plan', () => {
  it('puts partition N of both topics on the same member, every partition exactly once', () => {
    for (const m of [1, 2, 3, 4, 5, 7, 12, 13]) {
      const ids = Array.from({ length: m }, (_, i) => `member-${i}`);
      const a = plan(ids.map((id) => member(id)));
      expect(allPartitions(a, T)).to.deep.equal([...Array(12).keys()]);
      expect(allPartitions(a, L)).to.deep.equal([...Array(12).keys()]);
      for (const x of Object.values(a)) {
        expect(x[L] ?? []).to.deep.equal(x[T] ?? []);
        expect(coLocationGaps(x, [T, L])).to.deep.equal([]);
      }
    }
  });

  it('is balanced: member loads differ by at most one unit', () => {
    for (const [partitions, m] of [
      [6, 4],
      [7, 2],
      [12, 5],
      [3, 5],
    ]) {
      const a = plan(
        Array.from({ length: m }, (_, i) => member(`m${i}`)),
        counts(partitions, partitions),
      );
      const l = loads(a);
      expect(Math.max(...l) - Math.min(...l), `${partitions} partitions, ${m} members`).to.be.at.most(1);
      expect(l.reduce((x, y) => x + y, 0)).to.equal(partitions);
      expect(Object.keys(a)).to.have.length(m); // members without a unit get an empty assignment
    }
  });

  it('is deterministic: the order the members come in does not matter', () => {
    const ms = ['c', 'a', 'd', 'b'].map((id) => member(id));
    const a = plan(ms);
    expect(plan([...ms].reverse())).to.deep.equal(a);
    expect(plan([ms[2], ms[0], ms[3], ms[1]])).to.deep.equal(a);
  });

  it('gives an unchanged group the same assignment back, rebalance after rebalance', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const first = plan(ids.map((id) => member(id)));
    let current = first;
    for (let i = 0; i < 3; i++) {
      current = plan(rejoin(current, ids));
      expect(current).to.deep.equal(first);
    }
  });

  it('keeps an unchanged group stable even when it was not balanced by this assigner (round robin before)', () => {
    // As kafkajs round robin left it with 3 members over 7 + 7 partitions (not co-located).
    const before = {
      a: { [T]: [0, 3, 6], [L]: [2, 5] },
      b: { [T]: [1, 4], [L]: [0, 3, 6] },
      c: { [T]: [2, 5], [L]: [1, 4] },
    };
    const a = plan(rejoin(before, ['a', 'b', 'c']), counts(7, 7));
    // Each member keeps its traces partitions (where the trace state is) and gets their logs partitions.
    expect(a).to.deep.equal({
      a: { [T]: [0, 3, 6], [L]: [0, 3, 6] },
      b: { [T]: [1, 4], [L]: [1, 4] },
      c: { [T]: [2, 5], [L]: [2, 5] },
    });
  });

  it('moves only what must move when a member joins', () => {
    const before = plan(['a', 'b', 'c'].map((id) => member(id)));
    const after = plan(rejoin(before, ['a', 'b', 'c', 'd']));
    const l = loads(after);
    expect(Math.max(...l) - Math.min(...l)).to.be.at.most(1);
    expect((after.d[T] ?? []).length).to.equal(3);
    expect(moved(before, after)).to.equal(3); // exactly the newcomer's share
    for (const id of ['a', 'b', 'c'])
      expect(before[id][T]).to.include.members(after[id][T] ?? [], `${id} kept a subset of what it had`);
  });

  it("moves only the leaver's units when a member leaves", () => {
    const before = plan(['a', 'b', 'c', 'd'].map((id) => member(id)));
    const after = plan(rejoin(before, ['a', 'b', 'd']));
    for (const id of ['a', 'b', 'd']) expect(after[id][T]).to.include.members(before[id][T]);
    expect(moved(before, after)).to.equal(3); // c's three units, nothing else
    expect(allPartitions(after, T)).to.deep.equal([...Array(12).keys()]);
    const l = loads(after);
    expect(Math.max(...l) - Math.min(...l)).to.be.at.most(1);
  });

  it('a restarted member (new id) that reports what it had gets it back', () => {
    const before = plan(['a', 'b', 'c'].map((id) => member(id)));
    const members = [member('a', before.a), member('b', before.b), member('c2', before.c)];
    const after = plan(members);
    expect(after.c2).to.deep.equal(before.c);
  });

  it('settles two members claiming the same partitions deterministically, still balanced and co-located', () => {
    const a = plan([member('a', { [T]: [0, 1, 2, 3] }), member('b', { [T]: [0, 1, 2, 3] })], counts(4, 4));
    expect(a).to.deep.equal({ a: { [T]: [0, 1], [L]: [0, 1] }, b: { [T]: [2, 3], [L]: [2, 3] } });
  });

  it('assigns topics with different partition counts each on its own, and says so', () => {
    const out = planAssignment([member('a'), member('b')], counts(6, 4), SET);
    expect(out.notCoPartitioned).to.deep.equal(['spans (6 partitions), logs (4 partitions)']);
    const a = Object.fromEntries(out.assignment);
    expect(allPartitions(a, T)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(allPartitions(a, L)).to.deep.equal([0, 1, 2, 3]);
    const l = Object.values(a).map((x) => (x[T] ?? []).length + (x[L] ?? []).length);
    expect(Math.max(...l) - Math.min(...l)).to.be.at.most(1);
  });

  it('without a co-partitioned set (traces only) balances partitions like any assigner', () => {
    const a = plan([member('a', {}, [T]), member('b', {}, [T])], new Map([[T, 5]]), []);
    expect(a).to.deep.equal({ a: { [T]: [0, 2, 4] }, b: { [T]: [1, 3] } });
  });

  it('never gives a member partitions of a topic it does not subscribe to', () => {
    const a = plan([member('a'), member('b', {}, [T])], counts(4, 4));
    expect(a.b[L]).to.equal(undefined);
    expect(a.b[T]).to.equal(undefined); // a unit is both topics: only a reads both
    expect(a.a).to.deep.equal({ [T]: [0, 1, 2, 3], [L]: [0, 1, 2, 3] });
  });
});

describe('co-partitioned assigner: member metadata and kafkajs', () => {
  it('decodes its own versioned metadata, and anything else as owning nothing', () => {
    const owned = { [T]: [1, 3], [L]: [1, 3] };
    const own = AssignerProtocol.MemberMetadata.encode({
      version: CO_PARTITIONED_VERSION,
      topics: [T, L],
      userData: encodeMemberUserData(owned),
    });
    expect(decodeMember('m', own)).to.deep.equal({ memberId: 'm', topics: [T, L], owned });
    const future = AssignerProtocol.MemberMetadata.encode({
      version: CO_PARTITIONED_VERSION + 1,
      topics: [T, L],
      userData: encodeMemberUserData(owned),
    });
    expect(decodeMember('m', future)).to.deep.equal({ memberId: 'm', topics: [T, L], owned: {} });
    const garbage = AssignerProtocol.MemberMetadata.encode({
      version: CO_PARTITIONED_VERSION,
      topics: [T],
      userData: Buffer.from('{not json'),
    });
    expect(decodeMember('m', garbage)).to.deep.equal({ memberId: 'm', topics: [T], owned: {} });
    const bad = AssignerProtocol.MemberMetadata.encode({
      version: CO_PARTITIONED_VERSION,
      topics: [T],
      userData: Buffer.from(JSON.stringify({ v: CO_PARTITIONED_VERSION, owned: { [T]: [1, -2, 'x', 2.5, 4] } })),
    });
    expect(decodeMember('m', bad).owned).to.deep.equal({ [T]: [1, 4] });
    expect(decodeMember('m', Buffer.from([1])).owned).to.deep.equal({});
  });

  it('runs as a kafkajs assigner: protocol sends what is owned, assign encodes what kafkajs decodes', async () => {
    const partitions = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0 }));
    const cluster = { findTopicPartitionMetadata: () => partitions(6) } as unknown as Cluster;
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const make = (owned: TopicAssignment) =>
      coPartitionedAssigner({ coPartitioned: SET, owned: () => owned, logger })({
        cluster,
        groupId: 'g',
        logger: undefined as never,
      });
    const a = make({ [T]: [0, 1, 2], [L]: [0, 1, 2] });
    const b = make({});
    expect(a.name).to.equal(CO_PARTITIONED_ASSIGNER);
    const members: GroupMember[] = [
      { memberId: 'a', memberMetadata: a.protocol({ topics: [T, L] }).metadata },
      { memberId: 'b', memberMetadata: b.protocol({ topics: [T, L] }).metadata },
    ];
    const out = await a.assign({ members, topics: [T, L] });
    const decoded = Object.fromEntries(
      out.map((x) => [x.memberId, AssignerProtocol.MemberAssignment.decode(x.memberAssignment)?.assignment]),
    );
    expect(decoded).to.deep.equal({ a: { [T]: [0, 1, 2], [L]: [0, 1, 2] }, b: { [T]: [3, 4, 5], [L]: [3, 4, 5] } });
    expect(lines).to.deep.equal([]);
  });

  it('the leader warns when the topics cannot be co-partitioned', async () => {
    const partitions = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0 }));
    const cluster = { findTopicPartitionMetadata: (t: string) => partitions(t === T ? 6 : 3) } as unknown as Cluster;
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(s) });
    const assigner = coPartitionedAssigner({ coPartitioned: SET, owned: () => ({}), logger })({
      cluster,
      groupId: 'g',
      logger: undefined as never,
    });
    const metadata = assigner.protocol({ topics: [T, L] }).metadata;
    await assigner.assign({ members: [{ memberId: 'a', memberMetadata: metadata }], topics: [T, L] });
    expect(lines.join('')).to.include('not co-partitioned').and.include('spans (6 partitions), logs (3 partitions)');
  });

  it('coLocationGaps names the partitions held without their partner', () => {
    expect(coLocationGaps({ [T]: [0, 2], [L]: [0, 1] }, [T, L])).to.deep.equal([`${T}[2]`, `${L}[1]`]);
    expect(coLocationGaps({ [T]: [0, 2], [L]: [2, 0] }, [T, L])).to.deep.equal([]);
    expect(coLocationGaps({}, [T, L])).to.deep.equal([]);
  });
});
