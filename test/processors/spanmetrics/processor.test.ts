// spanmetrics: every span is counted by service/operation/kind/status before sampling, errors and
// durations land in the seed's metric shapes, cardinality is capped, and batches pass through untouched.

import { expect } from 'chai';
import { factory } from '../../../processors/spanmetrics/factory';
import { OVERFLOW_OPERATION } from '../../../processors/spanmetrics/processor';
import type { ProcessorNext } from '../../../pipeline/sdk/component';
import type { TraceBatch } from '../../../pipeline/sdk/trace-batch';
import { chunkOf, metricValue, newSpanId, newTraceId, settings } from '../tail-sampling/helpers/fixtures';

function recordingNext(): ProcessorNext & { batches: TraceBatch[] } {
  const batches: TraceBatch[] = [];
  return { batches, capabilities: { mutatesData: false }, consumeTraces: async (b) => { batches.push(b); } };
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
    expect(await metricValue(s.metrics, 'http_errors_total', { service: 'shop', operation: 'db', status: 'error' })).to.equal(1);
    expect(await metricValue(s.metrics, 'http_errors_total', { operation: 'GET /a' })).to.equal(0);
    const text = await s.metrics.metrics();
    expect(text).to.match(/http_request_duration_seconds_count\{service="shop",operation="db",kind="server",status="unset"\} 1/);
    expect(text).to.match(/trace_duration_ms_sum\{service="shop",operation="GET \/a"\} 120/);
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
    const failing: ProcessorNext = { capabilities: { mutatesData: false }, consumeTraces: () => Promise.reject(new Error('backend down')) };
    const p = factory.create(s, factory.createDefaultConfig(), failing);
    const chunk = chunkOf([{ traceId: newTraceId() }]);
    let caught: unknown;
    await p.consumeTraces({ chunks: [chunk] }).catch((e: unknown) => { caught = e; });
    expect(String(caught)).to.contain('backend down');
  });

  it('rejects unknown keys and bad buckets', () => {
    expect(factory.configSchema.safeParse({ max_series: 0 }).success).to.equal(false);
    expect(factory.configSchema.safeParse({ colour: 'red' }).success).to.equal(false);
    expect(factory.configSchema.safeParse({ duration_buckets: [] }).success).to.equal(false);
  });
});
