// Helpers of the Kafka integration tests: the real broker on 127.0.0.1:9092 (started by
// `bash scripts/stack/up.sh kafka`), unique topic/group names per run, the clients a suite shares
// (KafkaSuite), the receiver timings the tests run with, a fake downstream that records and settles (or
// holds) what the receiver delivers, bounded waits, and cleanup.

import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ComponentSettings, Host, TracesConsumer } from '../../pipeline/sdk/component';
import type { TraceBatch } from '../../pipeline/sdk/trace-batch';
import { traceRequest } from '../exporters/kafka/otlp-fixtures';
import { createTopicWithLeaders } from '../helpers/kafka-topic';

/** The broker every Kafka integration test uses. */
export const BROKERS = ['127.0.0.1:9092'];

let seq = 0;

/** uniqueName returns a topic/group name no other run or test uses (t-<pid>-<ms>-<n>). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${seq++}`;
}

const groups: string[] = [];

/** uniqueGroup is uniqueName for a consumer group, remembered so deleteCreatedGroups can remove it. */
export function uniqueGroup(prefix: string): string {
  const g = uniqueName(prefix);
  groups.push(g);
  return g;
}

/** deleteCreatedGroups removes the (empty) consumer groups made by uniqueGroup so far; best effort. */
export async function deleteCreatedGroups(): Promise<void> {
  const mine = groups.splice(0);
  if (mine.length === 0) return;
  const admin = rawKafka().admin();
  try {
    await admin.connect();
    await admin.deleteGroups(mine);
  } catch {
    // best effort: a group that still has members or never committed cannot or need not be deleted
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** settingsFor builds ComponentSettings with a quiet logger (LOG_LEVEL=debug to see kafkajs) and a fresh registry. */
export function settingsFor(id: string, registry = new Registry()): ComponentSettings {
  return {
    id,
    name: id.split('.').pop() as string,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    metrics: registry,
  };
}

/** TestHost collects fatal errors instead of exiting. */
export class TestHost implements Host {
  readonly fatal: Error[] = [];
  reportFatalError(err: Error): void {
    this.fatal.push(err);
  }
}

/** rawKafka is a plain kafkajs client for checks (admin, raw producers/consumers). */
export function rawKafka(): Kafka {
  return new Kafka({ clientId: 'tusk-test', brokers: BROKERS, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** waitFor polls `cond` every `everyMs` until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * requireKafka fails (never skips) when the broker is not reachable, saying how to start it.
 */
export async function requireKafka(): Promise<void> {
  const admin = new Kafka({
    clientId: 'tusk-test-probe',
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 2 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    throw new Error(
      `Kafka is not reachable on ${BROKERS.join(',')}: run \`bash scripts/stack/up.sh kafka\` first (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** committedOffsets reads the group's committed offset per partition of a topic (-1 = none). */
export async function committedOffsets(admin: Admin, group: string, topic: string): Promise<Map<number, number>> {
  const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const out = new Map<number, number>();
  for (const t of res) for (const p of t.partitions) out.set(p.partition, Number(p.offset));
  return out;
}

/** endOffsets reads each partition's high watermark. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const res = await admin.fetchTopicOffsets(topic);
  return new Map(res.map((p) => [p.partition, Number(p.high)]));
}

/** deleteTopics removes test topics, ignoring failures (cleanup is best effort). */
export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = rawKafka().admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
  } catch {
    // best effort
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * KafkaSuite is what a Kafka integration suite shares with the broker: an admin client and an idempotent
 * producer (one request in flight, so messages keep their order). Call connect() in `before` and close()
 * in `after`; close also deletes the consumer groups made by uniqueGroup and the topics made by newTopic.
 */
export class KafkaSuite {
  private _admin: Admin | undefined;
  private _producer: Producer | undefined;
  private readonly _topics: string[] = [];

  /** admin is the connected admin client. */
  get admin(): Admin {
    if (this._admin === undefined) throw new Error('KafkaSuite: call connect() first');
    return this._admin;
  }

  /** producer is the connected idempotent producer. */
  get producer(): Producer {
    if (this._producer === undefined) throw new Error('KafkaSuite: call connect() first');
    return this._producer;
  }

  /** connect fails (never skips) when the broker is not reachable (requireKafka), then connects both clients. */
  async connect(): Promise<void> {
    await requireKafka();
    const kafka = rawKafka();
    this._admin = kafka.admin();
    await this._admin.connect();
    this._producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this._producer.connect();
  }

  /** newTopic creates a topic with a unique name (uniqueName(prefix)) and waits for its leaders. */
  async newTopic(prefix: string, partitions = 1): Promise<string> {
    const topic = uniqueName(prefix);
    this._topics.push(topic);
    await createTopicWithLeaders(this.admin, topic, partitions);
    return topic;
  }

  /** ownTopic has close() delete a topic made another way (e.g. by the component under test). */
  ownTopic(topic: string): void {
    this._topics.push(topic);
  }

  /** sendTrace produces one message (acks: all) holding one trace, keyed by its trace id. */
  async sendTrace(topic: string, traceId: string, spec: { spansPerTrace: number; padBytes?: number }): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      messages: [{ key: traceId, value: Buffer.from(traceRequest({ traceIds: [traceId], ...spec })) }],
    });
  }

  /** close disconnects both clients, then deletes the suite's consumer groups and topics (best effort). */
  async close(): Promise<void> {
    await this._producer?.disconnect();
    await this._admin?.disconnect();
    await deleteCreatedGroups();
    if (this._topics.length > 0) await deleteTopics(this._topics);
  }
}

/**
 * receiverConfig is the raw config of a `kafka` receiver as the integration tests run it: commits every
 * 100ms, fetches wait at most 50ms, and a dead member's session expires after 6s; `extra` adds or overrides keys.
 */
export function receiverConfig(
  topic: string,
  group: string,
  partitions: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    topic,
    group,
    partitions,
    commit_interval: '100ms',
    session_timeout: '6s',
    fetch_max_wait: '50ms',
    ...extra,
  };
}

/** HeldCall is one consumeTraces call the fake downstream received. */
export interface HeldCall {
  readonly batch: TraceBatch;
  readonly at: number;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * FakeDownstream records every call; `policy` decides per call: settle at once ('ok'), hold it (the test
 * settles it later), or reject with an error. Default: settle at once.
 */
export class FakeDownstream implements TracesConsumer {
  readonly capabilities = { mutatesData: false };
  readonly calls: HeldCall[] = [];
  policy: (batch: TraceBatch, callIndex: number) => 'ok' | 'hold' | Error = () => 'ok';

  consumeTraces(batch: TraceBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const call: HeldCall = {
        batch,
        at: Date.now(),
        settled: false,
        resolve: () => {
          call.settled = true;
          resolve();
        },
        reject: (err) => {
          call.settled = true;
          reject(err);
        },
      };
      this.calls.push(call);
      const outcome = this.policy(batch, this.calls.length - 1);
      if (outcome === 'ok') call.resolve();
      else if (outcome instanceof Error) call.reject(outcome);
    });
  }

  /** traceIds lists every trace id delivered, in delivery order (duplicates kept). */
  traceIds(): string[] {
    return this.calls.flatMap((c) => c.batch.chunks.map((ch) => ch.traceId));
  }

  /** chunkCount is the number of chunks delivered so far. */
  chunkCount(): number {
    return this.calls.reduce((n, c) => n + c.batch.chunks.length, 0);
  }
}

/** metricValue reads one sample of a prom-client metric (0 when absent). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val));
  return v?.value ?? 0;
}
