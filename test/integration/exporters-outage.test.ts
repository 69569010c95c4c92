// Integration: a REAL Jaeger outage. Jaeger is stopped with scripts/stack/down.sh; while it is down a batch
// must never be acknowledged: the jaeger exporter (bounded retries) rejects it retriably and the otlp/gRPC
// exporter (max_elapsed_time 0 = retry forever) keeps it pending. Jaeger is started again with
// scripts/stack/up.sh: the pending batch resolves by itself, the rejected one is redelivered and accepted,
// and both traces are in Jaeger. The after hook always brings Jaeger back.

import { expect } from 'chai';
import { factory as jaegerFactory } from '../../exporters/jaeger/factory';
import { factory as otlpFactory } from '../../exporters/otlp/factory';
import type { ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import { batchOf, chunkOf, newTraceId, nowNanos, richTrace, settings } from '../pipeline/sdk/exporterhelper/fixtures';
import { ensureJaeger, fetchTrace, JAEGER_OTLP_GRPC, JAEGER_THRIFT, jaegerUp, stack } from './exporters-helpers';

describe('integration: exporters through a real Jaeger outage', function () {
  this.timeout(120_000);
  before(ensureJaeger);
  after(async function () {
    this.timeout(10 * 60_000);
    if (!(await jaegerUp())) await stack('up');
  });

  it('never acknowledges while Jaeger is down, and delivers once it is back', async () => {
    const jx = jaegerFactory.create(
      settings('exporters.jaeger'),
      jaegerFactory.configSchema.parse({
        endpoint: JAEGER_THRIFT,
        timeout: '1s',
        retry_on_failure: { initial_interval: '100ms', max_interval: '500ms', max_elapsed_time: '3s' },
      }),
    );
    const ox = otlpFactory.create(
      settings('exporters.otlp'),
      otlpFactory.configSchema.parse({
        protocol: 'grpc',
        endpoint: JAEGER_OTLP_GRPC,
        timeout: '1s',
        retry_on_failure: { initial_interval: '100ms', max_interval: '1s', max_elapsed_time: '0' },
      }),
    );
    const host = { reportFatalError() {} };
    await Promise.all([jx.start(host), ox.start(host)]);
    const t1 = newTraceId();
    const t2 = newTraceId();
    const b1 = batchOf(
      chunkOf(t1, richTrace(t1, [`outage-a-${t1.slice(0, 6)}`, `outage-b-${t1.slice(0, 6)}`], nowNanos(-3000)).rs),
    );
    const b2 = batchOf(
      chunkOf(t2, richTrace(t2, [`outage-c-${t2.slice(0, 6)}`, `outage-d-${t2.slice(0, 6)}`], nowNanos(-3000)).rs),
    );

    await stack('down');
    expect(await jaegerUp(), 'Jaeger is down').to.equal(false);

    const started = Date.now();
    const r1 = (await jx.consumeTraces(b1).then(
      () => 'resolved',
      (e: unknown) => e,
    )) as ExportError | 'resolved';
    expect(r1, 'jaeger exporter must not acknowledge during the outage').to.not.equal('resolved');
    expect((r1 as ExportError).retriable).to.equal(true);
    expect(Date.now() - started).to.be.below(10_000);

    let settled: string | undefined;
    const p2 = ox.consumeTraces(b2).then(
      () => {
        settled = 'resolved';
      },
      (e: unknown) => {
        settled = `rejected: ${String(e)}`;
      },
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(settled, 'otlp exporter keeps retrying while Jaeger is down').to.equal(undefined);

    await stack('up');
    expect(await jaegerUp(), 'Jaeger is back').to.equal(true);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      p2,
      new Promise((r) => {
        timer = setTimeout(r, 20_000);
      }),
    ]);
    clearTimeout(timer);
    expect(settled, 'the pending batch is delivered after the restart').to.equal('resolved');

    await jx.consumeTraces(b1); // the sender's redelivery
    await Promise.all([jx.shutdown(), ox.shutdown()]);

    const [g1, g2] = await Promise.all([fetchTrace(t1, 3), fetchTrace(t2, 3)]);
    expect(g1?.spans.length, 'redelivered trace in Jaeger').to.equal(3);
    expect(g2?.spans.length, 'retried trace in Jaeger').to.equal(3);
  });
});
