// spanmetrics: requests (SERVER and CONSUMER spans) are counted by service/operation/kind/status before
// sampling in the http_* shapes, every span in the Collector connector's traces_span_metrics_* names,
// cardinality is capped, and batches pass through untouched.

import { expect } from 'chai';
import { factory } from '../../../processors/spanmetrics/factory';
import { OVERFLOW_OPERATION } from '../../../processors/spanmetrics/processor';
import type { ProcessorNext } from '../../../pipeline/sdk/component';
import type { TraceBatch } from '../../../pipeline/sdk/trace-batch';
import { encodeTraces } from '../../../pipeline/sdk/otlp';
import { chunkOf, metricValue, newSpanId, newTraceId, settings } from '../tail-sampling/helpers/fixtures';

function recordingNext(): ProcessorNext & { batches: TraceBatch[] } {
  const batches: TraceBatch[] = [];
  return {
    batches,
    capabilities: { mutatesData: false },
    consumeTraces: async (b) => {
      batches.push(b);
    },
  };
}

describe('processors/spanmetrics', () => {
  it('counts requests, errors and durations per service/operation/status and forwards the same batch', async () => {
    const s = settings('spanmetrics');
    const next = recordingNext();
    const p = factory.create(s, factory.createDefaultConfig(), next);
    const traceId = newTraceId();
    const root = newSpanId();
    const chunk = chunkOf([
      { traceId, spanId: root, name: 'GET /a', service: 'shop', durationMs: 120 },
      { traceId, parentSpanId: root, name: 'db', service: 'shop', durationMs: 30, status: 'ERROR' },
      { traceId, parentSpanId: root, name: 'db', service: 'shop', durationMs: 20 },
    ]);
    const batch = { chunks: [chunk] };
    await p.consumeTraces(batch);
    expect(next.batches).to.have.length(1);
    expect(next.batches[0]).to.equal(batch);
    expect(await metricValue(s.metrics, 'http_requests_total', { service: 'shop', operation: 'db' })).to.equal(2);
    expect(await metricValue(s.metrics, 'http_requests_total', { service: 'shop', operation: 'GET /a' })).to.equal(1);
    expect(
      await metricValue(s.metrics, 'http_errors_total', { service: 'shop', operation: 'db', status: 'error' }),
    ).to.equal(1);
    expect(await metricValue(s.metrics, 'http_errors_total', { operation: 'GET /a' })).to.equal(0);
    const text = await s.metrics.metrics();
    expect(text).to.match(
      /http_request_duration_seconds_count\{service="shop",operation="db",kind="server",status="unset"\} 1/,
    );
    expect(text).to.match(/trace_duration_ms_sum\{service="shop",operation="GET \/a"\} 120/);
    await p.shutdown();
  });

  it('counts only SERVER and CONSUMER spans in http_*, every span in traces_span_metrics_*', async () => {
    const s = settings('spanmetrics');
    const p = factory.create(s, factory.createDefaultConfig(), recordingNext());
    const traceId = newTraceId();
    const root = newSpanId();
    const span = (spanId: string, parentSpanId: string, name: string, kind: number, code: 0 | 2) => ({
      traceId,
      spanId,
      parentSpanId,
      traceState: '',
      flags: 0,
      name,
      kind,
      startTimeUnixNano: 1_000_000_000n,
      endTimeUnixNano: 1_050_000_000n,
      attributes: [],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code, message: '' },
    });
    const data = encodeTraces([
      {
        resource: {
          attributes: [{ key: 'service.name', value: { type: 'string', value: 'shop' } }],
          droppedAttributesCount: 0,
          entityRefs: [],
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: [
              span(root, '', 'GET /cart', 2, 0),
              span(newSpanId(), root, 'SELECT', 3, 2),
              span(newSpanId(), root, 'render', 1, 0),
              span(newSpanId(), root, 'cart.updated process', 5, 2),
            ],
          },
        ],
      },
    ]);
    await p.consumeTraces({ chunks: [{ traceId, data, spanCount: 4 }] });
    expect(await metricValue(s.metrics, 'http_requests_total', { service: 'shop' })).to.equal(2);
    expect(await metricValue(s.metrics, 'http_requests_total', { operation: 'SELECT' })).to.equal(0);
    expect(await metricValue(s.metrics, 'http_errors_total', { service: 'shop' })).to.equal(1);
    expect(
      await metricValue(s.metrics, 'http_errors_total', { operation: 'cart.updated process', kind: 'consumer' }),
    ).to.equal(1);
    expect(await metricValue(s.metrics, 'traces_span_metrics_calls_total', { service_name: 'shop' })).to.equal(4);
    expect(
      await metricValue(s.metrics, 'traces_span_metrics_calls_total', {
        span_name: 'SELECT',
        span_kind: 'SPAN_KIND_CLIENT',
        status_code: 'STATUS_CODE_ERROR',
      }),
    ).to.equal(1);
    const text = await s.metrics.metrics();
    expect(text).to.match(
      /traces_span_metrics_duration_seconds_count\{service_name="shop",span_name="render",span_kind="SPAN_KIND_INTERNAL",status_code="STATUS_CODE_UNSET"\} 1/,
    );
    expect(text).to.match(/trace_duration_ms_count\{service="shop",operation="GET \/cart"\} 1/);
    await p.shutdown();
  });

  it('folds series past max_series into one overflow operation', async () => {
    const s = settings('spanmetrics');
    const p = factory.create(s, factory.configSchema.parse({ max_series: 2 }), recordingNext());
    const traceId = newTraceId();
    const chunk = chunkOf(['a', 'b', 'c', 'd'].map((name) => ({ traceId, name, service: 'svc' })));
    await p.consumeTraces({ chunks: [chunk] });
    expect(await metricValue(s.metrics, 'http_requests_total', { operation: 'a' })).to.equal(1);
    expect(await metricValue(s.metrics, 'http_requests_total', { operation: 'b' })).to.equal(1);
    expect(await metricValue(s.metrics, 'http_requests_total', { operation: OVERFLOW_OPERATION })).to.equal(2);
  });

  it('passes a downstream rejection back to the sender', async () => {
    const s = settings('spanmetrics');
    const failing: ProcessorNext = {
      capabilities: { mutatesData: false },
      consumeTraces: () => Promise.reject(new Error('backend down')),
    };
    const p = factory.create(s, factory.createDefaultConfig(), failing);
    const chunk = chunkOf([{ traceId: newTraceId() }]);
    let caught: unknown;
    await p.consumeTraces({ chunks: [chunk] }).catch((e: unknown) => {
      caught = e;
    });
    expect(String(caught)).to.contain('backend down');
  });

  it('rejects unknown keys and bad buckets', () => {
    expect(factory.configSchema.safeParse({ max_series: 0 }).success).to.equal(false);
    expect(factory.configSchema.safeParse({ colour: 'red' }).success).to.equal(false);
    expect(factory.configSchema.safeParse({ duration_buckets: [] }).success).to.equal(false);
  });
});
