// Kafka helpers of the benchmark (kafkajs against the stack's broker): create a run's topic with a fixed
// partition count (so neither system's defaults decide it), count what arrived (sum of end offsets), pre-fill
// a topic with the workload for the sampling-only runs, and delete the run's topics and groups after it.

import { AssignerProtocol, Kafka, Partitioners, logLevel, type Admin } from 'kafkajs';
import { splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import { createTopicWithLeaders } from '../../test/helpers/kafka-topic';
import { materialize, type TemplatePool } from '../loadgen/templates';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const PARTITIONS = 4;

function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200 },
  });
}

/** BenchKafka keeps one admin connection for a whole benchmark session. */
export class BenchKafka {
  private readonly _admin: Admin = kafka('tusk-bench-admin').admin();

  async connect(): Promise<void> {
    await this._admin.connect();
  }

  async close(): Promise<void> {
    await this._admin.disconnect().catch(() => undefined);
  }

  async brokerVersion(): Promise<string> {
    const c = await this._admin.describeCluster();
    return `${c.brokers.length} broker(s), cluster ${c.clusterId}`;
  }

  async createTopic(topic: string, partitions = PARTITIONS): Promise<void> {
    await createTopicWithLeaders(this._admin, topic, partitions);
  }

  /** messages is the sum of the topic's end offsets: every message that arrived. */
  async messages(topic: string): Promise<number> {
    const offs = await this._admin.fetchTopicOffsets(topic);
    return offs.reduce((a, p) => a + Number(p.high), 0);
  }

  /** committed is the sum of a group's committed offsets on a topic (0 for partitions without a commit). */
  async committed(group: string, topic: string): Promise<number> {
    const res = await this._admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (res.find((t) => t.topic === topic)?.partitions ?? []).reduce(
      (a, p) => a + Math.max(0, Number(p.offset)),
      0,
    );
  }

  /**
   * groupAssignment describes a consumer group: its state (e.g. Stable) and how many partitions of `topic`
   * each member holds, largest first (members whose assignment cannot be read count 0).
   */
  async groupAssignment(group: string, topic: string): Promise<{ state: string; partitions: number[] }> {
    const { groups } = await this._admin.describeGroups([group]);
    const g = groups[0];
    const partitions = (g?.members ?? []).map((m) => {
      const a = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
      return a?.assignment[topic]?.length ?? 0;
    });
    return { state: g?.state ?? 'Unknown', partitions: partitions.sort((a, b) => b - a) };
  }

  async cleanup(topics: string[], groups: string[]): Promise<void> {
    if (groups.length > 0) await this._admin.deleteGroups(groups).catch(() => undefined);
    if (topics.length > 0) await this._admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
  }
}

/** PrefillResult says what the sampling-only run's topic holds. */
export interface PrefillResult {
  spans: number;
  traces: number;
  bytes: number;
  mustKeep: number;
  seconds: number;
}

/**
 * prefill writes `spans` spans of the workload (same seed as the load generator) into `topic`: one
 * message per trace, keyed by the hex trace id, value = the trace's ExportTraceServiceRequest: the
 * contract both systems read (architecture.md, contract 1). Default partitioner (murmur2), acks=all.
 */
export async function prefill(topic: string, pool: TemplatePool, seed: number, spans: number): Promise<PrefillResult> {
  const t0 = Date.now();
  const producer = kafka('tusk-bench-prefill').producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const out: PrefillResult = { spans: 0, traces: 0, bytes: 0, mustKeep: 0, seconds: 0 };
  try {
    let k = 0;
    let g = 0;
    const inflight: Promise<unknown>[] = [];
    while (out.spans < spans) {
      const messages: Array<{ key: string; value: Buffer }> = [];
      let batchBytes = 0;
      while (out.spans < spans && batchBytes < 1 << 20) {
        const req = materialize(pool, k++, g, seed);
        g += req.traces;
        out.mustKeep += req.mustKeep.length;
        const split = splitTracesByTraceId(req.body);
        for (const c of split.chunks) {
          const value = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
          messages.push({ key: c.traceId, value });
          batchBytes += value.length;
          out.bytes += value.length;
        }
        out.traces += split.chunks.length;
        out.spans += split.acceptedSpans;
      }
      inflight.push(producer.send({ topic, acks: -1, messages }));
      if (inflight.length >= 4) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  out.seconds = (Date.now() - t0) / 1000;
  return out;
}
