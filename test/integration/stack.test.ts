// Checks that the local stack started by scripts/stack/up.sh (Kafka, Redis, Jaeger v2 on 127.0.0.1)
// is there and behaves as the pipeline needs it: kafkajs round trip, Redis commands, Jaeger
// ingestion through thrift-over-HTTP (the exporter-jaeger path) and OTLP/HTTP, read back via the query API.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { expect } from 'chai';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JAEGER_QUERY, waitForTrace } from '../helpers/jaeger';

const REPO = path.resolve(__dirname, '..', '..');
const STACK = path.join(REPO, 'scripts', 'stack');
const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const JAEGER_ENDPOINT = process.env.JAEGER_ENDPOINT ?? 'http://127.0.0.1:14268/api/traces';
const JAEGER_OTLP_HTTP = process.env.JAEGER_OTLP_HTTP ?? 'http://127.0.0.1:14318';
const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

describe('local stack (scripts/stack)', function () {
  this.timeout(90_000);

  it('status.sh reports every service running (exit 0)', function () {
    const r = spawnSync('bash', [path.join(STACK, 'status.sh')], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    for (const svc of ['kafka', 'redis', 'jaeger']) expect(r.stdout).to.match(new RegExp(`^${svc}\\s+running`, 'm'));
  });

  describe('kafka', function () {
    it('passes the kafkajs smoke test (create topic, idempotent acks=-1 produce, group consume, commit)', function () {
      const r = spawnSync('node', [path.join(STACK, 'kafka-smoke.js')], {
        encoding: 'utf8',
        timeout: 70_000,
        env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(','), KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.include('PASS');
    });

    it('creates topics with num.partitions=4 by default (auto-create)', async function () {
      const kafka = new Kafka({ clientId: `stack-test-${RUN}`, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      const topic = `stack-test-auto-${RUN}`;
      await admin.connect();
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: 'x' }] });
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        expect(meta.topics[0].partitions).to.have.length(4);
      } finally {
        await producer.disconnect();
        await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
        await admin.disconnect();
      }
    });
  });

  describe('redis', function () {
    it('answers PING and keeps keys in memory', async function () {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        expect(await redis.ping()).to.equal('PONG');
        const key = `stack-test:${RUN}`;
        await redis.set(key, 'v', 'EX', 30);
        expect(await redis.get(key)).to.equal('v');
        await redis.del(key);
        // Throwaway server: no RDB snapshots, no AOF.
        expect(await redis.config('GET', 'save')).to.deep.equal(['save', '']);
        expect(await redis.config('GET', 'appendonly')).to.deep.equal(['appendonly', 'no']);
      } finally {
        redis.disconnect();
      }
    });
  });

  describe('jaeger', function () {
    it('serves GET /api/services', async function () {
      const res = await fetch(`${JAEGER_QUERY}/api/services`);
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { data: string[] | null };
      expect(body).to.have.property('data');
    });

    it('ingests a span sent by @opentelemetry/exporter-jaeger over thrift HTTP (14268)', async function () {
      const service = `stack-test-thrift-${RUN}`;
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor(new JaegerExporter({ endpoint: JAEGER_ENDPOINT }))],
      });
      const span = provider.getTracer('stack-test').startSpan('thrift-op', { attributes: { run: RUN } });
      const traceId = span.spanContext().traceId;
      span.end();
      await provider.forceFlush();
      await provider.shutdown();

      const trace = await waitForTrace(traceId, 1, 15_000);
      expect(trace, `trace ${traceId} not found in Jaeger`).to.not.equal(undefined);
      expect(trace!.spans[0].operationName).to.equal('thrift-op');
      expect(trace!.processes[trace!.spans[0].processID].serviceName).to.equal(service);
    });

    it('ingests OTLP/HTTP JSON on the moved receiver (14318)', async function () {
      const traceId = randomBytes(16).toString('hex');
      const spanId = randomBytes(8).toString('hex');
      const now = BigInt(Date.now()) * 1_000_000n;
      const body = {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: `stack-test-otlp-${RUN}` } }] },
            scopeSpans: [
              {
                scope: { name: 'stack-test' },
                spans: [
                  {
                    traceId,
                    spanId,
                    name: 'otlp-op',
                    kind: 2,
                    startTimeUnixNano: String(now - 5_000_000n),
                    endTimeUnixNano: String(now),
                  },
                ],
              },
            ],
          },
        ],
      };
      const res = await fetch(`${JAEGER_OTLP_HTTP}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).to.equal(200);
      const trace = await waitForTrace(traceId, 1, 15_000);
      expect(trace, `trace ${traceId} not found in Jaeger`).to.not.equal(undefined);
      expect(trace!.spans[0].spanID).to.equal(spanId);
      expect(trace!.spans[0].operationName).to.equal('otlp-op');
    });
  });
});
