// Reload (tusk-collector run --watch, and SIGHUP): an invalid edit is rejected with its diagnostics
// while the running pipeline goes on untouched; a valid edit replaces the sampling policies without
// losing the traces already buffered.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient } from '../helpers/sdk-client';

function pipelineFile(http: number, admin: number, out: string, keepPolicy: string): string {
  return `
[service]
log_level: "info"
admin: "127.0.0.1:${admin}"

[receivers.otlp]
http: "127.0.0.1:${http}"
grpc: ""

[processors.tail_sampling]
decision_wait: "6s"
root_settle_delay: "6s"
ack: "buffered"
policies: [
  { name: "keep", type: "${keepPolicy}" },
]

[exporters.debug]
format: "json"
path: "${out}"

[pipelines.traces]
receivers: ["otlp"]
processors: ["tail_sampling"]
exporters: ["debug"]
`;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('integration: configuration reload', function () {
  this.timeout(90_000);
  let collector: CollectorProcess | undefined;
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-reload-'));
  });
  after(async () => {
    await collector?.stop('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects an invalid file, then applies a valid one without losing buffered traces', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    const out = path.join(dir, 'spans.jsonl');
    const file = path.join(dir, 'pipeline.tsk');
    fs.writeFileSync(file, pipelineFile(http, admin, out, 'never_sample'));
    collector = await startCollector(file, ['--watch'], {});

    const client = createProtoClient('reload-svc', `http://127.0.0.1:${http}/v1/traces`);
    const span = client.tracer.startSpan('buffered-op');
    span.end();
    await client.flush();
    const traceId = span.spanContext().traceId;

    // An invalid edit: rejected with file:line:col, nothing changes.
    await new Promise((r) => setTimeout(r, 1100));
    fs.writeFileSync(
      file,
      pipelineFile(http, admin, out, 'never_sample').replace(
        'decision_wait: "6s"',
        'decision_wait: "6s"\nbogus_key: 1',
      ),
    );
    expect(await waitFor(() => collector!.output().includes('reload rejected'), 10_000), collector!.output()).to.equal(
      true,
    );
    expect(collector!.output()).to.match(/pipeline\.tsk:\d+:\d+: processors\.tail_sampling\.bogus_key: unknown key/);
    expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).to.equal(200);

    // A valid edit: the policy changes; the trace buffered before the edit is decided by the new policy.
    await new Promise((r) => setTimeout(r, 1100));
    fs.writeFileSync(file, pipelineFile(http, admin, out, 'always_sample'));
    expect(
      await waitFor(() => collector!.output().includes('configuration applied'), 10_000),
      collector!.output(),
    ).to.equal(true);
    expect(fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes(traceId)).to.equal(false);
    expect(
      await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes(traceId), 15_000),
      'buffered trace exported after reload',
    ).to.equal(true);
    const decision = (await (await fetch(`http://127.0.0.1:${admin}/v1/decisions/${traceId}`)).json()) as {
      decision: string;
      policy: string;
    };
    expect(decision).to.include({ decision: 'sampled', policy: 'keep' });

    // SIGHUP with an unchanged file is a no-op reload that still reports success.
    collector!.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).to.equal(200);
    await client.shutdown();
  });
});
