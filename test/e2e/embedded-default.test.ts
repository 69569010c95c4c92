// The embedded default (config/embedded.tsk, what `npm start` runs): one process, no Kafka, no Redis,
// OTLP in -> tail sampling with in-memory state -> the real Jaeger. An error trace sent by the real
// OpenTelemetry SDK over HTTP and over gRPC reaches Jaeger complete; a healthy one at keep fraction 0
// does not, and the span metrics count every span before sampling.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { freePort } from '../helpers/ports';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient, sendTrace } from '../helpers/sdk-client';
import { getTrace, waitForTrace } from '../helpers/jaeger';

describe('e2e: embedded default pipeline (npm start)', function () {
  this.timeout(90_000);
  let collector: CollectorProcess | undefined;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-embedded-'));
  after(async () => {
    await collector?.stop('SIGTERM');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('needs no Kafka or Redis and exports kept traces to Jaeger', async () => {
    const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    collector = await startCollector(path.join(REPO_ROOT, 'config', 'embedded.tsk'), [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      KAFKA_BROKERS: '127.0.0.1:1', // nothing there: the embedded pipeline must not need it
      REDIS_URL: 'redis://127.0.0.1:1',
      KEEP_PERCENT: '0',
      DECISION_WAIT: '2s',
      TUSK_STATE_DIR: stateDir,
    });
    expect(collector.output()).to.contain(`exports  exporters.jaeger: endpoint=http://127.0.0.1:14268/api/traces`);
    const service = `embedded-${process.pid}-${Date.now()}`;
    const overHttp = createProtoClient(service, `http://127.0.0.1:${http}/v1/traces`);
    const overGrpc = createProtoClient(service, '', new GrpcExporter({ url: `http://127.0.0.1:${grpc}` }));
    const errorHttp = sendTrace(overHttp.tracer, { rootName: 'POST /pay', durationMs: 20, children: 3, errorChild: 2 });
    const errorGrpc = sendTrace(overGrpc.tracer, { rootName: 'POST /pay', durationMs: 20, children: 1, errorChild: 0 });
    const healthy = sendTrace(overHttp.tracer, { rootName: 'POST /pay', durationMs: 20, children: 3 });
    await Promise.all([overHttp.flush(), overGrpc.flush()]);
    expect((await waitForTrace(errorHttp, 4))?.spans).to.have.length(4);
    expect((await waitForTrace(errorGrpc, 2))?.spans).to.have.length(2);
    const decision = await fetch(`http://127.0.0.1:${admin}/v1/decisions/${healthy}`);
    expect(decision.status).to.equal(200);
    expect(((await decision.json()) as { decision: string }).decision).to.equal('not_sampled');
    expect(await getTrace(healthy)).to.equal(undefined);
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    expect(metrics).to.match(
      new RegExp(`http_requests_total\\{service="${service}",operation="POST /pay",kind="server",status="unset"\\} 3`),
    );
    await Promise.all([overHttp.shutdown(), overGrpc.shutdown()]);
  });
});
