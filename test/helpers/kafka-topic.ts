// Kafka inspection for fault tests (kafkajs against the real broker): creating a topic with its leaders
// (tests and benchmarks), a topic's end offsets, a consumer
// group's committed offsets, reading a whole topic (each message decoded with full protobufjs decoding to
// list its span ids), a live "tap" that records where each trace's messages landed, and clean-up of the
// topics and groups a test created. Every wait is bounded.

import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { decodeTraces } from '../../pipeline/sdk/otlp';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 200 },
  });
}

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka('tusk-faults-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * createTopicWithLeaders creates a topic and waits until each of its partitions has a leader (15 s at most).
 * kafkajs' own wait gives up on UNKNOWN_TOPIC_OR_PARTITION when the broker's metadata is a moment behind the
 * creation (seen on a loaded machine): the topic exists then, so the wait goes on here.
 */
export async function createTopicWithLeaders(admin: Admin, topic: string, partitions: number): Promise<void> {
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    return;
  } catch (err) {
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    const led = await admin
      .fetchTopicMetadata({ topics: [topic] })
      .then((m) => m.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0)
      .catch(() => 0);
    if (led === partitions) return;
    if (Date.now() > deadline) throw new Error(`topic ${topic}: ${led}/${partitions} partitions have a leader`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** endOffsets returns partition -> high watermark (the offset the next message will get). */
export function endOffsets(topic: string): Promise<Map<number, number>> {
  return withAdmin(
    async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])),
  );
}

/** committedOffsets returns partition -> committed offset of `group` on `topic` (-1 when nothing committed). */
export function committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
  return withAdmin(async (admin) => {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map((res.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}

/** One message as the tests see it. */
export interface TopicMessage {
  partition: number;
  offset: number;
  key: string;
  spanIds: string[];
}

/** decodeSpanIds lists the span ids of an encoded ExportTraceServiceRequest. */
export function decodeSpanIds(value: Buffer): string[] {
  const ids: string[] = [];
  for (const rs of decodeTraces(value)) for (const ss of rs.scopeSpans) for (const s of ss.spans) ids.push(s.spanId);
  return ids;
}

/**
 * readTopic reads every message of `topic` from the beginning up to the end offsets it finds at call time,
 * with a throwaway consumer group. Rejects when it cannot reach the end within `timeoutMs`.
 */
export async function readTopic(topic: string, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const ends = await endOffsets(topic);
  const remaining = new Map([...ends].filter(([, high]) => high > 0));
  const out: TopicMessage[] = [];
  if (remaining.size === 0) return out;
  const group = `tusk-faults-reader-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const consumer = kafka('tusk-faults-reader').consumer({
    groupId: group,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
  });
  let finish!: () => void;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const high = remaining.get(batch.partition);
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (high === undefined || offset >= high) continue;
          out.push({
            partition: batch.partition,
            offset,
            key: m.key?.toString() ?? '',
            spanIds: m.value ? decodeSpanIds(m.value) : [],
          });
          if (offset === high - 1) remaining.delete(batch.partition);
        }
        if (remaining.size === 0) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([done.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout')
      throw new Error(
        `readTopic(${topic}): partitions ${[...remaining.keys()].join(',')} not read to their end within ${timeoutMs} ms`,
      );
    return out;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await deleteGroups([group]).catch(() => undefined);
  }
}

/** A live reader that records where every trace's messages landed (partition, offset) as they arrive. */
export interface TopicTap {
  /** trace id (message key) -> its messages' positions. */
  readonly positions: Map<string, Array<{ partition: number; offset: number }>>;
  stop(): Promise<void>;
}

/** tapTopic follows `topic` from the beginning with a throwaway group until stop(). */
export async function tapTopic(topic: string): Promise<TopicTap> {
  const group = `tusk-faults-tap-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const consumer: Consumer = kafka('tusk-faults-tap').consumer({
    groupId: group,
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
  });
  const positions = new Map<string, Array<{ partition: number; offset: number }>>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const key = message.key?.toString() ?? '';
      const list = positions.get(key) ?? [];
      list.push({ partition, offset: Number(message.offset) });
      positions.set(key, list);
    },
  });
  return {
    positions,
    async stop() {
      await consumer.disconnect().catch(() => undefined);
      await deleteGroups([group]).catch(() => undefined);
    },
  };
}

/** deleteTopics removes test topics (best effort, bounded). */
export async function deleteTopics(topics: string[]): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics, timeout: 10_000 })).catch(() => undefined);
}

/** deleteGroups removes test consumer groups (best effort; a group with live members is left alone). */
export async function deleteGroups(groups: string[]): Promise<void> {
  await withAdmin((admin) => admin.deleteGroups(groups)).catch(() => undefined);
}
