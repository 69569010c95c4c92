// The Collector-named metrics move with traffic in the embedded default (config/embedded.tsk) against the
// real Jaeger: accepted spans per transport equal what was sent, sent spans to Jaeger equal the kept
// spans, and the tail_sampling counts by policy match the traces' shape.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { freePort } from '../helpers/ports';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { fetchMetrics, sumMetric, waitUntil, type MetricSample } from '../helpers/admin';
import { createProtoClient, sendTrace } from '../helpers/sdk-client';
import { encodeSpans, newSpanId, newTraceId, type SpanSpec } from '../processors/tail-sampling/helpers/fixtures';

const TS = 'otelcol_processor_tail_sampling_';

describe('integration: otelcol_* metrics of the embedded default', function () {
  this.timeout(90_000);
  let collector: CollectorProcess | undefined;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-otelcol-'));
  after(async () => {
    await collector?.stop('SIGTERM');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('counts accepted, sent and sampled-by-policy with the Collector names', async () => {
    const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    collector = await startCollector(path.join(REPO_ROOT, 'config', 'embedded.tsk'), [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      KEEP_PERCENT: '100',
      DECISION_WAIT: '1s',
      TUSK_STATE_DIR: stateDir,
    });

    // 20 traces of 3 spans over HTTP, every 4th with an error span.
    const service = `otelcol-${process.pid}-${Date.now()}`;
    const specs: SpanSpec[] = [];
    for (let i = 0; i < 20; i++) {
      const traceId = newTraceId();
      for (let s = 0; s < 3; s++) {
        const status = i % 4 === 0 && s === 2 ? 'ERROR' : 'OK';
        specs.push({ traceId, spanId: newSpanId(), service, startMs: Date.now(), durationMs: 5, status });
      }
    }
    const res = await fetch(`http://127.0.0.1:${http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeSpans(specs),
    });
    expect(res.status).to.equal(200);
    // One healthy trace of 2 spans over gRPC, from the real SDK.
    const overGrpc = createProtoClient(service, '', new GrpcExporter({ url: `http://127.0.0.1:${grpc}` }));
    sendTrace(overGrpc.tracer, { rootName: 'GET /items', durationMs: 5, children: 1 });
    await overGrpc.flush();
    await overGrpc.shutdown();

    const traces = 21;
    const spans = specs.length + 2;
    const settled = (x: MetricSample[]) =>
      sumMetric(x, `${TS}global_count_traces_sampled_total`) === traces &&
      sumMetric(x, 'otelcol_exporter_sent_spans_total', { exporter: 'jaeger' }) === spans;
    let last: MetricSample[] = [];
    await waitUntil(async () => settled((last = (await fetchMetrics(admin)) ?? [])), 30_000);
    const m = last;
    const otlp = (transport: string) => ({ receiver: 'otlp', transport });
    expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total', otlp('http'))).to.equal(specs.length);
    expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total', otlp('grpc'))).to.equal(2);
    expect(sumMetric(m, 'otelcol_receiver_refused_spans_total')).to.equal(0);
    expect(sumMetric(m, 'otelcol_exporter_sent_spans_total', { exporter: 'jaeger' })).to.equal(spans);
    expect(sumMetric(m, 'otelcol_exporter_sent_spans_total')).to.equal(sumMetric(m, 'tusk_exporter_sent_spans_total'));
    expect(sumMetric(m, 'otelcol_exporter_send_failed_spans_total')).to.equal(0);
    expect(sumMetric(m, 'otelcol_exporter_queue_capacity', { exporter: 'jaeger' })).to.be.greaterThan(0);
    expect(sumMetric(m, 'otelcol_exporter_queue_size', { exporter: 'jaeger' })).to.equal(0);

    // errors is the first policy: it decides every trace with an error span; the others go to slow or rest.
    const sampled = (policy: string) =>
      sumMetric(m, `${TS}count_traces_sampled_total`, { policy, sampled: 'true', decision: 'sampled' });
    expect(sampled('errors')).to.equal(5);
    expect(sampled('slow') + sampled('rest')).to.equal(traces - 5);
    expect(sumMetric(m, `${TS}count_traces_sampled_total`, { sampled: 'false' })).to.equal(0);
    expect(sumMetric(m, `${TS}global_count_traces_sampled_total`, { sampled: 'true' })).to.equal(traces);
    expect(sumMetric(m, `${TS}sampling_trace_dropped_too_early_total`)).to.equal(0);
    expect(m.some((s) => s.name === `${TS}sampling_traces_on_memory`)).to.equal(true);
  });
});
