// Integration: the `jaeger` exporter (thrift over HTTP, encoded from the decoded OTLP spans) against the REAL
// Jaeger of scripts/stack. A two-service trace with every attribute type is exported, fetched back with
// GET /api/traces/{id} and compared field by field; a 600-span trace checks request cutting end to end.

import { expect } from 'chai';
import type { OtlpAnyValue, OtlpSpan } from '../../pipeline/sdk/otlp';
import { factory } from '../../exporters/jaeger/factory';
import {
  batchOf,
  chunkOf,
  metricValue,
  newTraceId,
  nowNanos,
  resourceSpans,
  richTrace,
  settings,
  span,
} from '../pipeline/sdk/exporterhelper/fixtures';
import { ensureJaeger, expectSameTrace, fetchTrace, JAEGER_THRIFT } from './exporters-helpers';

const host = { reportFatalError() {} };

/** What Jaeger stores for our thrift path: numbers as DOUBLE (as the library does), arrays/kvlists as JSON, bytes as base64. */
function thriftTag(v: OtlpAnyValue): [string, unknown] {
  switch (v.type) {
    case 'string':
      return ['string', v.value];
    case 'bool':
      return ['bool', v.value];
    case 'double':
      return ['float64', v.value];
    case 'int':
      return Number.isSafeInteger(Number(v.value)) ? ['float64', Number(v.value)] : ['string', v.value.toString()];
    case 'bytes':
      return ['string', Buffer.from(v.value).toString('base64')];
    default:
      return ['string', expect.fail(`unexpected ${v.type}`)];
  }
}
const JSON_TAGS: Record<string, string> = {
  tags: '["a","b,c"]',
  codes: '[1,2,3]',
  flags: '[true,false]',
  mixed: '["x",1]',
  user: '{"id":42,"name":"ann"}',
};

function expectedThriftTags(s: OtlpSpan): Record<string, [string, unknown]> {
  const out: Record<string, [string, unknown]> = {};
  for (const a of s.attributes) out[a.key] = a.key in JSON_TAGS ? ['string', JSON_TAGS[a.key]] : thriftTag(a.value);
  if (s.droppedAttributesCount) out['otel.dropped_attributes_count'] = ['float64', s.droppedAttributesCount];
  if (s.droppedEventsCount) out['otel.dropped_events_count'] = ['float64', s.droppedEventsCount];
  return out;
}

describe('integration: jaeger exporter -> real Jaeger (thrift over HTTP)', function () {
  this.timeout(60_000);
  before(ensureJaeger);

  it('exports a two-service trace that Jaeger returns field by field', async () => {
    const s = settings('exporters.jaeger');
    const exp = factory.create(s, factory.configSchema.parse({ endpoint: JAEGER_THRIFT }));
    await exp.start(host);
    const traceId = newTraceId();
    const suffix = traceId.slice(0, 8);
    const { rs } = richTrace(traceId, [`it-frontend-${suffix}`, `it-backend-${suffix}`], nowNanos(-2000));
    await exp.consumeTraces(batchOf(chunkOf(traceId, rs)));
    await exp.shutdown();
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.jaeger' })).to.equal(
      3,
    );
    const got = await fetchTrace(traceId, 3);
    expectSameTrace(got, rs, 'thrift', expectedThriftTags);
  });

  it('exports a 600-span trace in several requests without losing or duplicating a span', async () => {
    const exp = factory.create(
      settings(),
      factory.configSchema.parse({ endpoint: JAEGER_THRIFT, max_spans_per_request: 100 }),
    );
    const traceId = newTraceId();
    const t0 = nowNanos(-1000);
    const spans = Array.from({ length: 600 }, (_, i) =>
      span({
        traceId,
        name: `bulk-${i}`,
        startTimeUnixNano: t0 + BigInt(i) * 1000n,
        endTimeUnixNano: t0 + BigInt(i) * 1000n + 5000n,
      }),
    );
    await exp.consumeTraces(batchOf(chunkOf(traceId, [resourceSpans(`it-bulk-${traceId.slice(0, 8)}`, spans)])));
    await exp.shutdown();
    const got = await fetchTrace(traceId, 600);
    expect(got!.spans).to.have.length(600);
    expect(new Set(got!.spans.map((x) => x.spanID)).size).to.equal(600);
    expect(new Set(got!.spans.map((x) => x.operationName))).to.have.property('size', 600);
  });
});
