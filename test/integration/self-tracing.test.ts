// Self-tracing: with [service] self_tracing on, the pipeline's own work (receive, process, export)
// is traced and lands in the real Jaeger under the collector's service name; pointing it at the
// collector's own receiver is refused before anything starts. Without a name or endpoint in the file,
// OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_ENDPOINT decide; a malformed variable is a warning.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient } from '../helpers/sdk-client';
import { JAEGER_QUERY } from '../helpers/jaeger';

function file(dir: string, name: string, http: number, admin: number, endpoint: string): string {
  const p = path.join(dir, `${name}.tsk`);
  fs.writeFileSync(
    p,
    `
[service]
name: "${name}"
admin: "127.0.0.1:${admin}"
self_tracing {
    enabled: true
    sampling_rate: 1
    endpoint: "${endpoint}"
}
[receivers.otlp]
http: "127.0.0.1:${http}"
grpc: ""
[processors.spanmetrics]
[exporters.debug]
path: "${path.join(dir, 'out.txt')}"
[pipelines.traces]
receivers: ["otlp"]
processors: ["spanmetrics"]
exporters: ["debug"]
`,
  );
  return p;
}

describe('integration: self-tracing', function () {
  this.timeout(60_000);
  let dir: string;
  let collector: CollectorProcess | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-self-'));
  });
  after(async () => {
    await collector?.stop('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('traces receive -> process -> export of its own pipeline into Jaeger', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const name = `tusk-self-${process.pid}-${Date.now()}`;
    collector = await startCollector(file(dir, name, http, admin, 'http://127.0.0.1:14318/v1/traces'), [], {});
    const client = createProtoClient('self-tracing-client', `http://127.0.0.1:${http}/v1/traces`);
    client.tracer.startSpan('work').end();
    await client.flush();
    await client.shutdown();
    expect(await collector.stop('SIGTERM')).to.equal(0); // flushes the self-spans
    collector = undefined;
    let operations: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${JAEGER_QUERY}/api/traces?service=${name}&limit=20`);
      const body = (await res.json()) as {
        data?: Array<{ spans: Array<{ operationName: string; references: unknown[] }> }>;
      };
      operations = (body.data ?? []).flatMap((t) => t.spans.map((s) => s.operationName));
      if (operations.includes('export debug')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(operations).to.include.members(['receive otlp', 'process spanmetrics', 'export debug']);
  });

  it('carries the trace context across tiers in Kafka message headers', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const name = `tusk-self-kafka-${process.pid}-${Date.now()}`;
    const topic = `self-${process.pid}-${Date.now()}`;
    const p = path.join(dir, 'kafka.tsk');
    fs.writeFileSync(
      p,
      `
[service]
name: "${name}"
admin: "127.0.0.1:${admin}"
self_tracing {
    enabled: true
    sampling_rate: 1
    endpoint: "http://127.0.0.1:14318/v1/traces"
}
[receivers.otlp]
http: "127.0.0.1:${http}"
grpc: ""
[exporters.spans]
type: "kafka"
brokers: "127.0.0.1:9092"
topic: "${topic}"
[receivers.spans_in]
type: "kafka"
brokers: "127.0.0.1:9092"
topic: "${topic}"
group: "${topic}"
[exporters.debug]
path: "${path.join(dir, 'kafka-out.txt')}"
[pipelines.ingest]
receivers: ["otlp"]
exporters: ["spans"]
[pipelines.sample]
receivers: ["spans_in"]
exporters: ["debug"]
`,
    );
    collector = await startCollector(p, [], {});
    const client = createProtoClient('self-tracing-client', `http://127.0.0.1:${http}/v1/traces`);
    client.tracer.startSpan('work').end();
    await client.flush();
    await client.shutdown();
    const out = path.join(dir, 'kafka-out.txt');
    const until = Date.now() + 20_000;
    while (Date.now() < until && !(fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('work')))
      await new Promise((r) => setTimeout(r, 200));
    expect(await collector.stop('SIGTERM')).to.equal(0);
    collector = undefined;
    type JSpan = {
      traceID: string;
      spanID: string;
      operationName: string;
      references: Array<{ refType: string; traceID: string; spanID: string }>;
    };
    let spans: JSpan[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const body = (await (await fetch(`${JAEGER_QUERY}/api/traces?service=${name}&limit=50`)).json()) as {
        data?: Array<{ spans: JSpan[] }>;
      };
      spans = (body.data ?? []).flatMap((t) => t.spans);
      if (
        spans.some((s) => s.operationName === `consume ${topic}`) &&
        spans.some((s) => s.operationName === 'export spans')
      )
        break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const consume = spans.find((s) => s.operationName === `consume ${topic}`);
    const produce = spans.find((s) => s.operationName === 'export spans');
    expect(consume, 'consume span').to.not.equal(undefined);
    expect(produce, 'produce-side span').to.not.equal(undefined);
    const linked = consume!.references.map((r) => r.spanID);
    expect(linked, 'consume span links to the producing span').to.include(produce!.spanID);
  });

  it('takes service.name, resource attributes and the endpoint from OTEL_* when the file leaves them out', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const name = `tusk-self-env-${process.pid}-${Date.now()}`;
    const p = path.join(dir, 'env.tsk');
    fs.writeFileSync(
      p,
      `
[service]
admin: "127.0.0.1:${admin}"
self_tracing {
    enabled: true
    sampling_rate: 1
}
[receivers.otlp]
http: "127.0.0.1:${http}"
grpc: ""
[exporters.debug]
path: "${path.join(dir, 'env-out.txt')}"
[pipelines.traces]
receivers: ["otlp"]
exporters: ["debug"]
`,
    );
    collector = await startCollector(p, [], {
      OTEL_SERVICE_NAME: name,
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=it%2Cci,bad',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318',
    });
    const client = createProtoClient('self-tracing-env-client', `http://127.0.0.1:${http}/v1/traces`);
    client.tracer.startSpan('work').end();
    await client.flush();
    await client.shutdown();
    expect(await collector.stop('SIGTERM')).to.equal(0);
    expect(collector.output()).to.contain('OTEL_RESOURCE_ATTRIBUTES is ignored: \\"bad\\" is not key=value');
    collector = undefined;
    let found = false;
    const deadline = Date.now() + 20_000;
    while (!found && Date.now() < deadline) {
      const body = (await (await fetch(`${JAEGER_QUERY}/api/traces?service=${name}&limit=5`)).json()) as {
        data?: unknown[];
      };
      found = (body.data ?? []).length > 0;
      if (!found) await new Promise((r) => setTimeout(r, 300));
    }
    expect(found, `self-traces under ${name} in Jaeger`).to.equal(true);
  });

  it('refuses to feed its own spans into its own receiver', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const p = file(dir, 'loop', http, admin, `http://127.0.0.1:${http}/v1/traces`);
    let error: Error | undefined;
    try {
      collector = await startCollector(p, [], {}, 15_000);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.contain('exited with 2');
    expect(error?.message).to.contain('fed back into its input');
  });
});
