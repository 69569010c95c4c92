// End to end on real services: a real OpenTelemetry JS SDK sends traces over OTLP/HTTP protobuf to
// the tusk-collector binary running both cluster tiers (OTLP -> Kafka -> tail sampling with Redis
// state -> Jaeger). Error and P95-slow traces must be in Jaeger with every span, parent link and
// attribute; fast healthy traces (keep fraction 0) must not.

import { expect } from 'chai';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient, sendTrace, type SdkClient } from '../helpers/sdk-client';
import { getTrace, waitForTrace, type JaegerTrace } from '../helpers/jaeger';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'e2e-cluster.tsk');

async function decision(adminPort: number, traceId: string): Promise<{ decision: string; policy: string } | undefined> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/v1/decisions/${traceId}`);
  if (res.status === 404) return undefined;
  return (await res.json()) as { decision: string; policy: string };
}

async function waitForDecision(adminPort: number, traceId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const d = await decision(adminPort, traceId);
    if (d) return d;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

function tag(span: JaegerTrace['spans'][number], key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

describe('e2e: OTLP -> Kafka -> tail sampling (Redis) -> Jaeger', function () {
  this.timeout(180_000);
  const run = `${process.pid}-${Date.now()}`;
  let collector: CollectorProcess | undefined;
  let client: SdkClient;
  let adminPort: number;
  const service = `e2e-shop-${run}`;

  before(async () => {
    const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    adminPort = admin;
    collector = await startCollector(FIXTURE, [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      TUSK_SPANS_TOPIC: `e2e-spans-${run}`,
      TUSK_SAMPLER_GROUP: `e2e-group-${run}`,
      TUSK_REDIS_PREFIX: `e2e:${run}:`,
      KEEP_PERCENT: '0',
    });
    client = createProtoClient(service, `http://127.0.0.1:${http}/v1/traces`);
  });

  after(async () => {
    await client?.shutdown();
    const code = await collector?.stop('SIGTERM');
    if (code !== 0) console.error(collector?.output());
  });

  it('keeps error and slow traces complete, drops fast healthy ones', async () => {
    // Warm up the (service, operation) latency sketch with fast traces; none of them may be kept.
    const fast: string[] = [];
    for (let i = 0; i < 30; i++)
      fast.push(sendTrace(client.tracer, { rootName: 'GET /checkout', durationMs: 10 + (i % 5), children: 2 }));
    await client.flush();
    for (const id of fast) {
      const d = await waitForDecision(adminPort, id);
      expect(d, `decision for fast trace ${id}`).to.not.equal(undefined);
      expect(d!.decision).to.equal('not_sampled');
    }
    // Give the Redis state one sync so the cluster-wide P95 includes the warm-up.
    await new Promise((r) => setTimeout(r, 1000));

    const errorId = sendTrace(client.tracer, { rootName: 'GET /checkout', durationMs: 12, children: 2, errorChild: 1 });
    const slowId = sendTrace(client.tracer, { rootName: 'GET /checkout', durationMs: 900, children: 2 });
    const fastAgain = sendTrace(client.tracer, { rootName: 'GET /checkout', durationMs: 11, children: 2 });
    await client.flush();

    const errorTrace = await waitForTrace(errorId, 3);
    expect(errorTrace, 'error trace in Jaeger').to.not.equal(undefined);
    expect(errorTrace!.spans).to.have.length(3);
    const slowTrace = await waitForTrace(slowId, 3);
    expect(slowTrace, 'slow trace in Jaeger').to.not.equal(undefined);
    expect(slowTrace!.spans).to.have.length(3);

    for (const [t, policy] of [
      [errorTrace!, 'errors'],
      [slowTrace!, 'slow'],
    ] as const) {
      const root = t.spans.find((s) => s.operationName === 'GET /checkout')!;
      expect(root, 'root span').to.not.equal(undefined);
      expect(root.references).to.have.length(0);
      expect(t.processes[root.processID].serviceName).to.equal(service);
      expect(tag(root, 'http.method')).to.equal('GET');
      expect(tag(root, 'http.status_code')).to.equal(200);
      expect(tag(root, 'sampling.policy')).to.equal(policy);
      for (const child of t.spans.filter((s) => s !== root)) {
        expect(child.references).to.deep.include({ refType: 'CHILD_OF', traceID: t.traceID, spanID: root.spanID });
        expect(tag(child, 'step.index')).to.be.a('number');
        expect(tag(child, 'step.weight')).to.be.a('number');
      }
    }
    const failed = errorTrace!.spans.find((s) => s.operationName === 'step-1')!;
    expect(tag(failed, 'error')).to.equal(true);
    expect(failed.logs.some((l) => l.fields.some((f) => f.value === 'injected failure'))).to.equal(true);

    expect((await decision(adminPort, errorId))?.policy).to.equal('errors');
    expect((await decision(adminPort, slowId))?.policy).to.equal('slow');
    const lastFast = await waitForDecision(adminPort, fastAgain);
    expect(lastFast?.decision).to.equal('not_sampled');
    for (const id of [...fast.slice(0, 5), fastAgain])
      expect(await getTrace(id), `fast trace ${id} must not be in Jaeger`).to.equal(undefined);
  });
});
