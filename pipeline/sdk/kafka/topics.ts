// Topic creation: the Kafka receiver and exporter and the dead-letter writer create the topics they use when
// missing, with the configured partition count and replication factor, and tolerate topics that already
// exist (another instance, or an operator, created them first); or, told not to create them, check they exist.
// A topic co-partitioned with another (a logs topic with its traces topic) is created with the partition count
// of that other topic when it already exists, so that both keep the same count.

import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';

/** TopicSpec is a topic to make sure of. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /**
   * A topic this one is co-partitioned with: when this one is missing and that one exists, this one is created
   * with that one's partition count instead of `partitions`.
   */
  readonly partitionsLike?: string;
}

/** TopicState says what ensureTopics found or did for one topic. */
export interface TopicState {
  readonly topic: string;
  readonly created: boolean;
  /** The topic's partition count after the call. */
  readonly partitions: number;
  /** The topic's replication factor (fewest replicas of any partition; 0 when unknown). */
  readonly replicationFactor: number;
}

/**
 * ensureTopics creates the missing topics of `specs` and returns each topic's partition count. A topic that
 * already exists is left as it is (a warning is logged when it has a different partition count than
 * configured: the trace-id-to-partition mapping follows the real count; and when it has fewer replicas than
 * the configured replication factor). A missing topic whose `partitionsLike` topic exists is created with that
 * topic's partition count. Errors are thrown as kafkajs raised them (the caller retries).
 */
export async function ensureTopics(
  kafka: Kafka,
  logger: Logger,
  specs: readonly TopicSpec[],
  timeoutMs: number,
): Promise<TopicState[]> {
  const unique = [...new Map(specs.map((s) => [s.topic, s])).values()];
  if (unique.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = unique.filter((s) => !existing.has(s.topic));
    const likes = [...new Set(missing.map((s) => s.partitionsLike ?? ''))].filter((t) => existing.has(t));
    const likeCounts = new Map<string, number>();
    if (likes.length > 0) {
      const md = await admin.fetchTopicMetadata({ topics: likes });
      for (const t of md.topics) if (t.partitions.length > 0) likeCounts.set(t.name, t.partitions.length);
    }
    const countOf = (s: TopicSpec): number => likeCounts.get(s.partitionsLike ?? '') ?? s.partitions;
    if (missing.length > 0) {
      // createTopics returns false when every topic already existed (a concurrent creator won the race).
      await admin.createTopics({
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: countOf(s),
          replicationFactor: s.replicationFactor,
        })),
        waitForLeaders: true,
        timeout: timeoutMs,
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: unique.map((s) => s.topic) });
    const out: TopicState[] = [];
    for (const s of unique) {
      const md = metadata.topics.find((t) => t.name === s.topic);
      const partitions = md ? md.partitions.length : 0;
      // Replica lists may be absent from a partial metadata answer: they then count as unknown (0).
      const counts = (md?.partitions ?? []).map((p) => (p.replicas as number[] | undefined)?.length ?? 0);
      const rf = counts.length > 0 ? Math.min(...counts) : 0;
      const created = missing.includes(s);
      if (created) {
        const like = likeCounts.has(s.partitionsLike ?? '') ? { partitions_like: s.partitionsLike } : {};
        logger.info(
          { topic: s.topic, partitions, replication_factor: s.replicationFactor, ...like },
          'created Kafka topic',
        );
      } else if (partitions !== s.partitions) {
        logger.warn(
          { topic: s.topic, partitions, configured: s.partitions },
          'Kafka topic exists with a different partition count than configured; using it as it is',
        );
      }
      if (rf > 0 && rf < s.replicationFactor) {
        // An acknowledged write survives only as many broker losses as the topic has replicas minus one.
        logger.warn(
          { topic: s.topic, replication_factor: rf, configured: s.replicationFactor },
          'Kafka topic has fewer replicas than the configured replication_factor; using it as it is',
        );
      }
      out.push({ topic: s.topic, created, partitions, replicationFactor: rf });
    }
    return out;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * missingTopics returns the topics of `topics` the cluster does not have, for components told not to create
 * them (so that a missing topic is named at once rather than retried by every produce request). Errors are
 * thrown as kafkajs raised them.
 */
export async function missingTopics(kafka: Kafka, topics: readonly string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    return topics.filter((t) => !existing.has(t));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** partitionCount returns a topic's partition count (0 when the cluster does not know the topic). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
