// Conformance of the otlp receiver with the OFFICIAL OpenTelemetry JS exporters as clients
// (exporter-trace-otlp-proto, -http (JSON) and -grpc, with and without gzip): SDK spans sent to the
// receiver on ephemeral loopback ports decode back from the received chunks to exactly the spans sent;
// the exporters see 400 as a permanent failure; 503 + Retry-After is retried; gRPC clients get UNAVAILABLE.

import { expect } from 'chai';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { BackpressureError, PermanentError } from '../../../pipeline/sdk/errors';
import { decodeTraces } from '../../../pipeline/sdk/otlp';
import { expectSameSpans } from '../../pipeline/sdk/otlp/expect-spans';
import { makeFixture, type Fixture } from '../../pipeline/sdk/otlp/fixtures';
import { startReceiver, type Started } from './helpers';

type Make = (s: Started) => SpanExporter;

const CLIENTS: [string, Make][] = [
  ['exporter-trace-otlp-proto', (s) => new ProtoExporter({ url: `${s.httpBase}/v1/traces` })],
  [
    'exporter-trace-otlp-proto (gzip)',
    (s) => new ProtoExporter({ url: `${s.httpBase}/v1/traces`, compression: CompressionAlgorithm.GZIP }),
  ],
  ['exporter-trace-otlp-http (JSON)', (s) => new JsonExporter({ url: `${s.httpBase}/v1/traces` })],
  [
    'exporter-trace-otlp-http (JSON, gzip)',
    (s) => new JsonExporter({ url: `${s.httpBase}/v1/traces`, compression: CompressionAlgorithm.GZIP }),
  ],
  ['exporter-trace-otlp-grpc', (s) => new GrpcExporter({ url: `http://${s.grpcTarget}` })],
  [
    'exporter-trace-otlp-grpc (gzip)',
    (s) => new GrpcExporter({ url: `http://${s.grpcTarget}`, compression: CompressionAlgorithm.GZIP }),
  ],
];

function exportSpans(exporter: SpanExporter, fx: Fixture): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(fx.spans, resolve));
}

describe('receivers/otlp conformance with the official OTel JS exporters', function () {
  this.timeout(30000);
  let fx: Fixture;
  let s: Started;

  before(async () => {
    fx = await makeFixture({ seed: 77, traces: 12, resources: 3, maxSpansPerTrace: 7 });
  });
  beforeEach(async () => {
    s = await startReceiver();
  });
  afterEach(async () => {
    await s.receiver.shutdown();
  });

  for (const [name, make] of CLIENTS) {
    it(`${name}: the received chunks decode to exactly the spans sent, one trace per chunk`, async () => {
      const exporter = make(s);
      try {
        const result = await exportSpans(exporter, fx);
        expect(result.code, String(result.error)).to.equal(ExportResultCode.SUCCESS);
      } finally {
        await exporter.shutdown();
      }
      expect(s.next.traceBatches).to.have.length(1);
      const chunks = s.next.traceBatches[0].chunks;
      for (const c of chunks) {
        const ids = new Set(
          decodeTraces(c.data).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((x) => x.traceId))),
        );
        expect([...ids]).to.deep.equal([c.traceId]);
      }
      expectSameSpans(
        chunks.flatMap((c) => decodeTraces(c.data)),
        fx.spans,
      );
    });
  }

  it('the exporters report a permanent downstream rejection (400 / INVALID_ARGUMENT) as a failure without retrying', async () => {
    s.next.behaviour = new PermanentError('ERR_TEST_REJECT', 'policy says no');
    for (const make of [CLIENTS[0][1], CLIENTS[2][1], CLIENTS[4][1]]) {
      const exporter = make(s);
      const before = s.next.traceBatches.length;
      const result = await exportSpans(exporter, fx);
      await exporter.shutdown();
      expect(result.code).to.equal(ExportResultCode.FAILED);
      expect(s.next.traceBatches.length - before, 'no retry after a permanent error').to.equal(1);
    }
  });

  it('exporter-trace-otlp-proto retries 503 + Retry-After and succeeds once downstream recovers', async () => {
    let calls = 0;
    s.next.behaviour = async () => {
      calls++;
      if (calls === 1) throw new BackpressureError('busy', 200);
    };
    const exporter = CLIENTS[0][1](s);
    const t0 = Date.now();
    const result = await exportSpans(exporter, fx);
    await exporter.shutdown();
    expect(result.code, String(result.error)).to.equal(ExportResultCode.SUCCESS);
    expect(calls).to.equal(2);
    expect(Date.now() - t0, 'the exporter honoured Retry-After: 1').to.be.at.least(900);
  });

  it('exporter-trace-otlp-grpc receives UNAVAILABLE (the retriable OTLP code) for backpressure', async () => {
    // The JS gRPC exporter (0.223) does not retry by itself; it must still see the retriable code.
    s.next.behaviour = new BackpressureError('busy', 200);
    const exporter = CLIENTS[4][1](s);
    const result = await exportSpans(exporter, fx);
    await exporter.shutdown();
    expect(result.code).to.equal(ExportResultCode.FAILED);
    expect((result.error as { code?: number }).code).to.equal(14);
  });
});
