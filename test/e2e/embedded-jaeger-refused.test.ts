// A Jaeger that refuses under the embedded pipeline: the failure speaks. The shipped config/embedded.tsk
// pointed at a local HTTP server answering 503 logs one warn line (component, endpoint, cause, "retrying")
// within seconds and /readyz answers 503 naming the endpoint; the same pipeline with ack "buffered" and no
// write-ahead log counts what it gives up (tusk_sampler_dropped_*) and logs "dropped N traces (N spans)
// after retries". Needs no shared service: the refusing Jaeger is a server of the test.

import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient, sendTrace } from '../helpers/sdk-client';

/** until polls `check` every 100ms until it returns a value, or fails after `ms` naming `what`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('e2e: a refusing Jaeger under the embedded pipeline', function () {
  this.timeout(60_000);
  let jaeger: http.Server;
  let jaegerUrl = '';
  let posts = 0;
  let collector: CollectorProcess | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-refused-'));

  before(async () => {
    jaeger = http.createServer((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(503, { 'content-type': 'text/plain' }).end('jaeger is overloaded'));
    });
    await new Promise<void>((r) => jaeger.listen(0, '127.0.0.1', r));
    jaegerUrl = `http://127.0.0.1:${(jaeger.address() as AddressInfo).port}/api/traces`;
  });
  afterEach(async () => {
    await collector?.stop('SIGTERM', 20_000);
    collector = undefined;
  });
  after(async () => {
    jaeger.closeAllConnections();
    await new Promise((r) => jaeger.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function sendOne(port: number, service: string): Promise<void> {
    const client = createProtoClient(service, `http://127.0.0.1:${port}/v1/traces`);
    sendTrace(client.tracer, { rootName: 'GET /refused', durationMs: 10, children: 2, errorChild: 1 });
    await client.flush();
    await client.shutdown();
  }

  it('config/embedded.tsk: one warn line within seconds, then /readyz 503 with the reason', async () => {
    const [otlp, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    collector = await startCollector(path.join(REPO_ROOT, 'config', 'embedded.tsk'), [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlp}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      TUSK_STATE_DIR: path.join(dir, 'wal'),
      JAEGER_ENDPOINT: jaegerUrl,
      DECISION_WAIT: '1s',
    });
    const ready0 = await fetch(`http://127.0.0.1:${admin}/readyz`);
    expect(ready0.status).to.equal(200);
    const sentAt = Date.now();
    await sendOne(otlp, `refused-${process.pid}`);
    const warn = await until('the warn line', 15_000, () =>
      collector!
        .output()
        .split('\n')
        .find((l) => l.includes('exporters.jaeger: export to') && l.includes('retrying')),
    );
    expect(Date.now() - sentAt).to.be.below(15_000);
    expect(warn).to.contain(jaegerUrl).and.contain('HTTP 503').and.contain('"level":"warn"');
    expect(warn, 'no stack trace at warn').to.not.contain('"stack"');
    expect(posts).to.be.above(0);
    const body = await until('/readyz 503', 15_000, async () => {
      const r = await fetch(`http://127.0.0.1:${admin}/readyz`);
      return r.status === 503
        ? ((await r.json()) as { components: Array<{ id: string; ready: boolean; detail?: string }> })
        : undefined;
    });
    const jaegerStatus = body.components.find((c) => c.id === 'exporters.jaeger');
    expect(jaegerStatus?.ready).to.equal(false);
    expect(jaegerStatus?.detail).to.contain(jaegerUrl).and.contain('HTTP 503').and.contain('no success');
    const warns = collector
      .output()
      .split('\n')
      .filter((l) => l.includes('exporters.jaeger: export to') && l.includes('failed:'));
    expect(warns, 'the first-failure line is logged once per streak').to.have.length(1);
  });

  it('ack "buffered" without a log: what is given up after retries is counted and logged as dropped', async () => {
    const [otlp, admin] = [await freePort(), await freePort()];
    const file = path.join(dir, 'buffered.tsk');
    fs.writeFileSync(
      file,
      [
        '[service]',
        'name: "tusk-refused"',
        `admin: "127.0.0.1:${admin}"`,
        '[receivers.otlp]',
        'http {',
        `    endpoint: "127.0.0.1:${otlp}"`,
        '}',
        '[processors.tail_sampling]',
        'state: "memory"',
        'ack: "buffered"',
        'decision_wait: "500ms"',
        'retry_on_failure {',
        '    initial_interval: "100ms"',
        '    max_interval: "200ms"',
        '    max_elapsed_time: "1s"',
        '}',
        'policies: [ { name: "all", type: "always_sample" } ]',
        '[exporters.jaeger]',
        `endpoint: "${jaegerUrl}"`,
        'not_ready_after: "1s"',
        'retry_on_failure {',
        '    initial_interval: "100ms"',
        '    max_interval: "200ms"',
        '    max_elapsed_time: "500ms"',
        '}',
        '[pipelines.traces]',
        'receivers: ["otlp"]',
        'processors: ["tail_sampling"]',
        'exporters: ["jaeger"]',
        '',
      ].join('\n'),
    );
    collector = await startCollector(file, [], {});
    await sendOne(otlp, `dropped-${process.pid}`);
    const dropped = await until('the dropped line', 20_000, () =>
      collector!
        .output()
        .split('\n')
        .find((l) => l.includes('after retries') && l.includes('dropped ')),
    );
    expect(dropped).to.contain('dropped 1 traces (3 spans) after retries').and.contain('"level":"warn"');
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    expect(metrics).to.match(/tusk_sampler_dropped_traces_total\{[^}]*reason="gave_up"[^}]*\} 1\b/);
    expect(metrics).to.match(/tusk_sampler_dropped_spans_total\{[^}]*reason="gave_up"[^}]*\} 3\b/);
    // not_ready_after 1s: failing since the first attempt, with no success.
    const text = await until('/readyz 503', 10_000, async () => {
      const r = await fetch(`http://127.0.0.1:${admin}/readyz`);
      return r.status === 503 ? r.text() : undefined;
    });
    expect(text).to.contain(jaegerUrl).and.contain('HTTP 503');
  });
});
