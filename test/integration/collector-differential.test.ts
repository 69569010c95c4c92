// Differential test against the real OpenTelemetry Collector (contrib's tail_sampling, compiled into the
// stack's Jaeger v2 binary): the same generated traces (attributes, errors, latencies, tracestates, trace
// flags, span events) go through the Collector with a config and through our tail_sampling processor with
// `convert`'s output of that config; for deterministic policies the sets of kept trace ids are identical.
// Needs only the binary (no Kafka, Redis or Jaeger): the Collector exports to an HTTP server of this test.

import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig } from '../../config/service/load';
import { builtinFactories } from '../../pipeline/runtime/registry';
import { convertCollectorConfig } from '../../pipeline/runtime/cli/convert';
import { decodeTraces, splitTracesByTraceId } from '../../pipeline/sdk/otlp/index';
import type { TailSamplingConfig } from '../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../processors/tail-sampling/processor';
import { FakeSamplingState } from '../processors/tail-sampling/helpers/fake-state';
import {
  encodeSpans,
  newSpanId,
  newTraceId,
  settings,
  type SpanSpec,
} from '../processors/tail-sampling/helpers/fixtures';
import { FakeNext, HOST } from '../processors/tail-sampling/helpers/harness';
import { freePort, portOpen } from '../../bench/lib/ports';
import { peerBinary } from '../../bench/lib/systems';

/** rng is a small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** traffic builds `n` traces of 1-5 spans with varied attributes, statuses, durations, flags and events. */
function traffic(n: number, seed: number): SpanSpec[][] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const traces: SpanSpec[][] = [];
  const start = Date.now() - 60_000;
  for (let i = 0; i < n; i++) {
    const traceId = newTraceId();
    const rootId = newSpanId();
    const spans: SpanSpec[] = [];
    const count = 1 + Math.floor(r() * 5);
    const sampled = r() < 0.05;
    const traceState = pick(['', '', 'vendor=keep', 'vendor=drop', 'other=1']);
    for (let s = 0; s < count; s++) {
      const attributes: Record<string, string | number | boolean> = {
        'http.route': pick(['/health', '/api/items', '/v1/name/42', '/pay']),
        'http.status_code': pick([200, 200, 404, 500, 503]),
      };
      if (r() < 0.1) attributes['app.force_sample'] = r() < 0.5;
      spans.push({
        traceId,
        spanId: s === 0 ? rootId : newSpanId(),
        parentSpanId: s === 0 ? undefined : rootId,
        name: pick(['GET /items', 'POST /pay', 'db.query']),
        service: pick(['api', 'web', 'checkout']),
        // Whole milliseconds plus 0.25 ms: never on a millisecond boundary.
        startMs: start + i * 10 + s * 3,
        durationMs: Math.floor(r() * 1500) + 0.25,
        status: r() < 0.08 ? 'ERROR' : pick(['OK', 'UNSET']),
        attributes,
        traceState,
        sampled,
        events: r() < 0.15 ? [{ name: 'exception', attributes: { 'exception.type': pick(['Timeout', 'IO']) } }] : [],
      });
    }
    traces.push(spans);
  }
  return traces;
}

/** The policies of the comparison, as a Collector config writes them: every deterministic type it knows. */
const POLICIES: unknown[] = [
  { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
  { name: 'slow', type: 'latency', latency: { threshold_ms: 1200, upper_threshold_ms: 1400 } },
  {
    name: 'pay-5xx',
    type: 'and',
    and: {
      and_sub_policy: [
        {
          name: 'pay',
          type: 'string_attribute',
          string_attribute: { key: 'http.route', values: ['^/pa'], enabled_regex_matching: true },
        },
        {
          name: '5xx',
          type: 'numeric_attribute',
          numeric_attribute: { key: 'http.status_code', min_value: 500, max_value: 599 },
        },
      ],
    },
  },
  { name: 'forced', type: 'boolean_attribute', boolean_attribute: { key: 'app.force_sample', value: true } },
  { name: 'big', type: 'span_count', span_count: { min_spans: 5 } },
  { name: 'vendor', type: 'trace_state', trace_state: { key: 'vendor', values: ['keep'] } },
  // trace_flags is newer than the Collector in the stack's binary (contrib v0.140.1 rejects it): not compared.
  {
    name: 'checkout-404',
    type: 'and',
    and: {
      and_sub_policy: [
        { name: 'checkout', type: 'string_attribute', string_attribute: { key: 'service.name', values: ['checkout'] } },
        {
          name: '404',
          type: 'numeric_attribute',
          numeric_attribute: { key: 'http.status_code', min_value: 404, max_value: 404 },
        },
      ],
    },
  },
  { name: 'salted', type: 'probabilistic', probabilistic: { hash_salt: 'tier-2', sampling_percentage: 7 } },
  { name: 'unsalted', type: 'probabilistic', probabilistic: { sampling_percentage: 3 } },
  {
    name: 'timeouts',
    type: 'ottl_condition',
    ottl_condition: {
      error_mode: 'ignore',
      span: ['attributes["http.status_code"] == 404 and name == "db.query"'],
      spanevent: ['name == "exception" and attributes["exception.type"] == "Timeout"'],
    },
  },
  {
    // OTTL converters (ottlfuncs of the Collector the stack builds) and duration arithmetic.
    name: 'converters',
    type: 'ottl_condition',
    ottl_condition: {
      error_mode: 'ignore',
      span: [
        'IsRootSpan() and HasPrefix(name, "POST") and Len(attributes["http.route"]) > 4 and kind == SPAN_KIND_SERVER',
        'IsInt(attributes["http.status_code"]) and Int(attributes["http.status_code"]) == 503 and ' +
          'ToUpperCase(resource.attributes["service.name"]) == "WEB" and not IsRootSpan()',
        'Concat([name, String(attributes["http.status_code"])], ":") == "db.query:500"',
        'Substring(attributes["http.route"], 0, 3) == "/v1" and IsString(attributes["http.route"]) and ' +
          'HasSuffix(name, "items")',
        'end_time_unix_nano - start_time_unix_nano > 1480000000 and not IsBool(attributes["app.force_sample"])',
        'IsMatch(trace_id.string, "^00") and ToLowerCase(name) == "get /items"',
      ],
    },
  },
  {
    name: 'no-health',
    type: 'drop',
    drop: {
      drop_sub_policy: [
        { name: 'health', type: 'string_attribute', string_attribute: { key: 'http.route', values: ['/health'] } },
        { name: 'ok', type: 'status_code', status_code: { status_codes: ['OK'] } },
      ],
    },
  },
  {
    name: 'composite',
    type: 'composite',
    composite: {
      max_total_spans_per_second: 1_000_000,
      policy_order: ['web-slowish', 'none'],
      composite_sub_policy: [
        { name: 'web-slowish', type: 'latency', latency: { threshold_ms: 1000 } },
        { name: 'none', type: 'string_attribute', string_attribute: { key: 'http.route', values: ['/nope'] } },
      ],
      rate_allocation: [
        { policy: 'web-slowish', percent: 50 },
        { policy: 'none', percent: 50 },
      ],
    },
  },
];

describe('differential: tail_sampling against the OpenTelemetry Collector', function () {
  this.timeout(120_000);
  let peer: ChildProcess | undefined;
  let sink: http.Server | undefined;
  let dir: string;
  const keptByPeer = new Set<string>();

  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-diff-'))));
  after(async () => {
    if (peer && peer.exitCode === null) {
      peer.kill('SIGTERM');
      await new Promise((r) => peer?.once('exit', r));
    }
    await new Promise((r) => (sink ? sink.close(r) : r(undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the same traces with every deterministic policy type', async () => {
    const bin = peerBinary(); // throws with instructions when the stack has not built it
    const [otlpPort, sinkPort] = [await freePort(), await freePort()];
    sink = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        for (const rs of decodeTraces(Buffer.concat(parts))) {
          for (const ss of rs.scopeSpans) for (const s of ss.spans) keptByPeer.add(s.traceId);
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => sink?.listen(sinkPort, '127.0.0.1', r));

    const collectorConfig = {
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
      processors: { tail_sampling: { decision_wait: '2s', num_traces: 100_000, policies: POLICIES } },
      exporters: { otlphttp: { traces_endpoint: `http://127.0.0.1:${sinkPort}/v1/traces`, compression: 'none' } },
      service: {
        telemetry: { logs: { level: 'warn' }, metrics: { level: 'none' } },
        pipelines: { traces: { receivers: ['otlp'], processors: ['tail_sampling'], exporters: ['otlphttp'] } },
      },
    };
    const cfgFile = path.join(dir, 'collector.yaml');
    fs.writeFileSync(cfgFile, JSON.stringify(collectorConfig, null, 2));
    const log = fs.openSync(path.join(dir, 'peer.log'), 'w');
    peer = spawn(bin, ['--config', cfgFile], { cwd: dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    for (let i = 0; i < 200 && !(await portOpen(otlpPort)); i++) {
      if (peer.exitCode !== null)
        throw new Error(`collector exited: ${fs.readFileSync(path.join(dir, 'peer.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // Ours: convert the same config, load it, and run our processor on the same requests.
    const { tsk, remarks } = convertCollectorConfig(JSON.stringify(collectorConfig), 'collector.yaml');
    expect(
      remarks.filter((r) => r.kind === 'dropped'),
      JSON.stringify(remarks),
    ).to.deep.equal([]);
    const loaded = await loadServiceConfig('<converted>', { registry: builtinFactories(), source: tsk, env: {} });
    const tailCfg = [...loaded.components.values()].find((c) => c.type === 'tail_sampling')
      ?.config as TailSamplingConfig;
    const next = new FakeNext();
    const ours = new TailSamplingProcessor(settings(), tailCfg, next, {
      state: new FakeSamplingState(),
      autoTick: false,
    });
    await ours.start(HOST);

    const traces = traffic(600, Number(process.env.DIFF_SEED ?? 20));
    const settled: Promise<void>[] = [];
    for (let i = 0; i < traces.length; i += 50) {
      const body = encodeSpans(traces.slice(i, i + 50).flat());
      const res = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(res.status).to.equal(200);
      settled.push(ours.consumeTraces({ chunks: splitTracesByTraceId(body).chunks }));
    }
    await ours.flush();
    await Promise.all(settled);
    const keptByUs = new Set(next.exportedTraceIds());
    await ours.shutdown();

    // The Collector decides each trace decision_wait after its first span; wait until its output is quiet.
    await new Promise((r) => setTimeout(r, 4000)); // decision_wait (2s) and a tick (1s) after the last request
    let last = -1;
    for (let i = 0; i < 40 && keptByPeer.size !== last; i++) {
      last = keptByPeer.size;
      await new Promise((r) => setTimeout(r, 1500));
    }

    const onlyPeer = [...keptByPeer].filter((id) => !keptByUs.has(id));
    const onlyUs = [...keptByUs].filter((id) => !keptByPeer.has(id));
    if (process.env.DIFF_DUMP) {
      const byId = new Map(traces.map((t) => [t[0].traceId, t]));
      fs.writeFileSync(
        process.env.DIFF_DUMP,
        JSON.stringify(
          {
            peer: keptByPeer.size,
            us: keptByUs.size,
            onlyPeer: onlyPeer.slice(0, 5).map((id) => byId.get(id)),
            onlyUs: onlyUs.slice(0, 5).map((id) => byId.get(id)),
          },
          null,
          1,
        ),
      );
    }
    expect(keptByUs.size, 'kept traces').to.be.greaterThan(50).and.lessThan(600);
    expect({ onlyPeer, onlyUs }).to.deep.equal({ onlyPeer: [], onlyUs: [] });
  });
});

/** Rate-limited policies, each in its own pipeline (Collector) / processor (ours), fed at the same pace. */
const LIMITED: Record<string, unknown[]> = {
  spans: [{ name: 'spans-cap', type: 'rate_limiting', rate_limiting: { spans_per_second: 120 } }],
  // bytes_limiting is newer than the stack's Collector (contrib v0.140.1 rejects it): not compared.
  composite: [
    {
      name: 'budget',
      type: 'composite',
      composite: {
        max_total_spans_per_second: 160,
        policy_order: ['errors', 'rest'],
        composite_sub_policy: [
          { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
          { name: 'rest', type: 'always_sample' },
        ],
        rate_allocation: [
          { policy: 'errors', percent: 25 },
          { policy: 'rest', percent: 75 },
        ],
      },
    },
  ],
};

describe('differential: rate-limited policies against the OpenTelemetry Collector', function () {
  this.timeout(180_000);
  let peer: ChildProcess | undefined;
  let sink: http.Server | undefined;
  let dir: string;
  const keptByPeer = new Map<string, Set<string>>(Object.keys(LIMITED).map((k) => [k, new Set<string>()]));
  const peerSpans = new Map<string, number>();

  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-diff-rate-'))));
  after(async () => {
    if (peer && peer.exitCode === null) {
      peer.kill('SIGTERM');
      await new Promise((r) => peer?.once('exit', r));
    }
    await new Promise((r) => (sink ? sink.close(r) : r(undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps rates within 10% of the Collector's (rate_limiting, composite with budgets)", async () => {
    const bin = peerBinary();
    const [otlpPort, sinkPort] = [await freePort(), await freePort()];
    sink = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        const k = (req.url ?? '').split('/')[1];
        const kept = keptByPeer.get(k);
        for (const rs of decodeTraces(Buffer.concat(parts))) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) kept?.add(s.traceId);
            peerSpans.set(k, (peerSpans.get(k) ?? 0) + ss.spans.length);
          }
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => sink?.listen(sinkPort, '127.0.0.1', r));
    const processors: Record<string, unknown> = {};
    const exporters: Record<string, unknown> = {};
    const pipelines: Record<string, unknown> = {};
    for (const [k, policies] of Object.entries(LIMITED)) {
      processors[`tail_sampling/${k}`] = { decision_wait: '2s', num_traces: 100_000, policies };
      exporters[`otlphttp/${k}`] = {
        traces_endpoint: `http://127.0.0.1:${sinkPort}/${k}/v1/traces`,
        compression: 'none',
      };
      pipelines[`traces/${k}`] = {
        receivers: ['otlp'],
        processors: [`tail_sampling/${k}`],
        exporters: [`otlphttp/${k}`],
      };
    }
    const collectorConfig = {
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${otlpPort}` } } } },
      processors,
      exporters,
      service: { telemetry: { logs: { level: 'warn' }, metrics: { level: 'none' } }, pipelines },
    };
    const cfgFile = path.join(dir, 'collector.yaml');
    fs.writeFileSync(cfgFile, JSON.stringify(collectorConfig, null, 2));
    const log = fs.openSync(path.join(dir, 'peer.log'), 'w');
    peer = spawn(bin, ['--config', cfgFile], { cwd: dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    for (let i = 0; i < 200 && !(await portOpen(otlpPort)); i++) {
      if (peer.exitCode !== null)
        throw new Error(`collector exited: ${fs.readFileSync(path.join(dir, 'peer.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const { tsk, remarks } = convertCollectorConfig(JSON.stringify(collectorConfig), 'collector.yaml');
    expect(
      remarks.filter((r) => r.kind === 'dropped'),
      JSON.stringify(remarks),
    ).to.deep.equal([]);
    const loaded = await loadServiceConfig('<converted>', { registry: builtinFactories(), source: tsk, env: {} });
    const ours = new Map<string, { p: TailSamplingProcessor; next: FakeNext }>();
    for (const k of Object.keys(LIMITED)) {
      const cfg = loaded.components.get(`processors.tail_sampling_${k}`)?.config as TailSamplingConfig;
      const next = new FakeNext();
      const p = new TailSamplingProcessor(
        settings(`tail_sampling_${k}`),
        { ...cfg, root_settle_delay: cfg.decision_wait },
        next,
        {
          state: new FakeSamplingState(),
        },
      );
      await p.start(HOST);
      ours.set(k, { p, next });
    }

    // About 100 traces (300 spans) per second for 20 s, in requests every 100 ms sent to both at the same
    // moment (our token bucket's first full second is then ~5% of what is kept).
    const traces = traffic(2000, 5);
    const settled: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0; i < traces.length; i += 10) {
      const body = encodeSpans(traces.slice(i, i + 10).flat());
      const sent = fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      for (const { p } of ours.values()) settled.push(p.consumeTraces({ chunks: splitTracesByTraceId(body).chunks }));
      expect((await sent).status).to.equal(200);
      const due = t0 + ((i + 10) / 10) * 100;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    await Promise.all(settled);
    await new Promise((r) => setTimeout(r, 4000));
    const results: Record<string, { peer: number; us: number; peerSpans: number; usSpans: number }> = {};
    for (const [k, { p, next }] of ours) {
      await p.shutdown();
      const usSpans = next.traceBatches.reduce((n, b) => n + b.chunks.reduce((m, c) => m + c.spanCount, 0), 0);
      results[k] = {
        peer: keptByPeer.get(k)?.size ?? 0,
        us: new Set(next.exportedTraceIds()).size,
        peerSpans: peerSpans.get(k) ?? 0,
        usSpans,
      };
    }
    if (process.env.DIFF_DUMP) fs.writeFileSync(process.env.DIFF_DUMP, JSON.stringify(results));
    // Both limit SPANS per second, so the kept rate compared is spans/s. (Kept trace counts differ more: our
    // token bucket, decided every tick_interval, lets more small traces through than a per-second counter.)
    for (const [k, r] of Object.entries(results)) {
      expect(r.peerSpans, `${k}: ${JSON.stringify(r)}`)
        .to.be.greaterThan(500)
        .and.lessThan(5000);
      expect(Math.abs(r.usSpans - r.peerSpans) / r.peerSpans, `${k}: ${JSON.stringify(r)}`).to.be.lessThan(0.1);
    }
  });
});
