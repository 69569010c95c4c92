// The dead-letter writer over a fake kafkajs client: the headers of the one scheme, keys and values as
// given, the managed producer's settings (acks=all, one attempt per kafkajs send, murmur2 on the trace-id
// key, no broker auto-creation), the topic made sure of through the topic helpers, the Kafka client
// settings it writes with (its own or the component's), and failures reported to the caller, counted and
// logged.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Kafka, KafkaConfig, ProducerBatch, ProducerConfig } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { PipelineError } from '../../../../pipeline/sdk/errors';
import {
  deadLetterClient,
  DeadLetterHeader,
  deadLetterSchema,
  DeadLetterWriter,
  type DeadLetterConfig,
} from '../../../../pipeline/sdk/kafka/dead-letter';
import { KafkaError } from '../../../../pipeline/sdk/kafka/errors';
import { partitionerFor, partitionOf } from '../../../../pipeline/sdk/kafka/partitioners';
import type { KafkaClientConfig } from '../../../../pipeline/sdk/kafka/client';
import { metricValue, newTraceId } from '../exporterhelper/fixtures';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0, 250);

/** FakeKafka records what the writer asks of kafkajs: producers, batches sent, topics created. */
class FakeKafka {
  readonly topics = new Map<string, number>();
  readonly producers: ProducerConfig[] = [];
  readonly batches: ProducerBatch[] = [];
  readonly created: { topic: string; numPartitions?: number; replicationFactor?: number }[] = [];
  sendError?: Error;
  adminError?: Error;

  producer(config: ProducerConfig) {
    this.producers.push(config);
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async (batch: ProducerBatch) => {
        if (this.sendError) throw this.sendError;
        this.batches.push(batch);
        return [];
      },
    };
  }

  admin() {
    return {
      connect: async () => {
        if (this.adminError) throw this.adminError;
      },
      disconnect: async () => undefined,
      listTopics: async () => [...this.topics.keys()],
      createTopics: async ({
        topics,
      }: {
        topics: { topic: string; numPartitions?: number; replicationFactor?: number }[];
      }) => {
        for (const t of topics) {
          this.created.push(t);
          this.topics.set(t.topic, t.numPartitions ?? 1);
        }
        return true;
      },
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
        topics: topics.map((name) => ({
          name,
          partitions: Array.from({ length: this.topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i })),
        })),
      }),
    };
  }
}

interface Made {
  readonly writer: DeadLetterWriter;
  readonly kafka: FakeKafka;
  readonly configs: KafkaConfig[];
  readonly metrics: Registry;
  readonly logs: { level: number; msg: string; topic?: string; err?: string }[];
}

function make(section: Record<string, unknown>, client?: KafkaClientConfig, kafka = new FakeKafka()): Made {
  const configs: KafkaConfig[] = [];
  const logs: Made['logs'] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const metrics = new Registry();
  const writer = new DeadLetterWriter({
    component: 'exporters.test',
    config: deadLetterSchema.parse(section),
    client,
    logger,
    metrics,
    now: () => NOW,
    newKafka: (c) => {
      configs.push(c);
      return kafka as unknown as Kafka;
    },
  });
  return { writer, kafka, configs, metrics, logs };
}

const BROKERS = { brokers: ['k1:9092'] };
const strings = (h: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(h as Record<string, string | Buffer>).map(([k, v]) => [k, String(v)]));

describe('pipeline/sdk/kafka dead-letter writer', () => {
  it('writes each value as given, keyed by trace id, with the headers of the one scheme', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS });
    const id = newTraceId();
    const value = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    await writer.write(
      [
        { key: id, value },
        { key: null, value: new Uint8Array([9]) },
      ],
      {
        reason: 'permanent',
        signal: 'logs',
        code: 'ERR_EXPORTER_HTTP_STATUS',
        message: `HTTP 400: ${'x'.repeat(2000)}`,
        status: 400,
      },
    );
    expect(kafka.batches).to.have.length(1);
    const batch = kafka.batches[0];
    expect(batch.acks).to.equal(-1, 'acks=all');
    expect(batch.topicMessages?.map((t) => t.topic)).to.deep.equal(['dlq']);
    const [m0, m1] = batch.topicMessages?.[0].messages ?? [];
    expect(m0.key).to.equal(id);
    expect(Buffer.compare(m0.value as Buffer, Buffer.from([2, 3]))).to.equal(0);
    expect(m1.key).to.equal(null);
    expect(strings(m0.headers)).to.deep.equal({
      [DeadLetterHeader.REASON]: 'permanent',
      [DeadLetterHeader.COMPONENT]: 'exporters.test',
      [DeadLetterHeader.SIGNAL]: 'logs',
      [DeadLetterHeader.ERROR_CODE]: 'ERR_EXPORTER_HTTP_STATUS',
      [DeadLetterHeader.ERROR_MESSAGE]: `HTTP 400: ${'x'.repeat(990)}`,
      [DeadLetterHeader.ERROR_STATUS]: '400',
      [DeadLetterHeader.TIME]: '2024-05-01T12:00:00.250Z',
    });
    expect(Object.keys(DeadLetterHeader).map((k) => DeadLetterHeader[k as keyof typeof DeadLetterHeader])).to.satisfy(
      (names: string[]) => names.every((n) => n.startsWith('tusk.dlq.')),
    );
  });

  it('adds the source topic, partition and offset of a consumed message; no code header without a code', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS });
    const key = Buffer.from('not-a-trace-id');
    await writer.write([{ key, value: Buffer.from([7]), source: { topic: 'otlp_spans', partition: 3, offset: 41 } }], {
      reason: 'poison',
      signal: 'traces',
      message: 'not OTLP',
    });
    const m = kafka.batches[0].topicMessages?.[0].messages[0];
    expect(m?.key).to.equal(key, 'the consumed key as it was');
    expect(strings(m?.headers)).to.deep.equal({
      [DeadLetterHeader.REASON]: 'poison',
      [DeadLetterHeader.COMPONENT]: 'exporters.test',
      [DeadLetterHeader.SIGNAL]: 'traces',
      [DeadLetterHeader.ERROR_MESSAGE]: 'not OTLP',
      [DeadLetterHeader.SOURCE_TOPIC]: 'otlp_spans',
      [DeadLetterHeader.SOURCE_PARTITION]: '3',
      [DeadLetterHeader.SOURCE_OFFSET]: '41',
      [DeadLetterHeader.TIME]: '2024-05-01T12:00:00.250Z',
    });
  });

  it('writes through the managed producer (one attempt per kafkajs send), murmur2 on the trace-id key, never auto-creating topics', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS });
    await writer.write([{ key: newTraceId(), value: Buffer.from([1]) }], {
      reason: 'permanent',
      signal: 'traces',
      message: 'm',
    });
    expect(kafka.producers).to.have.length(1);
    const p = kafka.producers[0];
    expect(p).to.include({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    expect(p.retry?.retries).to.equal(0);
    expect(p.createPartitioner).to.equal(partitionerFor('murmur2'));
    const partitioner = (p.createPartitioner as NonNullable<ProducerConfig['createPartitioner']>)();
    const partitionMetadata = Array.from({ length: 8 }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (const id of [newTraceId(), newTraceId(), newTraceId()]) {
      const got = partitioner({ topic: 'dlq', partitionMetadata, message: { key: Buffer.from(id), value: null } });
      expect(got).to.equal(partitionOf('murmur2', id, 8), `partition of ${id}`);
    }
  });

  it('creates its topic once with the configured partitions and replication factor', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS, partitions: 3, replication_factor: 2 });
    writer.start();
    const cause = { reason: 'permanent', signal: 'traces', message: 'm' } as const;
    await writer.write([{ key: null, value: Buffer.from([1]) }], cause);
    await writer.write([{ key: null, value: Buffer.from([2]) }], cause);
    expect(kafka.created).to.deep.equal([{ topic: 'dlq', numPartitions: 3, replicationFactor: 2 }]);
    expect(kafka.batches).to.have.length(2);
  });

  it('with create_topic false, a missing topic fails the write (naming it) until the topic exists', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS, create_topic: false });
    const cause = { reason: 'permanent', signal: 'traces', message: 'm' } as const;
    const err = await writer.write([{ key: null, value: Buffer.from([1]) }], cause).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KafkaError);
    expect((err as KafkaError).code).to.equal('ERR_KAFKA_DEAD_LETTER');
    expect((err as KafkaError).retriable).to.equal(true);
    expect((err as KafkaError).message).to.match(/dead-letter topic dlq does not exist \(create_topic is false\)/);
    expect(kafka.batches).to.have.length(0);
    expect(kafka.created).to.have.length(0);
    kafka.topics.set('dlq', 1);
    await writer.write([{ key: null, value: Buffer.from([1]) }], cause);
    expect(kafka.batches).to.have.length(1);
  });

  it('rejects retriably when Kafka does not acknowledge, counts and logs it; a later write succeeds', async () => {
    const { writer, kafka, metrics, logs } = make({ topic: 'dlq', ...BROKERS });
    const cause = { reason: 'permanent', signal: 'traces', message: 'm' } as const;
    const letters = [
      { key: newTraceId(), value: Buffer.from([1]) },
      { key: newTraceId(), value: Buffer.from([2]) },
    ];
    const broken = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSConnectionError' });
    kafka.sendError = broken;
    const err = (await writer.write(letters, cause).catch((e: unknown) => e)) as KafkaError;
    expect(err).to.be.instanceOf(KafkaError);
    expect(err).to.include({
      code: 'ERR_KAFKA_DEAD_LETTER',
      retriable: true,
      topic: 'dlq',
      component: 'exporters.test',
      kafkajsName: 'KafkaJSConnectionError',
    });
    expect(err.cause).to.equal(broken);
    expect(err.message).to.equal('exporters.test: writing 2 dead letter(s) to topic dlq failed: Connection timeout');
    expect(
      await metricValue(metrics, 'tusk_dead_letter_messages_total', { component: 'exporters.test', result: 'failed' }),
    ).to.equal(2);
    expect(
      await metricValue(metrics, 'tusk_dead_letter_messages_total', { component: 'exporters.test', result: 'written' }),
    ).to.equal(undefined);
    const line = logs.find((l) => l.msg.startsWith('dead-letter write failed'));
    expect(line, 'an error line').to.include({ level: 50, topic: 'dlq', err: 'Connection timeout' });

    kafka.sendError = undefined;
    await writer.write(letters, cause);
    expect(
      await metricValue(metrics, 'tusk_dead_letter_messages_total', { component: 'exporters.test', result: 'written' }),
    ).to.equal(2);
  });

  it('a failed topic check fails the write and is redone by the next one', async () => {
    const kafka = new FakeKafka();
    kafka.adminError = new Error('broker down');
    const { writer } = make({ topic: 'dlq', ...BROKERS }, undefined, kafka);
    const cause = { reason: 'permanent', signal: 'traces', message: 'm' } as const;
    const err = await writer.write([{ key: null, value: Buffer.from([1]) }], cause).catch((e: unknown) => e);
    expect((err as PipelineError).code).to.equal('ERR_KAFKA_DEAD_LETTER');
    kafka.adminError = undefined;
    await writer.write([{ key: null, value: Buffer.from([1]) }], cause);
    expect(kafka.created.map((c) => c.topic)).to.deep.equal(['dlq']);
  });

  it('writes with its own secured client settings when the section sets brokers', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-dlq-'));
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, 'CA PEM');
    const section = {
      topic: 'dlq',
      brokers: 'secure1:9093,secure2:9093',
      client_id: 'dlq-client',
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      tls: { ca_file: ca, server_name_override: 'kafka.internal' },
    };
    const own: KafkaClientConfig = { brokers: ['own:9092'], client_id: 'own', connect_timeout: 5000 };
    const { writer, configs } = make(section, own);
    writer.start();
    expect(configs).to.have.length(1);
    const c = configs[0];
    expect(c.brokers).to.deep.equal(['secure1:9093', 'secure2:9093']);
    expect(c.clientId).to.equal('dlq-client');
    expect(c.connectionTimeout).to.equal(3000, "the shared default, not the component's");
    expect(c.sasl).to.deep.equal({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.ssl).to.deep.include({ rejectUnauthorized: true, servername: 'kafka.internal' });
    expect(String((c.ssl as { ca: Buffer }).ca)).to.equal('CA PEM');
  });

  it("without brokers, writes with the component's own client settings; an exporter has none", () => {
    const own: KafkaClientConfig = {
      brokers: ['own:9093'],
      client_id: 'own',
      connect_timeout: 5000,
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      tls: {
        enabled: true,
        ca_file: '',
        cert_file: '',
        key_file: '',
        insecure_skip_verify: true,
        server_name_override: '',
      },
    };
    const { writer, configs } = make({ topic: 'dlq' }, own);
    writer.start();
    expect(configs[0]).to.deep.include({ brokers: ['own:9093'], clientId: 'own', connectionTimeout: 5000 });
    expect(configs[0].sasl).to.deep.equal({ mechanism: 'plain', username: 'u', password: 'p' });
    expect(configs[0].ssl).to.deep.equal({ rejectUnauthorized: false });
    expect(() => make({ topic: 'dlq' })).to.throw(PipelineError, /dead_letter needs brokers/);
  });

  it('close is idempotent and safe without start; writes after it reject retriably', async () => {
    const { writer, kafka } = make({ topic: 'dlq', ...BROKERS });
    await writer.close();
    await writer.close();
    const err = await writer
      .write([{ key: null, value: Buffer.from([1]) }], { reason: 'poison', signal: 'traces', message: 'm' })
      .catch((e: unknown) => e);
    expect(err).to.include({ code: 'ERR_KAFKA_DEAD_LETTER', retriable: true });
    expect(kafka.producers).to.have.length(0);
    await writer.write([], { reason: 'poison', signal: 'traces', message: 'm' }); // nothing to write: resolves
  });
});

describe('pipeline/sdk/kafka dead_letter section', () => {
  const issues = (input: unknown) =>
    (deadLetterSchema.safeParse(input).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

  it('defaults: create the topic with 8 partitions, replication factor 1; no client settings of its own', () => {
    const c: DeadLetterConfig = deadLetterSchema.parse({ topic: 'dlq' });
    expect(c).to.deep.equal({ topic: 'dlq', create_topic: true, partitions: 8, replication_factor: 1 });
    const own: KafkaClientConfig = { brokers: ['own:9092'], client_id: 'own', connect_timeout: 1 };
    expect(deadLetterClient(c, own)).to.equal(own);
    expect(deadLetterClient(c)).to.equal(undefined);
  });

  it('with brokers, the shared defaults fill the client keys it leaves out', () => {
    const c = deadLetterSchema.parse({ topic: 'dlq', brokers: 'a:1', connect_timeout: '10s' });
    expect(deadLetterClient(c, { brokers: ['own:9092'], client_id: 'own', connect_timeout: 1 })).to.deep.equal({
      brokers: ['a:1'],
      client_id: 'tusk-collector',
      connect_timeout: 10_000,
      sasl: undefined,
      tls: undefined,
    });
  });

  it('reports every bad key with its path', () => {
    expect(issues({})).to.have.length(1);
    expect(issues({ topic: 'bad topic' })[0]).to.match(/^topic: expected a Kafka topic name/);
    expect(
      issues({ topic: 'dlq', sasl: { mechanism: 'plain', username: 'u', password: 'p' }, client_id: 'x' }),
    ).to.deep.equal([
      "client_id: needs `brokers` in the same section (without it, the component's own Kafka settings apply)",
      "sasl: needs `brokers` in the same section (without it, the component's own Kafka settings apply)",
    ]);
    expect(issues({ topic: 'dlq', brokers: 'nope' })[0]).to.match(/^brokers\.0: expected "host:port"/);
    expect(issues({ topic: 'dlq', partitions: 0 })[0]).to.match(/^partitions: /);
    expect(issues({ topic: 'dlq', dead_letter_brokers: 'a:1' })[0]).to.match(/^: Unrecognized key/);
  });
});
