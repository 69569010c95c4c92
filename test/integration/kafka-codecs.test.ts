// Kafka compression codecs against the real broker (127.0.0.1:9092), unique topics per run:
// - our exporter writes snappy / lz4 / zstd record batches and our receiver reads them: every chunk once,
//   byte-identical, same spans;
// - interop: Kafka's own Java producer (kafka-clients of the stack's Kafka jars, test/integration/java/
//   CodecProducer.java in single-file source mode) writes OTLP chunks with each codec, our receiver reads them;
// - Kafka's ConsoleProducer tool (`--compression-codec`) writes text lines with each codec, and a kafkajs
//   consumer with our codecs registered reads them byte-exactly (the tool only sends text lines, so it cannot
//   carry OTLP protobuf, whose first byte is a newline);
// - the other way round: kafkajs with our codecs writes text lines, Kafka's ConsoleConsumer prints them.
// The Java parts need the stack's Kafka jars (~/.cache/tusk-collector/kafka-<version>-<pom hash>/libs, as
// scripts/stack/up.sh lays them out) and a JDK (single-file source mode compiles in memory).

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import type { Exporter, Receiver } from '../../pipeline/sdk/component';
import { registerKafkaCodecs } from '../../pipeline/sdk/kafka/codecs';
import { splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import type { TraceChunk } from '../../pipeline/sdk/trace-batch';
import { factory as exporterFactory } from '../../exporters/kafka/factory';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { decodeSpans, traceIdOf, traceRequest } from '../exporters/kafka/otlp-fixtures';
import {
  BROKERS,
  deleteCreatedGroups,
  deleteTopics,
  FakeDownstream,
  metricValue,
  rawKafka,
  receiverConfig,
  requireKafka,
  settingsFor,
  TestHost,
  uniqueGroup,
  uniqueName,
  waitFor,
} from './kafka-helpers';

const REPO = path.resolve(__dirname, '..', '..');
const PARTITIONS = 2;
const CODECS: [
  name: 'snappy' | 'lz4' | 'zstd',
  type: CompressionTypes.Snappy | CompressionTypes.LZ4 | CompressionTypes.ZSTD,
][] = [
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
];

/** kafkaLibs is the stack's Kafka jar folder, found the way scripts/stack/up.sh names it. */
function kafkaLibs(): string {
  const pom = fs.readFileSync(path.join(REPO, 'scripts', 'stack', 'kafka', 'pom.xml'));
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom.toString('utf8'))?.[1];
  const key = createHash('sha256').update(pom).digest('hex').slice(0, 12);
  const home = process.env.TUSK_STACK_HOME ?? path.join(os.homedir(), '.cache', 'tusk-collector');
  const dir = path.join(home, `kafka-${version}-${key}`, 'libs');
  if (!fs.existsSync(path.join(dir, '.complete')))
    throw new Error(`Kafka jars not found in ${dir}: run \`bash scripts/stack/up.sh kafka\` first`);
  return dir;
}

/** java runs the JVM with the Kafka jars on the class path, feeding `stdin`; rejects on a non-zero exit or after `timeoutMs`. */
function java(args: string[], stdin: Buffer, timeoutMs = 60_000): Promise<string> {
  const bin = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-Xmx256m', '-cp', `${kafkaLibs()}/*`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`java ${args[0]} did not finish within ${timeoutMs}ms; stderr: ${err.slice(-2000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`java ${args[0]} exited ${code}; stderr: ${err.slice(-2000)}`));
    });
    child.stdin.end(stdin);
  });
}

/** chunksFor makes `n` traces of 1..5 spans plus two ~40 KB traces (several xerial/LZ4 blocks per batch). */
function chunksFor(salt: number, n: number): TraceChunk[] {
  const chunks: TraceChunk[] = [];
  for (let i = 0; i < n; i++)
    chunks.push(
      ...splitTracesByTraceId(
        traceRequest({ traceIds: [traceIdOf(i, salt)], spansPerTrace: 1 + (i % 5), padBytes: 40 }),
      ).chunks,
    );
  for (let i = 0; i < 2; i++)
    chunks.push(
      ...splitTracesByTraceId(
        traceRequest({ traceIds: [traceIdOf(5000 + i, salt)], spansPerTrace: 300, padBytes: 100 }),
      ).chunks,
    );
  return chunks;
}

/** expectDelivered checks that every chunk arrived exactly once with the same bytes and spans. */
function expectDelivered(down: FakeDownstream, chunks: TraceChunk[], what: string): void {
  const got = new Map<string, TraceChunk[]>();
  for (const c of down.calls.flatMap((call) => call.batch.chunks))
    got.set(c.traceId, [...(got.get(c.traceId) ?? []), c]);
  for (const c of chunks) {
    const arrived = got.get(c.traceId) ?? [];
    expect(arrived, `${what}: trace ${c.traceId}`).to.have.length(1);
    expect(
      Buffer.compare(Buffer.from(arrived[0].data), Buffer.from(c.data)),
      `${what}: bytes of ${c.traceId}`,
    ).to.equal(0);
    expect(decodeSpans(arrived[0].data), `${what}: spans of ${c.traceId}`).to.deep.equal(decodeSpans(c.data));
    expect(arrived[0].spanCount).to.equal(c.spanCount);
  }
}

async function createTopics(topics: string[]): Promise<void> {
  const admin = rawKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

describe('kafka compression codecs against the real broker', function () {
  this.timeout(120_000);
  const topics: string[] = [];
  const components: { shutdown(): Promise<void> }[] = [];

  before(requireKafka);

  afterEach(async () => {
    for (const c of components.splice(0).reverse()) await c.shutdown();
    registerKafkaCodecs(); // undo any spy
  });

  after(async () => {
    await deleteCreatedGroups();
    await deleteTopics(topics);
  });

  for (const [name, type] of CODECS) {
    it(`exporter (compression: ${name}) -> broker -> receiver: every chunk once, byte-identical`, async () => {
      const topic = uniqueName(`t-codec-${name}`);
      topics.push(topic);
      const host = new TestHost();
      const exporter: Exporter = exporterFactory.create(
        settingsFor('exporters.kafka'),
        exporterFactory.configSchema.parse({ topic, compression: name, partitions: PARTITIONS, linger: '20ms' }),
      );
      components.push(exporter);
      await exporter.start(host);
      // Count the exporter's look-ups of this codec: kafkajs asks the table once per compressed record batch.
      const registered = CompressionCodecs[type];
      let lookups = 0;
      CompressionCodecs[type] = () => {
        lookups++;
        return registered();
      };

      const chunks = chunksFor(0x40 + type, 120);
      await Promise.all([0, 1, 2].map((k) => exporter.consumeTraces({ chunks: chunks.filter((_, i) => i % 3 === k) })));
      expect(lookups, `${name} record batches written`).to.be.greaterThan(0);

      const down = new FakeDownstream();
      const settings = settingsFor('receivers.kafka');
      const receiver: Receiver = receiverFactory.create(
        settings,
        receiverFactory.configSchema.parse(receiverConfig(topic, uniqueGroup(`g-codec-${name}`), PARTITIONS)),
        { traces: down },
      );
      components.push(receiver);
      await receiver.start(host);
      await waitFor(`${chunks.length} ${name} chunks delivered`, () => down.chunkCount() >= chunks.length, 30_000);
      await new Promise((r) => setTimeout(r, 200)); // would-be duplicates have time to show up
      expect(down.chunkCount()).to.equal(chunks.length);
      expectDelivered(down, chunks, name);
      expect(await metricValue(settings.metrics, 'tusk_kafka_skipped_messages_total')).to.equal(0);
      expect(host.fatal).to.deep.equal([]);
    });
  }

  it("Kafka's Java producer (snappy, lz4, zstd) -> our receiver: every chunk once, byte-identical", async () => {
    const byCodec = CODECS.map(([name, type]) => ({
      name,
      topic: uniqueName(`t-java-${name}`),
      chunks: chunksFor(0x50 + type, 60),
    }));
    topics.push(...byCodec.map((c) => c.topic));
    await createTopics(byCodec.map((c) => c.topic));
    const records: Buffer[] = [];
    for (const { topic, chunks } of byCodec) {
      for (const c of chunks) {
        const t = Buffer.from(topic, 'utf8');
        const head = Buffer.alloc(2);
        head.writeUInt16BE(t.length, 0);
        const key = Buffer.from(c.traceId, 'latin1');
        const lens = [Buffer.alloc(4), Buffer.alloc(4)];
        lens[0].writeInt32BE(key.length, 0);
        lens[1].writeInt32BE(c.data.length, 0);
        records.push(head, t, lens[0], key, lens[1], Buffer.from(c.data));
      }
    }
    const total = byCodec.reduce((n, c) => n + c.chunks.length, 0);
    const out = await java(
      [path.join(__dirname, 'java', 'CodecProducer.java'), BROKERS[0], ...byCodec.map((c) => `${c.topic}=${c.name}`)],
      Buffer.concat(records),
      90_000,
    );
    expect(out.trim()).to.equal(`sent ${total}`);

    const host = new TestHost();
    const down = new FakeDownstream();
    const settings = settingsFor('receivers.kafka');
    const receiver: Receiver = receiverFactory.create(
      settings,
      receiverFactory.configSchema.parse(
        receiverConfig(byCodec.map((c) => c.topic).join(','), uniqueGroup('g-java-codecs'), PARTITIONS, {
          create_topics: false,
        }),
      ),
      { traces: down },
    );
    components.push(receiver);
    await receiver.start(host);
    await waitFor(`${total} Java-written chunks delivered`, () => down.chunkCount() >= total, 30_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(down.chunkCount()).to.equal(total);
    for (const { name, topic, chunks } of byCodec) {
      expectDelivered(down, chunks, `java ${name}`);
      expect(await metricValue(settings.metrics, 'tusk_kafka_consumed_messages_total', { topic }), name).to.equal(
        chunks.length,
      );
    }
    expect(await metricValue(settings.metrics, 'tusk_kafka_skipped_messages_total')).to.equal(0);
    expect(host.fatal).to.deep.equal([]);
  });

  it("Kafka's ConsoleProducer --compression-codec snappy|lz4|zstd -> kafkajs with our codecs: lines byte-exact", async () => {
    registerKafkaCodecs();
    for (const [name] of CODECS) {
      const topic = uniqueName(`t-console-${name}`);
      topics.push(topic);
      await createTopics([topic]);
      const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${name} ünïcødé ✓ ${'payload '.repeat(i % 40)}`);
      await java(
        [
          'org.apache.kafka.tools.ConsoleProducer',
          '--bootstrap-server',
          BROKERS[0],
          '--topic',
          topic,
          '--compression-codec',
          name,
        ],
        Buffer.from(lines.join('\n') + '\n', 'utf8'),
      );

      const got: string[] = [];
      const consumer = rawKafka().consumer({ groupId: uniqueGroup(`g-console-${name}`), maxWaitTimeInMs: 100 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => void got.push(message.value?.toString('utf8') ?? ''),
        });
        await waitFor(`${lines.length} ${name} lines read`, () => got.length >= lines.length, 30_000);
      } finally {
        await consumer.disconnect();
      }
      expect([...got].sort(), name).to.deep.equal([...lines].sort());
    }
  });

  it("kafkajs with our codecs (snappy, lz4, zstd) -> Kafka's ConsoleConsumer: lines byte-exact", async () => {
    registerKafkaCodecs();
    const producer = rawKafka().producer();
    await producer.connect();
    try {
      for (const [name, type] of CODECS) {
        const topic = uniqueName(`t-to-java-${name}`);
        topics.push(topic);
        await createTopics([topic]);
        const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${name} ünïcødé ✓ ${'payload '.repeat(i % 40)}`);
        await producer.send({ topic, compression: type, messages: lines.map((value) => ({ value })) });
        const out = await java(
          [
            'org.apache.kafka.tools.consumer.ConsoleConsumer',
            '--bootstrap-server',
            BROKERS[0],
            '--topic',
            topic,
            '--from-beginning',
            '--max-messages',
            String(lines.length),
            '--timeout-ms',
            '30000',
          ],
          Buffer.alloc(0),
        );
        expect(
          out
            .split('\n')
            .filter((l) => l !== '')
            .sort(),
          name,
        ).to.deep.equal([...lines].sort());
      }
    } finally {
      await producer.disconnect();
    }
  });
});
