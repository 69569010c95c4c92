// Integration: the `otlp` exporter over OTLP/HTTP and OTLP/gRPC (gzip, the default) against the REAL Jaeger
// v2 of scripts/stack (its OTLP receivers on 14318 / 14317). The same two-service trace is exported, fetched
// back with GET /api/traces/{id} and compared field by field, including Jaeger's typing of OTLP values.

import { expect } from 'chai';
import type { OtlpAnyValue, OtlpSpan } from '../../pipeline/sdk/otlp';
import { factory } from '../../exporters/otlp/factory';
import {
  batchOf,
  chunkOf,
  metricValue,
  newTraceId,
  nowNanos,
  richTrace,
  settings,
} from '../pipeline/sdk/exporterhelper/fixtures';
import { ensureJaeger, expectSameTrace, fetchTrace, JAEGER_OTLP_GRPC, JAEGER_OTLP_HTTP } from './exporters-helpers';

const host = { reportFatalError() {} };

/** How Jaeger's OTLP translation types values: int64 (big ones as strings in JSON), binary for bytes, JSON text for arrays/maps. */
function otlpTag(v: OtlpAnyValue): [string, unknown] {
  switch (v.type) {
    case 'string':
      return ['string', v.value];
    case 'bool':
      return ['bool', v.value];
    case 'double':
      return ['float64', v.value];
    case 'int':
      return ['int64', Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString()];
    case 'bytes':
      return ['binary', Buffer.from(v.value).toString('base64')];
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
const expectedOtlpTags = (s: OtlpSpan): Record<string, [string, unknown]> =>
  Object.fromEntries(
    s.attributes.map((a) => [a.key, a.key in JSON_TAGS ? ['string', JSON_TAGS[a.key]] : otlpTag(a.value)]),
  );

describe('integration: otlp exporter -> real Jaeger (OTLP/HTTP and OTLP/gRPC)', function () {
  this.timeout(60_000);
  before(ensureJaeger);

  for (const protocol of ['http', 'grpc'] as const) {
    it(`exports a two-service trace over OTLP/${protocol} that Jaeger returns field by field`, async () => {
      const s = settings(`exporters.otlp_${protocol}`);
      const exp = factory.create(
        s,
        factory.configSchema.parse({ protocol, endpoint: protocol === 'http' ? JAEGER_OTLP_HTTP : JAEGER_OTLP_GRPC }),
      );
      await exp.start(host);
      const traceId = newTraceId();
      const suffix = `${protocol}-${traceId.slice(0, 8)}`;
      const { rs } = richTrace(traceId, [`it-frontend-${suffix}`, `it-backend-${suffix}`], nowNanos(-2000));
      // Two chunks of the same trace in one batch: the request body is their byte concatenation.
      await exp.consumeTraces(batchOf(chunkOf(traceId, [rs[0]]), chunkOf(traceId, [rs[1]])));
      await exp.shutdown();
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: `exporters.otlp_${protocol}` }),
      ).to.equal(3);
      expectSameTrace(await fetchTrace(traceId, 3), rs, 'otlp', expectedOtlpTags);
    });
  }

  it('gets a permanent rejection (HTTP 400) from Jaeger for bytes that are not OTLP', async () => {
    const exp = factory.create(
      settings(),
      factory.configSchema.parse({
        endpoint: JAEGER_OTLP_HTTP,
        retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' },
      }),
    );
    const traceId = newTraceId();
    const err = (await exp
      .consumeTraces(batchOf({ traceId, data: Buffer.from('definitely not protobuf \xff\xff'), spanCount: 1 }))
      .catch((e: unknown) => e)) as { retriable: boolean; traceIds: string[]; cause: { status: number } };
    expect(err.retriable).to.equal(false);
    expect(err.traceIds).to.deep.equal([traceId]);
    expect(err.cause.status).to.equal(400);
    await exp.shutdown();
  });
});
