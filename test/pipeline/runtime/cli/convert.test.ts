// `tusk-collector convert`: a dozen Collector configs written as the Collector's tail_sampling README shows
// them (test/fixtures/collector/) are converted, each result is loaded by the config loader, what could not
// be converted is listed with its YAML line, and the exit code says whether anything was dropped.

import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { loadServiceConfig } from '../../../../config/service/load';
import { builtinFactories } from '../../../../pipeline/runtime/registry';
import { main } from '../../../../pipeline/runtime/cli/main';
import { convertCollectorConfig } from '../../../../pipeline/runtime/cli/convert';
import { Service } from '../../../../pipeline/runtime/service';
import { encodeSpans, newTraceId } from '../../../processors/tail-sampling/helpers/fixtures';
import { freePort } from '../../../helpers/ports';
import os from 'node:os';
import pino from 'pino';
import { Registry } from 'prom-client';

const DIR = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'collector');
const ENV = { KAFKA_PASSWORD: 'secret', SAMPLING_SALT: 'tier-2' };

async function run(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
  const code = await main(['convert', ...args], io, { env: ENV, readStdin: () => stdin ?? '' });
  return { code, out, err };
}

type PolicyOut = Record<string, unknown> & { name?: string; type: string; policies?: PolicyOut[] };

async function policiesOf(tsk: string): Promise<PolicyOut[]> {
  const cfg = await loadServiceConfig('<converted>', { registry: builtinFactories(), source: tsk, env: ENV });
  const tail = [...cfg.components.values()].find((c) => c.type === 'tail_sampling');
  return ((tail?.config as { policies?: PolicyOut[] } | undefined)?.policies ?? []) as PolicyOut[];
}

/** Exit code of every fixture: 0 converted, 1 something dropped, 2 the result does not validate. */
const EXPECTED: Record<string, number> = {
  'readme-all-policies.yaml': 0,
  'practical-example.yaml': 1,
  'practical-example-fixed.yaml': 0,
  'probabilistic-salt.yaml': 0,
  'kafka-sampling-tier.yaml': 0,
  'env-vars.yaml': 0,
  'latency-flags-state.yaml': 0,
  'top-level-invert.yaml': 0,
  'composite.yaml': 0,
  'ottl.yaml': 0,
  'ottl-malformed.yaml': 2,
  'ingest-tier-kafka.yaml': 0,
  'unsupported-parts.yaml': 1,
  'drop-and-limits.yaml': 0,
};

describe('tusk-collector convert', () => {
  it('has an expectation for every fixture', () => {
    expect(
      fs
        .readdirSync(DIR)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).to.deep.equal(Object.keys(EXPECTED).sort());
  });

  for (const [file, code] of Object.entries(EXPECTED)) {
    it(`${file}: exit ${code}${code < 2 ? ', and the loader accepts the output' : ''}`, async () => {
      const r = await run([path.join(DIR, file)]);
      expect(r.code, r.err).to.equal(code);
      if (code === 2) return;
      const cfg = await loadServiceConfig('<converted>', { registry: builtinFactories(), source: r.out, env: ENV });
      expect(cfg.pipelines.size).to.be.greaterThan(0);
      if (code === 0) expect(r.err).not.to.contain('dropped:');
      else expect(r.err).to.match(/could not be converted/);
    });
  }

  it('converts every policy of the README example with our keys', async () => {
    const { tsk, remarks } = convertCollectorConfig(
      fs.readFileSync(path.join(DIR, 'readme-all-policies.yaml'), 'utf8'),
      'x',
    );
    expect(remarks.filter((r) => r.kind === 'dropped')).to.deep.equal([]);
    const p = await policiesOf(tsk);
    const byName = new Map(p.map((x) => [x.name, x]));
    expect(byName.get('test-policy-2')).to.include({ type: 'latency', threshold_ms: 5000, upper_threshold_ms: 10000 });
    expect(byName.get('test-policy-3')).to.include({ min: 50, max: 100 });
    expect(byName.get('test-policy-4')).to.include({ percentage: 10, hash_algorithm: 'fnv1a64', hash_salt: '' });
    expect(byName.get('test-policy-5')?.codes).to.deep.equal(['ERROR', 'UNSET']);
    expect(byName.get('test-policy-7')).to.include({ regex: true });
    expect(byName.get('test-policy-9')).to.include({ bytes_per_second: 1024000, burst_capacity: 2048000 });
    expect(byName.get('test-policy-13')).to.include({ error_mode: 'ignore' });
    expect(byName.get('test-policy-13')?.spanevent).to.deep.equal([
      'name != "test_span_event_name"',
      'attributes["test_event_attr_key_2"] != "test_event_attr_val_1"',
    ]);
    expect(byName.get('and-policy-1')?.policies?.map((s) => s.name)).to.deep.equal([
      'test-and-policy-1',
      'test-and-policy-2',
    ]);
    const composite = byName.get('composite-policy-1') as PolicyOut & {
      rate_allocation: unknown;
      policy_order: unknown;
    };
    expect(composite.policy_order).to.deep.equal([
      'test-composite-policy-1',
      'test-composite-policy-2',
      'test-composite-policy-3',
    ]);
    expect(composite.rate_allocation).to.deep.equal([
      { policy: 'test-composite-policy-1', percent: 50 },
      { policy: 'test-composite-policy-2', percent: 25 },
    ]);
    // Remarks carry the YAML line: cache_max_size is on line 51 of the fixture.
    expect(remarks.find((r) => r.path.includes('cache_max_size'))?.line).to.equal(51);
  });

  it('lists what it could not convert with the YAML line, and exits 1', async () => {
    const file = path.join(DIR, 'unsupported-parts.yaml');
    const r = await run([file]);
    expect(r.code).to.equal(1);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const dropped = r.err.split('\n').filter((l) => l.includes(': dropped: '));
    expect(dropped.map((l) => l.split(': dropped: ')[1].split(':')[0]).sort()).to.deep.equal([
      'extensions',
      'processors.attributes',
      'receivers.zipkin',
      'service.pipelines.metrics',
    ]);
    for (const l of dropped) {
      const line = Number(l.slice(file.length + 1).split(':')[0]);
      const key = l.split(': dropped: ')[1].split(':')[0].split('.').pop() as string;
      expect(lines[line - 1], l).to.contain(`${key}:`);
    }
    // The pipeline keeps what converted.
    expect(r.out).to.contain('receivers: ["otlp"]').and.contain('processors: ["tail_sampling"]');
  });

  it("turns a top-level invert_match into a drop veto (the Collector's inverted decision)", async () => {
    const r = await run([path.join(DIR, 'top-level-invert.yaml')]);
    const p = await policiesOf(r.out);
    expect(p.map((x) => [x.name, x.type])).to.deep.equal([
      ['not-internal (invert_match veto)', 'drop'],
      ['errors', 'status_code'],
    ]);
    expect(p[0].policies?.[0]).to.include({
      type: 'string_attribute',
      key: 'deployment.environment',
      invert_match: false,
    });
  });

  it('writes ${env:X} and ${env:X:-default} as @env, also inside a longer string', async () => {
    const r = await run([path.join(DIR, 'env-vars.yaml')]);
    expect(r.out).to.contain('endpoint: @env("OTLP_HTTP_ENDPOINT", "0.0.0.0:4318")');
    expect(r.out).to.contain('hash_salt: @env("SAMPLING_SALT")');
    expect(r.out).to.contain('endpoint: "http://" + @env("JAEGER_HOST", "jaeger") + ":4317"');
    const cfg = await loadServiceConfig('<c>', {
      registry: builtinFactories(),
      source: r.out,
      env: { ...ENV, JAEGER_HOST: 'j1' },
    });
    expect((cfg.components.get('exporters.otlp')?.config as { endpoint: string }).endpoint).to.equal('http://j1:4317');
    expect((await policiesOf(r.out))[0]).to.include({ percentage: 25, hash_salt: 'tier-2' });
  });

  it('maps the kafka tier: sasl, group, start_from, memory_limiter into max_buffered_bytes, no batch', async () => {
    const r = await run([path.join(DIR, 'kafka-sampling-tier.yaml')]);
    expect(r.out).to.contain('group: "tail-samplers"').and.contain('mechanism: "scram-sha-512"');
    expect(r.out).to.contain('max_buffered_bytes: "3200MiB"');
    expect(r.out).to.contain('processors: ["tail_sampling"]');
    expect(r.err).to.match(/kafka-sampling-tier\.yaml:33: note: processors\.batch/);
  });

  it('reports a malformed OTTL condition as an invalid result (exit 2) with the column', async () => {
    const r = await run([path.join(DIR, 'ottl-malformed.yaml')]);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/invalid OTTL condition: column 17: unexpected character "="/);
  });

  it('runs a converted pipeline: OTLP/HTTP in, the README policies, debug out', async () => {
    const { tsk } = convertCollectorConfig(fs.readFileSync(path.join(DIR, 'readme-all-policies.yaml'), 'utf8'), 'x');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-convert-run-'));
    const out = path.join(dir, 'debug.txt');
    const port = await freePort();
    const overrides = [
      `receivers.otlp.http.endpoint="127.0.0.1:${port}"`,
      'receivers.otlp.grpc.endpoint=""',
      'processors.tail_sampling.decision_wait=300ms',
      'processors.tail_sampling.root_settle_delay=0',
      `exporters.debug.path=${JSON.stringify(out)}`,
    ];
    const cfg = await loadServiceConfig('<converted>', {
      registry: builtinFactories(),
      source: tsk,
      env: ENV,
      overrides,
    });
    const svc = new Service(cfg, { logger: pino({ level: 'silent' }), metrics: new Registry() });
    await svc.start();
    try {
      // A health check (dropped by drop-policy-1) and a trace every other policy has a say on.
      const [health, kept] = [newTraceId(), newTraceId()];
      const body = encodeSpans([
        { traceId: health, attributes: { 'url.path': '/health' } },
        { traceId: kept, status: 'ERROR', attributes: { key1: 75 } },
      ]);
      const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(res.status).to.equal(200);
      const text = fs.readFileSync(out, 'utf8');
      expect(text).to.contain(kept);
      expect(text).not.to.contain(health);
    } finally {
      await svc.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads standard input, answers --help, and refuses bad usage and bad YAML with exit 2', async () => {
    const yaml = fs.readFileSync(path.join(DIR, 'composite.yaml'), 'utf8');
    const stdin = await run(['-'], yaml);
    expect(stdin.code).to.equal(0);
    expect(stdin.out).to.contain('type: "composite"');
    expect((await run(['--help'])).out).to.contain('Usage: tusk-collector convert FILE');
    expect((await run([])).code).to.equal(2);
    expect((await run(['a.yaml', 'b.yaml'])).code).to.equal(2);
    const bad = await run(['-'], 'receivers: [otlp\n');
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/<stdin>:\d+:\d+: /);
  });
});
