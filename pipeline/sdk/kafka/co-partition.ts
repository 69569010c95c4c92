// Co-partitioning of a logs topic with its traces topic: the ingest tier writes a trace's log records to
// the logs topic partition with the same number as its spans' partition in the traces topic (same key, same
// partitioner, same partition count), and the sampling tier assigns partition N of both topics to one group
// member, so the sampler that decides a trace also reads its logs. This file holds the one rule both sides
// check: every topic of the set has the same partition count.

import type { Kafka } from 'kafkajs';

/** CoPartitionVerdict says whether a logs topic is co-partitioned with its traces topic(s). */
export interface CoPartitionVerdict {
  /** True when every topic has the same known partition count. */
  readonly ok: boolean;
  /** The common partition count when `ok`. */
  readonly partitions?: number;
  /** One line for humans: the counts, and what follows when they differ. */
  readonly detail: string;
}

/**
 * coPartitionVerdict compares the partition counts (`counts`, 0 or absent = unknown) of the traces topics
 * and the logs topic.
 */
export function coPartitionVerdict(
  counts: ReadonlyMap<string, number>,
  tracesTopics: readonly string[],
  logsTopic: string,
): CoPartitionVerdict {
  const topics = [...tracesTopics, logsTopic];
  const listed = topics.map((t) => `${t} has ${counts.get(t) || 'unknown'}`).join(', ');
  const known = topics.map((t) => counts.get(t) ?? 0);
  if (known.every((n) => n > 0 && n === known[0]))
    return { ok: true, partitions: known[0], detail: `co-partitioned: ${known[0]} partitions each` };
  return {
    ok: false,
    detail:
      `logs topic not co-partitioned with the traces topic (${listed} partitions): a trace's logs may reach ` +
      `another sampler than its spans and wait for decision_wait there; give both topics the same partition count`,
  };
}

/** topicPartitionCounts returns each topic's partition count (0 for a topic the cluster does not know). */
export async function topicPartitionCounts(kafka: Kafka, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    return new Map(topics.map((t) => [t, metadata.topics.find((m) => m.name === t)?.partitions.length ?? 0]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
