// Integration: the dead-letter path against REAL services. The otlp exporter sends a batch with one valid and
// one corrupt trace chunk to the real Jaeger (OTLP/HTTP); Jaeger answers 400 for the corrupt one, which is
// then written to a real Kafka topic (unique per run): key = trace id, value = the original bytes, `tusk.dlq.*`
// headers saying who rejected it and why. The valid trace reaches Jaeger. The same for log chunks, sent to a
// real OTLP server (tusk-collector's own otlp receiver on loopback): the refused chunk is dead-lettered with
// `tusk.dlq.signal: logs`. A dead letter Kafka does not take (its topic missing, create_topic false) makes the
// batch reject retriably: nothing is settled as handled.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { factory } from '../../exporters/otlp/factory';
import { PipelineError } from '../../pipeline/sdk/errors';
import type { ExportRejectedError } from '../../pipeline/sdk/exporterhelper/errors';
import {
  batchOf,
  chunkOf,
  metricValue,
  newTraceId,
  nowNanos,
  richTrace,
  settings,
} from '../pipeline/sdk/exporterhelper/fixtures';
import { ensureJaeger, fetchTrace, JAEGER_OTLP_HTTP } from './exporters-helpers';
import { logsRequest } from '../exporters/kafka/otlp-fixtures';
import { startReceiver } from '../receivers/otlp/helpers';

const BROKERS = ['127.0.0.1:9092'];

async function ensureKafka(): Promise<void> {
  const admin = new Kafka({
    clientId: 'it-dlq-probe',
    brokers: BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 1 },
  }).admin();
  try {
    await admin.connect();
    await admin.disconnect();
  } catch {
    await promisify(execFile)('bash', [path.resolve(__dirname, '../../scripts/stack/up.sh'), 'kafka'], {
      timeout: 20 * 60_000,
    });
  }
}

describe('integration: permanent rejection -> dead-letter topic on real Kafka', function () {
  this.timeout(90_000);
  before(async function () {
    this.timeout(20 * 60_000);
    await Promise.all([ensureJaeger(), ensureKafka()]);
  });

  it('dead-letters exactly the rejected trace, with its original bytes, and rejects permanently', async () => {
    const topic = `tusk-it-dlq-${Date.now()}-${process.pid}`;
    const s = settings('exporters.otlp_dlq');
    const exp = factory.create(
      s,
      factory.configSchema.parse({
        endpoint: JAEGER_OTLP_HTTP,
        max_request_bytes: 1,
        dead_letter: { topic, brokers: BROKERS.join(',') },
        retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' },
      }),
    );
    const good = newTraceId();
    const bad = newTraceId();
    const badBytes = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const err = (await exp
      .consumeTraces(
        batchOf(
          chunkOf(
            good,
            richTrace(good, [`dlq-a-${good.slice(0, 6)}`, `dlq-b-${good.slice(0, 6)}`], nowNanos(-1000)).rs,
          ),
          { traceId: bad, data: badBytes, spanCount: 4 },
        ),
      )
      .catch((e: unknown) => e)) as ExportRejectedError;
    await exp.shutdown();
    expect(err.retriable).to.equal(false);
    expect(err.code).to.equal('ERR_EXPORTER_REJECTED');
    expect(err.traceIds).to.deep.equal([bad]);
    expect(err.deadLettered).to.equal(true);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_dead_lettered_spans_total', { exporter: 'exporters.otlp_dlq' }),
    ).to.equal(4);
    expect(
      await metricValue(s.metrics, 'tusk_exporter_failed_spans_total', {
        exporter: 'exporters.otlp_dlq',
        kind: 'permanent',
      }),
    ).to.equal(4);
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.otlp_dlq' })).to.equal(
      3,
    );

    const got = await readTopic(topic);
    expect(got).to.have.length(1);
    expect(got[0].key).to.equal(bad);
    expect(got[0].value.equals(badBytes)).to.equal(true);
    expect(got[0].headers).to.include({
      'tusk.dlq.reason': 'permanent',
      'tusk.dlq.component': 'exporters.otlp_dlq',
      'tusk.dlq.signal': 'traces',
      'tusk.dlq.error.code': 'ERR_EXPORTER_HTTP_STATUS',
      'tusk.dlq.error.status': '400',
    });
    expect(Date.parse(got[0].headers['tusk.dlq.time'])).to.be.closeTo(Date.now(), 60_000);
    expect((await fetchTrace(good, 3))?.spans.length).to.equal(3);
  });

  it('dead-letters a refused log chunk, marked tusk.dlq.signal: logs; the good log chunk is delivered', async () => {
    const topic = `tusk-it-dlq-logs-${Date.now()}-${process.pid}`;
    const server = await startReceiver();
    try {
      const s = settings('exporters.otlp_dlq_logs');
      const exp = factory.create(
        s,
        factory.configSchema.parse({
          endpoint: server.httpBase,
          max_request_bytes: 1,
          dead_letter: { topic, brokers: BROKERS.join(',') },
          retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' },
        }),
      );
      const good = newTraceId();
      const bad = newTraceId();
      const badBytes = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const err = (await exp
        .consumeLogs?.({
          chunks: [
            { traceId: good, data: logsRequest([good], 2), recordCount: 2 },
            { traceId: bad, data: badBytes, recordCount: 5 },
          ],
        })
        .catch((e: unknown) => e)) as ExportRejectedError;
      await exp.shutdown();
      expect(err.retriable).to.equal(false);
      expect(err.traceIds).to.deep.equal([bad]);
      expect(err.deadLettered).to.equal(true);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_dead_lettered_log_records_total', {
          exporter: 'exporters.otlp_dlq_logs',
        }),
      ).to.equal(5);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_log_records_total', { exporter: 'exporters.otlp_dlq_logs' }),
      ).to.equal(2);
      expect(server.next.logBatches.flatMap((b) => b.chunks.map((c) => c.traceId))).to.deep.equal([good]);
      const got = await readTopic(topic);
      expect(got).to.have.length(1);
      expect(got[0].key).to.equal(bad);
      expect(got[0].value.equals(badBytes)).to.equal(true);
      expect(got[0].headers).to.include({
        'tusk.dlq.component': 'exporters.otlp_dlq_logs',
        'tusk.dlq.signal': 'logs',
        'tusk.dlq.error.status': '400',
      });
    } finally {
      await server.receiver.shutdown();
    }
  });

  it('a dead letter Kafka does not take rejects the batch retriably (not settled as handled)', async () => {
    const topic = `tusk-it-dlq-missing-${Date.now()}-${process.pid}`;
    const server = await startReceiver();
    try {
      const s = settings('exporters.otlp_dlq_missing');
      const exp = factory.create(
        s,
        factory.configSchema.parse({
          endpoint: server.httpBase,
          max_request_bytes: 1,
          dead_letter: { topic, brokers: BROKERS.join(','), create_topic: false },
          retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' },
        }),
      );
      const bad = newTraceId();
      const data = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
      const outcome = exp.consumeLogs?.({ chunks: [{ traceId: bad, data, recordCount: 5 }] });
      const err = (await outcome?.catch((e: unknown) => e)) as PipelineError;
      await exp.shutdown();
      expect(err).to.be.instanceOf(PipelineError);
      expect(err.code).to.equal('ERR_KAFKA_DEAD_LETTER');
      expect(err.retriable).to.equal(true);
      expect(err.message).to.include(`dead-letter topic ${topic} does not exist`);
      const exporter = 'exporters.otlp_dlq_missing';
      const deadLettered = await metricValue(s.metrics, 'tusk_exporter_dead_lettered_log_records_total', { exporter });
      expect(deadLettered ?? 0).to.equal(0);
      const labels = { component: exporter, result: 'failed' };
      const failed = await metricValue(s.metrics, 'tusk_dead_letter_messages_total', labels);
      expect(failed).to.equal(1);
    } finally {
      await server.receiver.shutdown();
    }
  });
});

/** readTopic reads a dead-letter topic from the beginning until its messages stop coming. */
async function readTopic(
  topic: string,
): Promise<Array<{ key: string; value: Buffer; headers: Record<string, string> }>> {
  const consumer = new Kafka({ clientId: 'it-dlq-reader', brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `${topic}-reader`,
  });
  const got: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: message.key!.toString(),
          value: message.value!,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    for (let i = 0; i < 150 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return got;
}
