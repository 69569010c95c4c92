// Exporter -> real Kafka -> receiver over the stack broker's secured listeners (scripts/stack/up.sh):
// SASL_SSL with PLAIN and with SCRAM-SHA-512 (broker trusted through `tls.ca_file`), and SSL with a client
// certificate (mTLS, `tls.cert_file` / `tls.key_file`). Every chunk arrives once, byte-identical. Negative
// cases: a wrong password shows up as a SASL authentication error in both components' health, an untrusted
// CA or a missing client certificate as a TLS error; nothing is produced and no component reports a fatal error.
// Dead letters travel the secured listeners too: an exporter's dead_letter section with SASL_SSL settings of
// its own, and a Kafka receiver's section without brokers, which writes with the receiver's mTLS settings.
//
// Endpoints, certificate paths and credentials come from <state>/kafka/secure/secure.json, written by up.sh at
// every Kafka start. <state> is KAFKA_SECURE_STATE, else TUSK_STACK_STATE, else <repo>/.stack. The suite
// SKIPS (saying why) when that file is missing or the secured ports do not answer, e.g. a shared broker
// started before the secured listeners existed; KAFKA_SECURE_REQUIRED=1 turns that skip into a failure (CI).

import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type KafkaConfig } from 'kafkajs';
import { z } from 'zod';
import type { Exporter, Receiver } from '../../pipeline/sdk/component';
import { PipelineError } from '../../pipeline/sdk/errors';
import { splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import type { TraceChunk } from '../../pipeline/sdk/trace-batch';
import { factory as exporterFactory } from '../../exporters/kafka/factory';
import { factory as otlpFactory } from '../../exporters/otlp/factory';
import { factory as receiverFactory } from '../../receivers/kafka/factory';
import { startReceiver as startOtlpReceiver } from '../receivers/otlp/helpers';
import { decodeSpans, traceIdOf, traceRequest } from '../exporters/kafka/otlp-fixtures';
import { REPO_ROOT } from '../helpers/collector-process';
import { FakeDownstream, metricValue, settingsFor, TestHost, uniqueName, waitFor } from './kafka-helpers';

const STATE = process.env.KAFKA_SECURE_STATE ?? process.env.TUSK_STACK_STATE ?? path.join(REPO_ROOT, '.stack');
const SECURE_JSON = path.join(STATE, 'kafka', 'secure', 'secure.json');
const REQUIRED = process.env.KAFKA_SECURE_REQUIRED === '1';

const credentials = z.object({ username: z.string().min(1), password: z.string().min(1) });
/** The shape of secure.json (scripts/stack/README.md, "Secured Kafka listeners"). */
const secureStackSchema = z.object({
  sasl_ssl_brokers: z.array(z.string()).min(1),
  ssl_brokers: z.array(z.string()).min(1),
  ca_file: z.string().min(1),
  client_cert_file: z.string().min(1),
  client_key_file: z.string().min(1),
  untrusted_ca_file: z.string().min(1),
  plain: credentials,
  scram_sha_512: credentials,
});
type SecureStack = z.infer<typeof secureStackSchema>;

/** loadSecureStack reads secure.json, or says why the secured listeners cannot be used. */
async function loadSecureStack(): Promise<SecureStack | string> {
  const restart =
    'restart the broker with the current scripts: `bash scripts/stack/down.sh kafka && bash scripts/stack/up.sh kafka`';
  if (!fs.existsSync(SECURE_JSON))
    return `${SECURE_JSON} does not exist: the broker of ${STATE} has no secured listeners yet; ${restart}`;
  const parsed = secureStackSchema.safeParse(JSON.parse(fs.readFileSync(SECURE_JSON, 'utf8')));
  if (!parsed.success) throw new Error(`${SECURE_JSON} is malformed: ${parsed.error.message}`);
  const s = parsed.data;
  for (const f of [s.ca_file, s.client_cert_file, s.client_key_file, s.untrusted_ca_file]) {
    if (!fs.existsSync(f)) throw new Error(`${SECURE_JSON} names ${f}, which does not exist`);
  }
  for (const broker of [...s.sasl_ssl_brokers, ...s.ssl_brokers]) {
    if (!(await tcpAnswers(broker)))
      return `secured listener ${broker} (from ${SECURE_JSON}) does not answer; ${restart}`;
  }
  return s;
}

function tcpAnswers(hostPort: string, timeoutMs = 1000): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const sock = net.connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The client part of a component config (pipeline/sdk/kafka/client.ts keys) for one way into the broker. */
type ClientConfig = Record<string, unknown> & { brokers: string[] };

function saslConfig(s: SecureStack, mechanism: 'plain' | 'scram-sha-512', password?: string): ClientConfig {
  const cred = mechanism === 'plain' ? s.plain : s.scram_sha_512;
  return {
    brokers: s.sasl_ssl_brokers,
    sasl: { mechanism, username: cred.username, password: password ?? cred.password },
    tls: { ca_file: s.ca_file },
  };
}

function mtlsConfig(s: SecureStack): ClientConfig {
  return {
    brokers: s.ssl_brokers,
    tls: { ca_file: s.ca_file, cert_file: s.client_cert_file, key_file: s.client_key_file },
  };
}

/** A plain kafkajs client over SASL_SSL PLAIN, independent of our client code: checks and clean-up. */
function checkKafka(s: SecureStack): Kafka {
  const cfg: KafkaConfig = {
    clientId: 'tusk-test-secure',
    brokers: s.sasl_ssl_brokers,
    ssl: { ca: fs.readFileSync(s.ca_file) },
    sasl: { mechanism: 'plain', username: s.plain.username, password: s.plain.password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  };
  return new Kafka(cfg);
}

/** DeadLetterRead is one message read back from a dead-letter topic. */
interface DeadLetterRead {
  readonly key: string | undefined;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/** readDeadLetters reads a topic from the beginning over the check client until `n` messages arrived. */
async function readDeadLetters(s: SecureStack, topic: string, group: string, n: number): Promise<DeadLetterRead[]> {
  const consumer = checkKafka(s).consumer({ groupId: group, maxWaitTimeInMs: 100 });
  const got: DeadLetterRead[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        got.push({ key: message.key?.toString(), value: message.value ?? Buffer.alloc(0), headers });
      },
    });
    await waitFor(`${n} dead letter(s) on ${topic}`, () => got.length >= n, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('kafka over the secured listeners: SASL_SSL (PLAIN, SCRAM-SHA-512) and mTLS', function () {
  this.timeout(120_000);
  let stack: SecureStack;
  let admin: Admin | undefined;
  const topics: string[] = [];
  const groups: string[] = [];
  const components: { shutdown(): Promise<void> }[] = [];

  before(async function () {
    const loaded = await loadSecureStack();
    if (typeof loaded === 'string') {
      if (REQUIRED) throw new Error(`KAFKA_SECURE_REQUIRED=1 but ${loaded}`);
      console.log(`      [kafka-secure] SKIPPED: ${loaded}`);
      this.skip();
    }
    stack = loaded;
    admin = checkKafka(stack).admin();
    await admin.connect();
  });

  afterEach(async () => {
    for (const c of components.splice(0).reverse()) await c.shutdown();
  });

  after(async () => {
    if (!admin) return;
    try {
      await admin.deleteGroups(groups).catch(() => undefined);
      const existing = new Set(await admin.listTopics());
      const mine = topics.filter((t) => existing.has(t));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  });

  const cases: [string, (s: SecureStack) => ClientConfig][] = [
    ['SASL_SSL PLAIN, broker trusted via ca_file', (s) => saslConfig(s, 'plain')],
    ['SASL_SSL SCRAM-SHA-512', (s) => saslConfig(s, 'scram-sha-512')],
    ['mTLS (SSL listener, cert_file/key_file)', (s) => mtlsConfig(s)],
  ];
  for (const [name, client] of cases) {
    it(`round trip over ${name}: every chunk once, byte-identical`, async () => {
      const cfg = client(stack);
      const topic = uniqueName('t-secure');
      const group = uniqueName('g-secure');
      topics.push(topic);
      groups.push(group);
      const host = new TestHost();
      const exporterSettings = settingsFor('exporters.kafka');
      const exporter: Exporter = exporterFactory.create(
        exporterSettings,
        exporterFactory.configSchema.parse({
          ...cfg,
          topic,
          partitions: 2,
          max_message_bytes: '64KiB',
          batch_max_bytes: '64KiB',
          linger: '5ms',
        }),
      );
      components.push(exporter);
      await exporter.start(host);

      // 60 small traces and one of ~200 KB split into several messages (several TLS records per request).
      const chunks: TraceChunk[] = [];
      for (let i = 0; i < 60; i++)
        chunks.push(
          ...splitTracesByTraceId(
            traceRequest({ traceIds: [traceIdOf(i, 0x5e)], spansPerTrace: 1 + (i % 5), padBytes: 20 }),
          ).chunks,
        );
      const bigId = traceIdOf(7777, 0x5e);
      const big = splitTracesByTraceId(traceRequest({ traceIds: [bigId], spansPerTrace: 1500, padBytes: 100 }))
        .chunks[0];
      expect(big.data.length).to.be.greaterThan(2 * 64 * 1024);
      await Promise.all([
        exporter.consumeTraces({ chunks: chunks.slice(0, 30) }),
        exporter.consumeTraces({ chunks: chunks.slice(30) }),
        exporter.consumeTraces({ chunks: [big] }),
      ]);
      const produced = await metricValue(exporterSettings.metrics, 'tusk_kafka_produced_messages_total', { topic });
      const bigParts = produced - 60;
      expect(bigParts).to.be.at.least(3);
      expect(exporter.health?.().ready).to.equal(true);

      // The broker holds exactly what the exporter says it produced (checked over a separate client).
      const ends = await (admin as Admin).fetchTopicOffsets(topic);
      expect(ends.reduce((n, p) => n + Number(p.high), 0)).to.equal(produced);

      const down = new FakeDownstream();
      const receiver: Receiver = receiverFactory.create(
        settingsFor('receivers.kafka'),
        receiverFactory.configSchema.parse({
          ...cfg,
          topic,
          group,
          partitions: 2,
          commit_interval: '100ms',
          session_timeout: '6s',
          fetch_max_wait: '50ms',
        }),
        { traces: down },
      );
      components.push(receiver);
      await receiver.start(host);
      await waitFor('all messages delivered', () => down.chunkCount() >= produced, 30_000);
      await new Promise((r) => setTimeout(r, 300)); // would-be duplicates have time to show up
      expect(receiver.health?.().ready).to.equal(true);
      expect(down.chunkCount()).to.equal(produced);

      const got = new Map<string, TraceChunk[]>();
      for (const c of down.calls.flatMap((call) => call.batch.chunks))
        got.set(c.traceId, [...(got.get(c.traceId) ?? []), c]);
      expect(got.size).to.equal(61);
      for (const c of chunks) {
        const arrived = got.get(c.traceId) ?? [];
        expect(arrived).to.have.length(1, `trace ${c.traceId}`);
        expect(Buffer.compare(Buffer.from(arrived[0].data), Buffer.from(c.data))).to.equal(
          0,
          `bytes of trace ${c.traceId}`,
        );
      }
      expect((got.get(bigId) ?? []).flatMap((p) => decodeSpans(p.data))).to.deep.equal(decodeSpans(big.data));
      expect(host.fatal).to.deep.equal([]);
    });
  }

  /**
   * expectRefused starts an exporter and a receiver with a client config the broker must refuse, and checks
   * that a send is rejected (never a false success), that both components stay not ready with `detail`
   * naming the cause, that neither reports a fatal error (they keep retrying: fixing the secret or the CA
   * file and reloading is enough), and that the exporter's topic was never created.
   */
  async function expectRefused(cfg: ClientConfig, cause: RegExp): Promise<void> {
    const topic = uniqueName('t-secure-refused');
    const group = uniqueName('g-secure-refused');
    topics.push(topic);
    const host = new TestHost();
    const exporter: Exporter = exporterFactory.create(
      settingsFor('exporters.kafka'),
      exporterFactory.configSchema.parse({ ...cfg, topic, partitions: 1, produce_timeout: '2s' }),
    );
    components.push(exporter);
    await exporter.start(host);
    const receiver: Receiver = receiverFactory.create(
      settingsFor('receivers.kafka'),
      receiverFactory.configSchema.parse({ ...cfg, topic, group, partitions: 1 }),
      { traces: new FakeDownstream() },
    );
    components.push(receiver);
    await receiver.start(host);

    const chunk = splitTracesByTraceId(traceRequest({ traceIds: [traceIdOf(1, 0xbd)], spansPerTrace: 1 })).chunks[0];
    const outcome = await exporter.consumeTraces({ chunks: [chunk] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(outcome, 'consumeTraces must be rejected').to.be.instanceOf(PipelineError);
    expect((outcome as PipelineError).retriable).to.equal(true);

    // kafkajs retries connection errors a few times before the component sees them: bounded waits.
    await waitFor(`exporter health names ${cause}`, () => cause.test(exporter.health?.().detail ?? ''), 30_000, 100);
    await waitFor(`receiver health names ${cause}`, () => cause.test(receiver.health?.().detail ?? ''), 30_000, 100);
    // Once the cause is known, a refused export says it too (what a receiver's client and the logs get).
    const again = await exporter.consumeTraces({ chunks: [chunk] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(again, 'second consumeTraces must be rejected').to.be.instanceOf(PipelineError);
    expect((again as PipelineError).message, 'the rejection names the cause').to.match(cause);
    expect(exporter.health?.().ready).to.equal(false);
    expect(receiver.health?.().ready).to.equal(false);
    expect(host.fatal).to.deep.equal([]);
    expect(await (admin as Admin).listTopics()).to.not.include(topic);
  }

  it('wrong PLAIN password: both components report the SASL authentication failure', async () => {
    await expectRefused(
      saslConfig(stack, 'plain', 'not-the-password'),
      /SASL PLAIN authentication failed: .*Invalid username or password/,
    );
  });

  it('wrong SCRAM-SHA-512 password: both components report the SASL authentication failure', async () => {
    await expectRefused(
      saslConfig(stack, 'scram-sha-512', 'not-the-password'),
      /SASL SCRAM SHA512 authentication failed: .*invalid credentials/,
    );
  });

  it('broker certificate from an untrusted CA: both components report the TLS verification error', async () => {
    await expectRefused(
      { ...saslConfig(stack, 'plain'), tls: { ca_file: stack.untrusted_ca_file } },
      /Connection error: (self[- ]signed certificate in certificate chain|unable to get local issuer certificate)/,
    );
  });

  it('mTLS listener without a client certificate: both components report the TLS alert', async () => {
    await expectRefused(
      { brokers: stack.ssl_brokers, tls: { ca_file: stack.ca_file } },
      /Connection error: .*(alert bad certificate|certificate required|alert number (42|116))/i,
    );
  });
  it('an exporter writes its dead letters with the SASL_SSL settings of its dead_letter section', async () => {
    const dlq = uniqueName('t-secure-dlq');
    const readers = uniqueName('g-secure-dlq');
    topics.push(dlq);
    groups.push(readers);
    const backend = await startOtlpReceiver();
    components.push(backend.receiver);
    const s = settingsFor('exporters.otlp');
    const exporter: Exporter = otlpFactory.create(
      s,
      otlpFactory.configSchema.parse({
        endpoint: backend.httpBase,
        max_request_bytes: 1,
        retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' },
        dead_letter: { topic: dlq, partitions: 2, ...saslConfig(stack, 'scram-sha-512') },
      }),
    );
    components.push(exporter);
    await exporter.start(new TestHost());
    const bad = traceIdOf(1, 0xd1);
    const badBytes = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]); // the OTLP receiver answers 400
    const chunk = { traceId: bad, data: badBytes, spanCount: 2 };
    const err = await exporter.consumeTraces({ chunks: [chunk] }).catch((e: unknown) => e);
    expect(err).to.include({ code: 'ERR_EXPORTER_REJECTED', deadLettered: true });
    const labels = { component: 'exporters.otlp', result: 'written' };
    const written = await metricValue(s.metrics, 'tusk_dead_letter_messages_total', labels);
    expect(written).to.equal(1);
    const got = await readDeadLetters(stack, dlq, readers, 1);
    expect(got).to.have.length(1);
    expect(got[0].key).to.equal(bad);
    expect(got[0].value.equals(badBytes)).to.equal(true);
    expect(got[0].headers).to.include({
      'tusk.dlq.reason': 'permanent',
      'tusk.dlq.component': 'exporters.otlp',
      'tusk.dlq.error.status': '400',
    });
    expect((await (admin as Admin).fetchTopicMetadata({ topics: [dlq] })).topics[0].partitions).to.have.length(2);
  });

  it('a Kafka receiver dead-letters a poison message with its own mTLS settings (no dead_letter brokers)', async () => {
    const cfg = mtlsConfig(stack);
    const topic = uniqueName('t-secure-poison');
    const dlq = uniqueName('t-secure-poison-dlq');
    const group = uniqueName('g-secure-poison');
    const readers = uniqueName('g-secure-poison-dlq');
    topics.push(topic, dlq);
    groups.push(group, readers);
    await (admin as Admin).createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = checkKafka(stack).producer();
    await producer.connect();
    const poison = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    try {
      await producer.send({ topic, acks: -1, messages: [{ key: null, value: poison }] });
    } finally {
      await producer.disconnect();
    }
    const s = settingsFor('receivers.kafka');
    const receiver: Receiver = receiverFactory.create(
      s,
      receiverFactory.configSchema.parse({
        ...cfg,
        topic,
        group,
        partitions: 1,
        session_timeout: '6s',
        fetch_max_wait: '50ms',
        dead_letter: { topic: dlq },
      }),
      { traces: new FakeDownstream() },
    );
    components.push(receiver);
    await receiver.start(new TestHost());
    const deadLettered = async () => (await metricValue(s.metrics, 'tusk_kafka_dead_lettered_messages_total')) === 1;
    await waitFor('poison message dead-lettered', deadLettered, 30_000, 100);
    const got = await readDeadLetters(stack, dlq, readers, 1);
    expect(got[0].value.equals(poison)).to.equal(true);
    expect(got[0].headers).to.include({
      'tusk.dlq.reason': 'poison',
      'tusk.dlq.component': 'receivers.kafka',
      'tusk.dlq.source.topic': topic,
      'tusk.dlq.source.offset': '0',
    });
  });
});
