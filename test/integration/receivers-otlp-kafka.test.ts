// Integration: the ingest tier against the REAL Kafka broker on 127.0.0.1:9092. Official OTel JS exporters
// (OTLP/HTTP protobuf and OTLP/gRPC) -> otlp receiver -> kafka exporter -> topic. Checks the settle chain
// (when the client hears "success", every chunk is already in Kafka) and the wire format (one message per
// trace, key = lowercase hex trace id, value = an ExportTraceServiceRequest holding only that trace).

import { expect } from 'chai';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Consumer } from 'kafkajs';
import { factory as kafkaExporterFactory } from '../../exporters/kafka/factory';
import type { Exporter } from '../../pipeline/sdk/component';
import { decodeTraces } from '../../pipeline/sdk/otlp';
import { factory as otlpReceiverFactory } from '../../receivers/otlp/factory';
import type { OtlpReceiver } from '../../receivers/otlp/receiver';
import { expectSameSpans } from '../pipeline/sdk/otlp/expect-spans';
import { makeFixture, type Fixture } from '../pipeline/sdk/otlp/fixtures';
import {
  BROKERS,
  TestHost,
  deleteTopics,
  endOffsets,
  rawKafka,
  requireKafka,
  settingsFor,
  uniqueName,
  waitFor,
} from './kafka-helpers';

function exportSpans(exporter: SpanExporter, fx: Fixture): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(fx.spans, resolve));
}

describe('integration: OTLP receiver -> Kafka exporter (real broker)', function () {
  this.timeout(90_000);
  const host = new TestHost();
  const topic = uniqueName('t-otlp-recv');
  const logsTopic = uniqueName('t-otlp-recv-logs');
  let exporter: Exporter;
  let receiver: OtlpReceiver;
  let fx: Fixture;
  let consumer: Consumer | undefined;

  before(async () => {
    await requireKafka();
    fx = await makeFixture({ seed: 101, traces: 20, resources: 2, maxSpansPerTrace: 6 });
    exporter = kafkaExporterFactory.create(
      settingsFor('exporters.kafka'),
      kafkaExporterFactory.configSchema.parse({ brokers: BROKERS, topic, logs_topic: logsTopic, partitions: 4 }),
    );
    await exporter.start(host);
    receiver = otlpReceiverFactory.create(
      settingsFor('receivers.otlp'),
      otlpReceiverFactory.configSchema.parse({ http: '127.0.0.1:0', grpc: '127.0.0.1:0' }),
      { traces: exporter },
    ) as OtlpReceiver;
    await receiver.start(host);
  });

  after(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await receiver?.shutdown();
    await exporter?.shutdown();
    await deleteTopics([topic, logsTopic]);
    expect(host.fatal, 'no fatal errors').to.deep.equal([]);
  });

  it('answers the client only once every chunk is in Kafka, one message per trace keyed by trace id', async () => {
    const traceIds = new Set(fx.spans.map((s) => s.spanContext().traceId));
    const admin = rawKafka().admin();
    await admin.connect();
    try {
      const clients: SpanExporter[] = [
        new ProtoExporter({ url: `http://${receiver.addresses().http}/v1/traces` }),
        new GrpcExporter({ url: `http://${receiver.addresses().grpc}` }),
      ];
      for (let i = 0; i < clients.length; i++) {
        const result = await exportSpans(clients[i], fx);
        await clients[i].shutdown();
        expect(result.code, String(result.error)).to.equal(ExportResultCode.SUCCESS);
        // Read the high watermarks right away: a success must mean "already acknowledged by Kafka".
        const total = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0);
        expect(total, `messages in ${topic} when export #${i + 1} reported success`).to.equal(traceIds.size * (i + 1));
      }
    } finally {
      await admin.disconnect();
    }

    const messages: { key: string; partition: number; value: Buffer }[] = [];
    consumer = rawKafka().consumer({ groupId: uniqueName('g-otlp-recv'), maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push({ key: message.key?.toString() ?? '', partition, value: message.value ?? Buffer.alloc(0) });
      },
    });
    await waitFor(`${traceIds.size * 2} messages from ${topic}`, () => messages.length >= traceIds.size * 2, 30_000);
    expect(messages.length).to.equal(traceIds.size * 2);

    const partitionOf = new Map<string, number>();
    for (const m of messages) {
      expect(m.key).to.match(/^[0-9a-f]{32}$/);
      expect(traceIds.has(m.key), `key ${m.key} is a trace we sent`).to.equal(true);
      const spans = decodeTraces(m.value).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
      expect(new Set(spans.map((s) => s.traceId))).to.deep.equal(new Set([m.key]));
      if (partitionOf.has(m.key))
        expect(m.partition, `trace ${m.key} stays on one partition`).to.equal(partitionOf.get(m.key));
      partitionOf.set(m.key, m.partition);
    }
    // Each send delivered every span exactly once: split the messages by arrival into the two sends.
    const byKey = new Map<string, Buffer[]>();
    for (const m of messages) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.value]);
    for (const send of [0, 1]) {
      const values = [...byKey.values()].map((v) => v[send]);
      expectSameSpans(
        values.flatMap((v) => decodeTraces(v)),
        fx.spans,
      );
    }
  });
});
