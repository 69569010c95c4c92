// The Kafka receiver's partition assigner (a kafkajs custom assigner, run by the group leader): partition N of
// every topic of a co-partitioned set (the traces topic(s) and logs_topic, written by the same partitioner
// with the same partition count) goes to the same member, so the sampler that decides a trace also reads its
// logs. The plan is a pure function of the members, their subscriptions, what each owned before (sent in its
// member metadata) and the partition counts: deterministic, balanced (member loads differ by at most one
// unit, a unit being partition N of the whole set), and sticky (an unchanged group gets the same assignment
// back; a member joining or leaving moves only the units that must move). Topics of a set whose partition
// counts differ cannot be co-partitioned: each is then assigned on its own and the leader says so (warning).
//
// Member metadata (kafkajs AssignerProtocol.MemberMetadata): version CO_PARTITIONED_VERSION, the subscribed
// topics, and user data = JSON {"v":1,"owned":{topic:[partition,...]}}. Metadata of another version, or user
// data that is not that JSON, counts as owning nothing (the member still gets its balanced share).

import { AssignerProtocol, type Assigner, type GroupMemberAssignment, type PartitionAssigner } from 'kafkajs';
import type { Logger } from 'pino';

/** CO_PARTITIONED_ASSIGNER is the assigner's (group protocol's) name. */
export const CO_PARTITIONED_ASSIGNER = 'TuskCoPartitioned';
/** CO_PARTITIONED_VERSION is the version of the assigner's member metadata and assignments. */
export const CO_PARTITIONED_VERSION = 1;

/** TopicAssignment maps topic -> partitions (kafkajs's Assignment). */
export type TopicAssignment = Record<string, number[]>;

/** MemberSubscription is what the leader knows of one member. */
export interface MemberSubscription {
  readonly memberId: string;
  /** Topics the member subscribed to; it is given partitions of these only. */
  readonly topics: readonly string[];
  /** Partitions the member owned before this rebalance (as it said in its metadata). */
  readonly owned: TopicAssignment;
}

/** AssignmentPlan is the leader's plan for one generation. */
export interface AssignmentPlan {
  /** Every member's assignment (possibly empty), by member id. */
  readonly assignment: Map<string, TopicAssignment>;
  /** Sets of topics that could not be co-partitioned (different partition counts), with their counts. */
  readonly notCoPartitioned: readonly string[];
}

interface Unit {
  readonly key: string;
  readonly topics: readonly string[];
  readonly partition: number;
}

/**
 * planAssignment assigns the partitions of `counts` (topic -> partition count, in subscription order) to
 * `members`; partition N of every topic of a set of `coPartitioned` with equal counts goes to one member.
 */
export function planAssignment(
  members: readonly MemberSubscription[],
  counts: ReadonlyMap<string, number>,
  coPartitioned: readonly (readonly string[])[],
): AssignmentPlan {
  const notCoPartitioned: string[] = [];
  const units = unitsOf(counts, coPartitioned, notCoPartitioned);
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const assignment = new Map<string, TopicAssignment>(sorted.map((m) => [m.memberId, {}]));
  if (sorted.length === 0) return { assignment, notCoPartitioned };
  const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]));
  const eligible = (m: MemberSubscription, u: Unit): boolean => {
    const topics = subscribed.get(m.memberId) as Set<string>;
    return u.topics.every((t) => topics.has(t));
  };

  // The previous owner of each unit: the member that owned its first topic's partition (the traces topic:
  // where the trace state is), else one of its other partitions; the first such member in id order.
  const previous = new Map<string, string>();
  for (const u of units)
    for (const t of u.topics) {
      const owner = sorted.find((m) => eligible(m, u) && (m.owned[t] ?? []).includes(u.partition));
      if (owner) {
        previous.set(u.key, owner.memberId);
        break;
      }
    }
  const claims = new Map<string, Unit[]>(sorted.map((m) => [m.memberId, []]));
  for (const u of units) {
    const owner = previous.get(u.key);
    if (owner !== undefined) (claims.get(owner) as Unit[]).push(u);
  }

  // Keep what each member owned, up to its share: `floor` units, or floor + 1 for the first `extra` members
  // (those that owned the most, then by id), so that an unchanged balanced group keeps everything.
  const floor = Math.floor(units.length / sorted.length);
  let extra = units.length % sorted.length;
  const load = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  const taken = new Set<string>();
  const give = (memberId: string, u: Unit): void => {
    taken.add(u.key);
    load.set(memberId, (load.get(memberId) as number) + 1);
    const a = assignment.get(memberId) as TopicAssignment;
    for (const t of u.topics) (a[t] ??= []).push(u.partition);
  };
  const byClaims = [...sorted].sort(
    (a, b) => (claims.get(b.memberId) as Unit[]).length - (claims.get(a.memberId) as Unit[]).length,
  ); // stable: ties stay in id order
  for (const m of byClaims) {
    const mine = claims.get(m.memberId) as Unit[];
    let share = floor;
    if (mine.length > floor && extra > 0) {
      share++;
      extra--;
    }
    for (const u of mine.slice(0, share)) give(m.memberId, u);
  }
  // The rest, in unit order, each to the eligible member with the fewest units (then by id).
  for (const u of units) {
    if (taken.has(u.key)) continue;
    let best: MemberSubscription | undefined;
    for (const m of sorted)
      if (
        eligible(m, u) &&
        (best === undefined || (load.get(m.memberId) as number) < (load.get(best.memberId) as number))
      )
        best = m;
    give((best ?? sorted[0]).memberId, u);
  }
  for (const a of assignment.values()) for (const t of Object.keys(a)) a[t].sort((x, y) => x - y);
  return { assignment, notCoPartitioned };
}

/** unitsOf lists the units to assign, in order: partition N of a co-partitioned set, or of a lone topic. */
function unitsOf(
  counts: ReadonlyMap<string, number>,
  coPartitioned: readonly (readonly string[])[],
  notCoPartitioned: string[],
): Unit[] {
  const setOf = new Map<string, readonly string[]>();
  for (const set of coPartitioned) {
    const present = set.filter((t) => (counts.get(t) ?? 0) > 0);
    if (present.length < 2) continue;
    const n = counts.get(present[0]) as number;
    if (present.some((t) => counts.get(t) !== n)) {
      notCoPartitioned.push(present.map((t) => `${t} (${counts.get(t)} partitions)`).join(', '));
      continue;
    }
    for (const t of present) if (!setOf.has(t)) setOf.set(t, present);
  }
  const units: Unit[] = [];
  const done = new Set<string>();
  for (const [topic, n] of counts) {
    if (done.has(topic) || n <= 0) continue;
    const topics = setOf.get(topic) ?? [topic];
    for (const t of topics) done.add(t);
    for (let p = 0; p < n; p++) units.push({ key: `${topics[0]}\u0000${p}`, topics, partition: p });
  }
  return units;
}

/** encodeMemberUserData is the assigner's user data in a member's metadata: what the member owns now. */
export function encodeMemberUserData(owned: TopicAssignment): Buffer {
  return Buffer.from(JSON.stringify({ v: CO_PARTITIONED_VERSION, owned }), 'utf8');
}

/**
 * decodeMember reads a member's metadata; metadata of another version or unreadable user data counts as
 * owning nothing (with the topics when they could be read).
 */
export function decodeMember(memberId: string, metadata: Buffer): MemberSubscription {
  let topics: string[] = [];
  try {
    const md = AssignerProtocol.MemberMetadata.decode(metadata);
    if (!md) return { memberId, topics, owned: {} };
    topics = md.topics;
    if (md.version !== CO_PARTITIONED_VERSION || md.userData.length === 0) return { memberId, topics, owned: {} };
    const data = JSON.parse(md.userData.toString('utf8')) as { v?: unknown; owned?: unknown };
    if (data.v !== CO_PARTITIONED_VERSION || typeof data.owned !== 'object' || data.owned === null)
      return { memberId, topics, owned: {} };
    const owned: TopicAssignment = {};
    for (const [t, ps] of Object.entries(data.owned as Record<string, unknown>))
      if (Array.isArray(ps)) owned[t] = ps.filter((p): p is number => Number.isInteger(p) && (p as number) >= 0);
    return { memberId, topics, owned };
  } catch {
    return { memberId, topics, owned: {} };
  }
}

/** CoPartitionedAssignerOptions configure coPartitionedAssigner. */
export interface CoPartitionedAssignerOptions {
  /** Sets of topics whose partition N goes to one member (e.g. the traces topic and logs_topic). */
  readonly coPartitioned: readonly (readonly string[])[];
  /** What this member owns now, sent in its metadata so that a rebalance moves as little as possible. */
  readonly owned: () => TopicAssignment;
  /** Where the leader says that a set could not be co-partitioned. */
  readonly logger: Logger;
}

/**
 * coPartitionedAssigner returns the kafkajs partition assigner (consumer option `partitionAssigners`, listed
 * before kafkajs's round robin so that a group with members without it still agrees on round robin).
 */
export function coPartitionedAssigner(opts: CoPartitionedAssignerOptions): PartitionAssigner {
  return ({ cluster, groupId }): Assigner => ({
    name: CO_PARTITIONED_ASSIGNER,
    version: CO_PARTITIONED_VERSION,
    async assign({ members, topics }): Promise<GroupMemberAssignment[]> {
      const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).length]));
      const subscriptions = members.map((m) => decodeMember(m.memberId, m.memberMetadata));
      const plan = planAssignment(subscriptions, counts, opts.coPartitioned);
      for (const set of plan.notCoPartitioned)
        opts.logger.warn(
          { group: groupId, topics: set },
          'Kafka topics not co-partitioned (different partition counts): assigned each on its own; ' +
            "a trace's logs may reach another sampler than its spans",
        );
      return [...plan.assignment].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: CO_PARTITIONED_VERSION,
          assignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      const userData = encodeMemberUserData(opts.owned());
      const metadata = AssignerProtocol.MemberMetadata.encode({ version: CO_PARTITIONED_VERSION, topics, userData });
      return { name: CO_PARTITIONED_ASSIGNER, metadata };
    },
  });
}

/**
 * coLocationGaps lists, for one member's assignment, the partitions of a co-partitioned set held without the
 * same-numbered partition of every other topic of the set (empty when co-located), as "topic[partition]".
 */
export function coLocationGaps(assignment: TopicAssignment, set: readonly string[]): string[] {
  const gaps: string[] = [];
  const held = set.map((t) => new Set(assignment[t] ?? []));
  for (let i = 0; i < set.length; i++)
    for (const p of held[i]) if (held.some((h) => !h.has(p))) gaps.push(`${set[i]}[${p}]`);
  return gaps;
}
