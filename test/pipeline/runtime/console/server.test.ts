// The console on the admin server: the UI at /ui/ (and a clear 503 when it is not built), the /v1/ endpoints
// with their bad-input answers (malformed id, unknown trace, Jaeger unreachable, bad parameters), the
// decisions stream filters, sampling and pipeline figures, the effective config without secrets, and the
// optional bearer token (header or cookie) on /ui/ and /v1/ while probes stay open.

import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { AdminServer } from '../../../../pipeline/runtime/admin/server';
import { Console } from '../../../../pipeline/runtime/console/server';
import { ConsoleApi, type ConsoleSource } from '../../../../pipeline/runtime/console/api';
import { JaegerQuery } from '../../../../pipeline/runtime/console/jaeger-query';
import { MetricsRing } from '../../../../pipeline/runtime/console/ring';
import type { DecisionRecord } from '../../../../pipeline/sdk/component';
import type { DecisionSummary, InsightsProvider, SamplingInsights } from '../../../../pipeline/sdk/insights';

const KEPT = '1'.repeat(32);
const DROPPED = '2'.repeat(32);
const UNKNOWN = '3'.repeat(32);

const decisions: Record<string, DecisionRecord> = {
  [KEPT]: {
    traceId: KEPT,
    decision: 'sampled',
    policy: 'errors',
    reason: 'span 01 has status ERROR',
    inputs: {},
    decidedAt: 10,
  },
  [DROPPED]: {
    traceId: DROPPED,
    decision: 'not_sampled',
    policy: '(none)',
    reason: 'no policy sampled the trace',
    inputs: {},
    decidedAt: 11,
  },
};

const insights: SamplingInsights = {
  kind: 'sampling',
  policies: [{ name: 'errors', type: 'status_code' }],
  state: 'memory',
  latency: [
    { service: 'shop', operation: 'GET /cart', p50Us: 1000, p95Us: 9000, p99Us: 12000, count: 150, thresholds: [] },
  ],
  services: [],
  targets: [],
  buffer: { traces: 4, spans: 9, bytes: 1000, exportingBytes: 0 },
};
const recent: DecisionSummary[] = [
  { traceId: KEPT, decision: 'sampled', policy: 'errors', reason: 'r', decidedAt: 10 },
  { traceId: DROPPED, decision: 'not_sampled', policy: '(none)', reason: 'r', decidedAt: 11 },
];
const provider: InsightsProvider = {
  insights: () => insights,
  recentDecisions: (n) => recent.slice().reverse().slice(0, n),
};

function source(): ConsoleSource {
  return {
    serviceName: 'test',
    startedAt: Date.now() - 5000,
    status: () => [
      { id: 'receivers.otlp', started: true, ready: true },
      { id: 'processors.tail_sampling@traces', started: true, ready: true, detail: 'memory' },
      { id: 'exporters.jaeger', started: true, ready: false, detail: 'Jaeger unreachable: ECONNREFUSED' },
    ],
    explainDecision: async (id) => decisions[id],
    insightProviders: () => [{ id: 'processors.tail_sampling@traces', pipeline: 'traces', provider }],
    pipelines: () => [
      { name: 'traces', signal: 'traces', receivers: ['otlp'], processors: ['tail_sampling'], exporters: ['jaeger'] },
    ],
    components: () => [
      { id: 'receivers.otlp', type: 'otlp', config: {} },
      { id: 'processors.tail_sampling', type: 'tail_sampling', config: { state: 'memory' } },
      {
        id: 'exporters.jaeger',
        type: 'jaeger',
        config: { endpoint: 'http://u:secretpw@127.0.0.1:14268/api/traces', password: 'hunter2' },
      },
    ],
    configFile: () => '/etc/tusk/embedded.tsk',
    configDocument: () => ({ service: { console: { token: 's3cret' } } }),
    serviceSection: () => ({ admin: '127.0.0.1:0', console: { token: 's3cret', jaeger_query: 'http://x' } }),
    lastReload: () => ({
      at: 5,
      ok: false,
      trigger: 'SIGHUP',
      problems: ['pipeline "traces" changed its wiring; restart to apply'],
    }),
  };
}

async function startAdmin(opts: { token?: string; staticDir: string; jaeger: string }) {
  const metrics = new Registry();
  const spans = new Counter({
    name: 'tusk_receiver_spans_total',
    help: 'h',
    labelNames: ['receiver', 'outcome', 'reason'],
    registers: [metrics],
  });
  const logger = pino({ level: 'silent' });
  const webConsole = new Console(
    source(),
    metrics,
    { jaegerQuery: opts.jaeger, token: opts.token ?? '', staticDir: opts.staticDir, jaegerTimeoutMs: 1000 },
    logger,
  );
  const server = new AdminServer(
    { status: () => [], explainDecision: async (id) => decisions[id], configDocument: () => ({}) },
    metrics,
    logger,
    webConsole,
  );
  const addr = await server.listen('127.0.0.1:0');
  return { server, webConsole, spans, base: `http://127.0.0.1:${addr.port}` };
}

describe('pipeline/runtime/console: endpoints and UI on the admin server', () => {
  let jaeger: http.Server;
  let jaegerUrl: string;
  let staticDir: string;
  let admin: Awaited<ReturnType<typeof startAdmin>>;

  before(async () => {
    jaeger = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === `/api/traces/${KEPT}`) {
        return res.end(
          JSON.stringify({
            data: [
              {
                traceID: KEPT,
                processes: { p: { serviceName: 'shop' } },
                spans: [
                  {
                    traceID: KEPT,
                    spanID: '01',
                    operationName: 'GET /cart',
                    startTime: 1,
                    duration: 2,
                    processID: 'p',
                  },
                ],
              },
            ],
          }),
        );
      }
      res.statusCode = 404;
      res.end('{"data":null}');
    });
    await new Promise<void>((r) => jaeger.listen(0, '127.0.0.1', r));
    jaegerUrl = `http://127.0.0.1:${(jaeger.address() as AddressInfo).port}`;
    staticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-console-ui-'));
    fs.mkdirSync(path.join(staticDir, 'assets'));
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>console</title>');
    fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'void 0;');
    admin = await startAdmin({ staticDir, jaeger: jaegerUrl });
  });
  after(async () => {
    await admin.server.close();
    await new Promise<void>((r) => jaeger.close(() => r()));
    fs.rmSync(staticDir, { recursive: true, force: true });
  });

  const get = async (p: string, init?: RequestInit) => {
    const res = await fetch(admin.base + p, { redirect: 'manual', ...init });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  it('serves the UI files at /ui/, redirects /ui to it, leaves / to health, and refuses paths outside the bundle', async () => {
    const index = await get('/ui/');
    expect(index.status).to.equal(200);
    expect(index.headers.get('content-type')).to.contain('text/html');
    expect((await get('/ui/assets/app.js')).headers.get('content-type')).to.contain('text/javascript');
    expect((await get('/ui')).headers.get('location')).to.equal('/ui/');
    const health = await get('/');
    expect(health.status).to.equal(200);
    expect(health.json().status).to.equal('Server available');
    expect((await get('/ui/assets/missing.js')).status).to.equal(404);
    expect((await get('/ui/..%2F..%2Fpackage.json')).status).to.equal(404);
  });

  it('says how to build the UI when it is not built', async () => {
    const bare = await startAdmin({ staticDir: path.join(staticDir, 'nothing'), jaeger: jaegerUrl });
    try {
      const res = await fetch(`${bare.base}/ui/`);
      expect(res.status).to.equal(503);
      expect(await res.text()).to.contain('npm run build');
    } finally {
      await bare.server.close();
    }
  });

  it('answers a trace with its decision; a malformed id with 400; dropped or unknown: 404 in words', async () => {
    const kept = (await get(`/v1/traces/${KEPT.toUpperCase()}`)).json();
    expect((kept.trace as { spans: unknown[] }).spans).to.have.length(1);
    expect((kept.decision as DecisionRecord).policy).to.equal('errors');
    const bad = await get('/v1/traces/not-a-trace');
    expect(bad.status).to.equal(400);
    expect(bad.json()).to.deep.include({ code: 'ERR_CONSOLE_BAD_TRACE_ID' });
    expect(bad.json().error).to.contain('is not a trace id');
    const dropped = await get(`/v1/traces/${DROPPED}`);
    expect(dropped.status).to.equal(404);
    expect(dropped.json().error).to.equal(
      `trace ${DROPPED} was dropped because no policy kept it, so Jaeger does not have it`,
    );
    expect((dropped.json().decision as DecisionRecord).decision).to.equal('not_sampled');
    const unknown = await get(`/v1/traces/${UNKNOWN}`);
    expect(unknown.status).to.equal(404);
    expect(unknown.json()).to.deep.include({ code: 'ERR_CONSOLE_TRACE_NOT_FOUND', decision: null });
    expect((await get(`/v1/decisions/${KEPT}`)).status, 'the admin server still answers decisions').to.equal(200);
  });

  it('checks search parameters before asking Jaeger', async () => {
    expect((await get('/v1/traces')).json().error).to.contain('service is required');
    expect((await get('/v1/traces?service=shop&minDuration=fast')).json().error).to.contain('is not a duration');
    expect((await get('/v1/traces?service=shop&limit=0')).status).to.equal(400);
    expect((await get('/v1/traces?service=shop&tags=oops')).json().error).to.contain('"oops" is not k=v');
  });

  it('says Jaeger is unreachable, yet still shows the decision of a trace', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const noJaeger = await startAdmin({ staticDir, jaeger: `http://127.0.0.1:${port}` });
    try {
      const search = await fetch(`${noJaeger.base}/v1/traces?service=shop`);
      expect(search.status).to.equal(502);
      expect(((await search.json()) as { error: string }).error).to.contain(
        `Jaeger query API at http://127.0.0.1:${port} is unreachable`,
      );
      const trace = await fetch(`${noJaeger.base}/v1/traces/${DROPPED}`);
      expect(trace.status).to.equal(404);
      const body = (await trace.json()) as { error: string; decision: DecisionRecord };
      expect(body.error).to.contain('is unreachable');
      expect(body.decision.policy).to.equal('(none)');
      expect((await fetch(`${noJaeger.base}/v1/traces/${UNKNOWN}`)).status).to.equal(502);
    } finally {
      await noJaeger.server.close();
    }
  });

  it('streams recent decisions filtered by outcome, policy and time', async () => {
    const all = (await get('/v1/decisions')).json().decisions as DecisionSummary[];
    expect(all.map((d) => d.traceId)).to.deep.equal([DROPPED, KEPT]);
    const kept = (await get('/v1/decisions?outcome=sampled')).json().decisions as DecisionSummary[];
    expect(kept.map((d) => d.traceId)).to.deep.equal([KEPT]);
    expect(
      ((await get('/v1/decisions?policy=(none)')).json().decisions as DecisionSummary[]).map((d) => d.traceId),
    ).to.deep.equal([DROPPED]);
    expect(
      ((await get('/v1/decisions?since=10')).json().decisions as DecisionSummary[]).map((d) => d.traceId),
    ).to.deep.equal([DROPPED]);
    expect((await get('/v1/decisions?outcome=maybe')).status).to.equal(400);
  });

  it('reports sampling figures and the pipeline graph with rates from the ring and health reasons', async () => {
    await admin.webConsole.ring.sample();
    admin.spans.inc({ receiver: 'receivers.otlp', outcome: 'accepted', reason: '' }, 500);
    await new Promise((r) => setTimeout(r, 50));
    await admin.webConsole.ring.sample();
    const sampling = (await get('/v1/sampling')).json() as {
      processors: Array<{ latency: unknown[]; policies: Array<{ name: string }> }>;
    };
    expect(sampling.processors[0].latency).to.have.length(1);
    expect(sampling.processors[0].policies.map((p) => p.name)).to.deep.equal(['errors', '(none)']);
    const graph = (await get('/v1/pipeline')).json() as {
      pipelines: Array<{
        stages: Array<Array<{ id: string; rates: Record<string, number>; ready: boolean; detail: string }>>;
      }>;
      buffered: { traces: number };
      dependencies: Array<{ name: string; ready: boolean; detail: string }>;
    };
    const [receivers, processors, exporters] = graph.pipelines[0].stages;
    expect(receivers[0].id).to.equal('receivers.otlp');
    expect(receivers[0].rates.accepted).to.be.greaterThan(0);
    expect(processors[0].id).to.equal('processors.tail_sampling');
    expect(exporters[0]).to.include({
      id: 'exporters.jaeger',
      ready: false,
      detail: 'Jaeger unreachable: ECONNREFUSED',
    });
    expect(graph.buffered.traces).to.equal(4);
    expect(graph.dependencies).to.deep.include({
      degraded: false,
      name: 'exporters.jaeger',
      ready: false,
      detail: 'Jaeger unreachable: ECONNREFUSED',
    });
    const status = (await get('/v1/status')).json();
    expect(status).to.include({ mode: 'embedded', ready: false, file: '/etc/tusk/embedded.tsk' });
  });

  it('shows the effective config and the last reload without any secret', async () => {
    const res = await get('/v1/config/effective');
    expect(res.status).to.equal(200);
    expect(res.text).to.not.contain('s3cret').and.not.contain('hunter2').and.not.contain('secretpw');
    const body = res.json() as {
      lastReload: { ok: boolean };
      components: Array<{ id: string; config: Record<string, unknown> }>;
    };
    expect(body.lastReload.ok).to.equal(false);
    expect(body.components[2].config.password).to.equal('***');
  });

  it('says in words why a replica has no list of replicas, and lists them when it has one', async () => {
    const none = await get('/v1/replicas');
    expect(none.status).to.equal(200);
    expect(none.json()).to.deep.include({ mode: 'embedded', available: false });
    expect(String(none.json().reason)).to.contain('embedded mode: the whole pipeline runs in this one process');
    const ingest = new ConsoleApi(
      { ...source(), components: () => [{ id: 'exporters.spans', type: 'kafka', config: {} }] },
      new MetricsRing(new Registry()),
      new JaegerQuery(jaegerUrl),
    );
    expect(ingest.replicas()).to.deep.include({ mode: 'cluster', available: false });
    expect((ingest.replicas() as { reason: string }).reason).to.contain('no Redis settings');
    const self = {
      id: 'r1',
      pipelines: ['sample'],
      adminUrl: null,
      version: '1',
      hostname: 'h',
      startedAt: 1,
      lastSeen: 2,
    };
    const listed = new ConsoleApi(
      {
        ...source(),
        replicas: () => ({
          available: true,
          self,
          replicas: [{ ...self, self: true, stale: false }],
          refreshMs: 5000,
          ttlMs: 15000,
          refreshedAt: 2,
          error: null,
        }),
      },
      new MetricsRing(new Registry()),
      new JaegerQuery(jaegerUrl),
    );
    expect(listed.replicas()).to.deep.include({ available: true, mode: 'embedded', ttlMs: 15000 });
  });

  it('with a token: /ui/ and /v1/ need it (bearer or the cookie /ui/?token= sets), probes do not', async () => {
    const locked = await startAdmin({ staticDir, jaeger: jaegerUrl, token: 'tok-123' });
    try {
      const plain = await fetch(`${locked.base}/v1/status`);
      expect(plain.status).to.equal(401);
      expect(plain.headers.get('www-authenticate')).to.contain('Bearer');
      expect((await fetch(`${locked.base}/v1/config`)).status, "the admin server's own /v1/ too").to.equal(401);
      expect((await fetch(`${locked.base}/v1/decisions/${KEPT}`)).status).to.equal(401);
      expect((await fetch(`${locked.base}/v1/status`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(
        401,
      );
      expect(
        (await fetch(`${locked.base}/v1/status`, { headers: { authorization: 'Bearer tok-123' } })).status,
      ).to.equal(200);
      const page = await fetch(`${locked.base}/ui/`);
      expect(page.status).to.equal(401);
      expect(await page.text()).to.contain('/ui/?token=');
      const login = await fetch(`${locked.base}/ui/?token=tok-123`, { redirect: 'manual' });
      expect(login.status).to.equal(303);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
      expect(login.headers.get('set-cookie')).to.contain('HttpOnly');
      expect((await fetch(`${locked.base}/ui/`, { headers: { cookie } })).status).to.equal(200);
      expect((await fetch(`${locked.base}/v1/status`, { headers: { cookie } })).status).to.equal(200);
      expect((await fetch(`${locked.base}/ui/?token=nope`)).status).to.equal(401);
      expect((await fetch(`${locked.base}/healthz`)).status).to.equal(200);
      expect((await fetch(`${locked.base}/metrics`)).status).to.equal(200);
    } finally {
      await locked.server.close();
    }
  });
});
