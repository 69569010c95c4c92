// Tests of the `kafka` exporter's config schema and factory: defaults, @env-style strings, cross-field
// rules, unknown keys, and the lifecycle rules every component follows.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { factory } from '../../../exporters/kafka/factory';
import { kafkaExporterConfigSchema } from '../../../exporters/kafka/config';
import { ConfigError, formatIssue } from '../../../config/service/config-error';
import { loadServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../../../pipeline/runtime/registry';

const settings = () => ({
  id: 'exporters.kafka',
  name: 'kafka',
  logger: pino({ level: 'silent' }),
  metrics: new Registry(),
});

describe('kafka exporter: config and factory', () => {
  it('has the documented defaults', () => {
    const c = factory.createDefaultConfig();
    expect(c).to.include({
      topic: 'otlp_spans',
      logs_topic: 'otlp_logs',
      client_id: 'tusk-collector',
      compression: 'none',
      partitioner: 'murmur2',
      linger: 5,
      batch_max_bytes: 1024 * 1024,
      max_message_bytes: 1024 * 1024,
      max_inflight_bytes: 64 * 1024 * 1024,
      produce_timeout: 10_000,
      create_topics: true,
      partitions: 8,
      replication_factor: 1,
      connect_timeout: 3000,
    });
    expect(c.brokers).to.deep.equal(['127.0.0.1:9092']);
    expect(c.sasl).to.equal(undefined);
    expect(c.tls).to.equal(undefined);
  });

  it('returns a new default object every call', () => {
    const a = factory.createDefaultConfig();
    a.brokers.push('x:1');
    expect(factory.createDefaultConfig().brokers).to.deep.equal(['127.0.0.1:9092']);
  });

  it('takes brokers as one comma-separated string (what @env gives) and units as strings', () => {
    const c = kafkaExporterConfigSchema.parse({
      brokers: 'a:9092, b:9092',
      linger: '20ms',
      max_inflight_bytes: '128MiB',
      produce_timeout: '2s',
      partitions: '16',
      compression: 'gzip',
      partitioner: 'fnv1a',
    });
    expect(c.brokers).to.deep.equal(['a:9092', 'b:9092']);
    expect(c).to.include({
      linger: 20,
      max_inflight_bytes: 128 * 1024 * 1024,
      produce_timeout: 2000,
      partitions: 16,
      compression: 'gzip',
      partitioner: 'fnv1a',
    });
  });

  it('accepts every Kafka compression codec', () => {
    for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      expect(kafkaExporterConfigSchema.parse({ compression }).compression).to.equal(compression);
    }
  });

  it('reports an unknown compression codec in a pipeline file with file:line:col', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-kafka-codec-'));
    try {
      const file = path.join(dir, 'codec.tsk');
      fs.writeFileSync(
        file,
        [
          '[receivers.otlp]',
          'http {',
          '    endpoint: "127.0.0.1:0"',
          '}',
          '[exporters.kafka]',
          'topic: "spans"',
          'compression: "brotli"',
          '[pipelines.traces]',
          'receivers: ["otlp"]',
          'exporters: ["kafka"]',
          '',
        ].join('\n'),
      );
      const err = await loadServiceConfig(file, { registry: builtinFactories(), env: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      const issues = [...(err as ConfigError).issues];
      expect(issues.map((i) => i.path)).to.deep.equal(['exporters.kafka.compression']);
      expect(issues[0].pos?.line).to.equal(7);
      expect(formatIssue(issues[0])).to.match(/codec\.tsk:7:\d+: exporters\.kafka\.compression: .*"none".*"zstd"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts SASL and TLS sections', () => {
    const c = kafkaExporterConfigSchema.parse({
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      tls: { insecure_skip_verify: true },
    });
    expect(c.sasl).to.deep.equal({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(c.tls).to.include({ enabled: true, insecure_skip_verify: true });
  });

  for (const [what, input, path] of [
    ['an unknown key', { topics: 'x' }, []],
    ['an unknown compression', { compression: 'brotli' }, ['compression']],
    ['an unknown partitioner', { partitioner: 'random' }, ['partitioner']],
    ['batch_max_bytes above max_message_bytes', { batch_max_bytes: '2MiB' }, ['batch_max_bytes']],
    ['max_inflight_bytes below max_message_bytes', { max_inflight_bytes: '512KiB' }, ['max_inflight_bytes']],
    ['a broker without a port', { brokers: ['localhost'] }, ['brokers', 0]],
    ['an invalid topic name', { topic: 'a topic' }, ['topic']],
    [
      'a SASL mechanism kafkajs lacks',
      { sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } },
      ['sasl', 'mechanism'],
    ],
    ['a TLS cert without its key', { tls: { cert_file: '/x.pem' } }, ['tls', 'cert_file']],
  ] as [string, unknown, (string | number)[]][]) {
    it(`rejects ${what}`, () => {
      const r = kafkaExporterConfigSchema.safeParse(input);
      expect(r.success).to.equal(false);
      expect(r.error?.issues.map((i) => i.path)).to.deep.include(path);
    });
  }

  it('can be shut down without start, twice', async () => {
    const exp = factory.create(settings(), factory.createDefaultConfig());
    await exp.shutdown();
    await exp.shutdown();
    expect(exp.health?.().ready).to.equal(false);
  });

  it('rejects data before start and after shutdown with a retriable ShutdownError', async () => {
    const exp = factory.create(settings(), factory.createDefaultConfig());
    const err = await exp.consumeTraces({ chunks: [] }).then(
      () => undefined,
      (e: { code?: string; retriable?: boolean }) => e,
    );
    expect(err?.code).to.equal('ERR_PIPELINE_SHUTDOWN');
    expect(err?.retriable).to.equal(true);
  });
});
