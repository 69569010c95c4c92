// End to end with the seed's [tracing] example file, unchanged (test/fixtures/config/tracing-seed.tsk:
// backend jaeger, @env endpoint/sampling/service, @metrics, @go correlation): initTracing from it
// exports straight to the real Jaeger through @opentelemetry/exporter-jaeger; a traced HTTP call
// shows up there as one trace with its parent links, logs carry the ids and trace_duration_ms is served.

import { expect } from 'chai';
import path from 'node:path';
import { initTracing, type TracingHandle } from '../../instrument';
import { JAEGER_QUERY, waitForTrace } from '../helpers/jaeger';
import { freePort } from '../helpers/ports';
import { LogSink, listen } from '../instrument/helpers';

const SEED = path.join(__dirname, '..', 'fixtures', 'config', 'tracing-seed.tsk');

describe("e2e: the seed's [tracing] file, backend jaeger, to the real Jaeger", function () {
  this.timeout(90_000);
  let handle: TracingHandle | undefined;

  before(async () => {
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${JAEGER_QUERY}/api/services`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline)
        throw new Error(`Jaeger not answering on ${JAEGER_QUERY}: run \`bash scripts/stack/up.sh jaeger\``);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  after(async () => {
    await handle?.shutdown();
  });

  it('initialises from the file with its variables set and delivers a linked trace to Jaeger', async function () {
    await handle?.shutdown();
    const service = `seed-${process.pid}-${Date.now().toString(36)}`;
    const logs = new LogSink();
    const metricsPort = await freePort();
    handle = initTracing(SEED, {
      env: {
        JAEGER_ENDPOINT: process.env.JAEGER_ENDPOINT ?? 'http://127.0.0.1:14268/api/traces',
        SAMPLING_RATE: '1',
        SERVICE_NAME: service,
      },
      overrides: { metrics_port: metricsPort }, // the seed's default 9464 may be taken on a shared machine
      logDestination: logs,
    });
    expect(handle.config).to.include({
      backend: 'jaeger',
      serviceName: service,
      samplingRate: 1,
      traceDurationMetric: 'trace_duration_ms',
      correlation: true,
    });
    await handle.ready;
    const h = handle;

    const srv = await listen(
      h.wrapHandler((_req, res) => {
        h.logger.info('serving');
        res.end('ok');
      }),
    );
    let traceId = '';
    try {
      await h.monitor('checkout', async (span) => {
        traceId = span.spanContext().traceId;
        await (await h.tracedFetch(`${srv.url}/stock`)).text();
      });
    } finally {
      await srv.close();
    }
    const metrics = await (await fetch(h.metricsUrl!)).text();
    expect(metrics).to.match(/^trace_duration_ms_count\{[^}]*operation="checkout"[^}]*\} 1$/m);
    expect(metrics).to.match(/^http_requests_total\{[^}]*http_route="\/stock"[^}]*\} 1$/m);
    await h.forceFlush();

    const t = await waitForTrace(traceId, 3, 30_000);
    expect(t?.spans.length, `trace ${traceId} in Jaeger`).to.equal(3);
    const byName = (n: string, kind: string) =>
      t!.spans.find(
        (s) => s.operationName === n && (s.tags.find((x) => x.key === 'span.kind')?.value ?? 'internal') === kind,
      )!;
    const root = byName('checkout', 'internal');
    const client = byName('GET /stock', 'client');
    const server = byName('GET /stock', 'server');
    expect(root.references).to.deep.equal([]);
    expect(client.references[0].spanID).to.equal(root.spanID);
    expect(server.references[0].spanID).to.equal(client.spanID);
    expect(new Set(t!.spans.map((s) => t!.processes[s.processID].serviceName))).to.deep.equal(new Set([service]));
    const line = logs.lines.find((l) => l.msg === 'serving');
    expect(line).to.include({ trace_id: traceId, span_id: server.spanID });
  });
});
