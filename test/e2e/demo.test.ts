// End to end on real processes and a real Jaeger: the demo's order, payment and inventory services
// (instrumented with tusk-collector/instrument, each its own process) send OTLP to the tusk-collector
// binary (embedded pipeline, test/fixtures/config/e2e-demo.tsk: errors, >= 400 ms, then 100%), which
// exports kept traces to Jaeger. A bounded run of the demo driver must give: one trace per order
// holding the spans of all three services with correct parent links across the HTTP hops, error paths
// kept by the errors policy, log lines that carry their request's trace_id and span_id, and service
// metrics whose counts match the driver's requests.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { drive } from '../../examples/demo/driver';
import { startService, type ServiceChild } from '../../examples/demo/processes';
import { COMPACT_CYCLE, type Scenario } from '../../examples/demo/scenarios';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { JAEGER_QUERY, getTrace, type JaegerSpan, type JaegerTrace } from '../helpers/jaeger';
import { freePort } from '../helpers/ports';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'e2e-demo.tsk');
/** Orders per attempt: three rounds of the 10-request COMPACT_CYCLE (every scenario in each round). */
const ORDERS = 30;

/** The spans each scenario produces: [service, operation, span.kind]. */
const ORDER_SPANS: Array<[string, string, string]> = [
  ['order', 'POST /orders', 'server'],
  ['order', 'validate-order', 'internal'],
];
const PAYMENT_SPANS: Array<[string, string, string]> = [
  ['order', 'POST /pay', 'client'],
  ['payment', 'POST /pay', 'server'],
  ['payment', 'charge-card', 'internal'],
];
const INVENTORY_SPANS: Array<[string, string, string]> = [
  ['order', 'POST /reserve', 'client'],
  ['inventory', 'POST /reserve', 'server'],
  ['inventory', 'reserve-stock', 'internal'],
];
const SPANS: Record<Scenario, Array<[string, string, string]>> = {
  ok: [...ORDER_SPANS, ...PAYMENT_SPANS, ...INVENTORY_SPANS],
  'slow-inventory': [...ORDER_SPANS, ...PAYMENT_SPANS, ...INVENTORY_SPANS],
  'inventory-error': [...ORDER_SPANS, ...PAYMENT_SPANS, ...INVENTORY_SPANS],
  'payment-error': [...ORDER_SPANS, ...PAYMENT_SPANS],
  invalid: ORDER_SPANS,
};
/** The policy that must have kept each scenario's trace. */
const POLICY: Record<Scenario, string> = {
  ok: 'rest',
  invalid: 'rest',
  'slow-inventory': 'slow',
  'payment-error': 'errors',
  'inventory-error': 'errors',
};
/** The spans that must carry error=true. */
const ERROR_SPANS: Record<Scenario, string[]> = {
  ok: [],
  invalid: [],
  'slow-inventory': [],
  'payment-error': ['order POST /orders', 'order POST /pay', 'payment POST /pay', 'payment charge-card'],
  'inventory-error': [
    'order POST /orders',
    'order POST /reserve',
    'inventory POST /reserve',
    'inventory reserve-stock',
  ],
};

/** ensureBuilt compiles dist/ when a source file is newer than the binary's entry (the binary runs dist). */
function ensureBuilt(): void {
  const entry = path.join(REPO_ROOT, 'dist', 'pipeline', 'runtime', 'cli', 'main.js');
  const builtAt = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
  const stale = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? stale(p) : e.name.endsWith('.ts') && fs.statSync(p).mtimeMs > builtAt;
    });
  if (
    builtAt > 0 &&
    !['pipeline', 'config', 'receivers', 'processors', 'exporters'].some((d) => stale(path.join(REPO_ROOT, d)))
  )
    return;
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (!fs.existsSync(entry)) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

async function waitForJaeger(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${JAEGER_QUERY}/api/services`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`Jaeger query API not answering on ${JAEGER_QUERY}: run \`bash scripts/stack/up.sh jaeger\``);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** scrape sums a Prometheus metric's samples whose labels include every `match` pair. */
async function scrape(url: string, name: string, match: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/gm)) {
    if (m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

describe('e2e: demo services -> tusk-collector (embedded) -> Jaeger', function () {
  this.timeout(240_000);
  const run = `${process.pid}-${Date.now().toString(36)}`;
  const names = { order: `order-${run}`, payment: `payment-${run}`, inventory: `inventory-${run}` };
  let collector: CollectorProcess | undefined;
  let adminPort = 0;
  const services: Partial<Record<'order' | 'payment' | 'inventory', ServiceChild>> = {};

  before(async function () {
    this.timeout(420_000);
    ensureBuilt();
    await waitForJaeger(60_000);
    const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    adminPort = admin;
    collector = await startCollector(FIXTURE, [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
    });
    const common = {
      TRACING_BACKEND: 'otlp',
      TRACING_ENDPOINT: `http://127.0.0.1:${http}/v1/traces`,
      SAMPLING_RATE: '1',
      DEMO_EXPORT_DELAY_MS: '100',
      DEMO_SLOW_MS: '600',
      LOG_LEVEL: 'info',
    };
    const start = async (svc: 'order' | 'payment' | 'inventory', extra: Record<string, string> = {}) => {
      services[svc] = await startService(svc, {
        ...common,
        SERVICE_NAME: names[svc],
        PORT: '0',
        METRICS_PORT: String(await freePort()),
        ...extra,
      });
      return services[svc]!;
    };
    const [payment, inventory] = await Promise.all([start('payment'), start('inventory')]);
    await start('order', { PAYMENT_URL: payment.url, INVENTORY_URL: inventory.url });
  });

  after(async () => {
    await Promise.all(Object.values(services).map((s) => s!.stop('SIGTERM', 15_000)));
    const code = await collector?.stop('SIGTERM');
    if (code !== undefined && code !== 0) console.error(collector?.output());
  });

  it('keeps one complete, correctly linked trace per order, correlates logs and counts every request', async function () {
    const order = services.order!;
    const payment = services.payment!;
    const inventory = services.inventory!;
    const metric = (s: ServiceChild, name: string, match?: Record<string, string>) =>
      scrape(s.metricsUrl!, name, match);
    const counters = async () => ({
      orderReq: await metric(order, 'http_requests_total'),
      order200: await metric(order, 'http_requests_total', { http_status_code: '200' }),
      order502: await metric(order, 'http_requests_total', { http_status_code: '502' }),
      order400: await metric(order, 'http_requests_total', { http_status_code: '400' }),
      orderErr: await metric(order, 'http_errors_total'),
      orderDur: await metric(order, 'http_request_duration_seconds_count'),
      orderTrace: await metric(order, 'trace_duration_ms_count'),
      payReq: await metric(payment, 'http_requests_total'),
      payErr: await metric(payment, 'http_errors_total', { http_status_code: '503' }),
      payTrace: await metric(payment, 'trace_duration_ms_count'),
      invReq: await metric(inventory, 'http_requests_total'),
      invErr: await metric(inventory, 'http_errors_total', { http_status_code: '500' }),
      invTrace: await metric(inventory, 'trace_duration_ms_count'),
    });
    const before = await counters();

    // bounded traffic: 30 orders, 4 in flight
    const results = await drive({
      orderUrl: order.url,
      count: ORDERS,
      cycle: COMPACT_CYCLE,
      ratePerSec: 0,
      concurrency: 4,
      requestTimeoutMs: 15_000,
    });
    expect(results).to.have.length(ORDERS);
    for (const r of results)
      expect(r.expected, `order ${r.index} (${r.scenario}) answered ${r.status} ${r.error ?? ''}`).to.equal(true);
    const ids = results.map((r) => r.traceId);
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size, 'one trace per order').to.equal(ORDERS);
    const count = (s: Scenario) => results.filter((r) => r.scenario === s).length;
    expect([
      count('ok'),
      count('payment-error'),
      count('inventory-error'),
      count('slow-inventory'),
      count('invalid'),
    ]).to.deep.equal([18, 3, 3, 3, 3]);

    // every trace reaches Jaeger complete (the fixture keeps everything; the policy tells why)
    const traces = new Map<string, JaegerTrace>();
    const deadline = Date.now() + 60_000;
    for (const r of results) {
      const want = SPANS[r.scenario].length;
      let t: JaegerTrace | undefined;
      while (Date.now() < deadline) {
        t = await getTrace(r.traceId!).catch(() => undefined);
        if (t && t.spans.length >= want) break;
        await new Promise((res) => setTimeout(res, 250));
      }
      expect(t?.spans.length ?? 0, `spans of ${r.scenario} trace ${r.traceId} in Jaeger`).to.equal(want);
      traces.set(r.traceId!, t!);
    }

    const service = (t: JaegerTrace, s: JaegerSpan) => t.processes[s.processID].serviceName;
    for (const r of results) {
      const t = traces.get(r.traceId!)!;
      const label = `${r.scenario} trace ${r.traceId}`;
      const find = (svc: string, op: string, kind: string): JaegerSpan => {
        const found = t.spans.filter(
          (s) =>
            service(t, s) === names[svc as keyof typeof names] &&
            s.operationName === op &&
            (tag(s, 'span.kind') ?? 'internal') === kind,
        );
        expect(found, `${label}: ${svc} ${op} (${kind})`).to.have.length(1);
        return found[0];
      };
      const spans = SPANS[r.scenario].map(([svc, op, kind]) => ({ svc, op, span: find(svc, op, kind) }));
      const get = (svc: string, op: string, kind: string) => find(svc, op, kind);
      const parentOf = (s: JaegerSpan) => s.references.find((ref) => ref.refType === 'CHILD_OF')?.spanID;

      // parent links, within each service and across the HTTP hops
      const root = get('order', 'POST /orders', 'server');
      expect(root.references, `${label}: order's server span is the root`).to.deep.equal([]);
      expect(parentOf(get('order', 'validate-order', 'internal'))).to.equal(root.spanID);
      if (r.scenario !== 'invalid') {
        const payClient = get('order', 'POST /pay', 'client');
        const payServer = get('payment', 'POST /pay', 'server');
        expect(parentOf(payClient)).to.equal(root.spanID);
        expect(parentOf(payServer), `${label}: payment continues order's client span`).to.equal(payClient.spanID);
        expect(parentOf(get('payment', 'charge-card', 'internal'))).to.equal(payServer.spanID);
      }
      if (SPANS[r.scenario].some(([svc]) => svc === 'inventory')) {
        const invClient = get('order', 'POST /reserve', 'client');
        const invServer = get('inventory', 'POST /reserve', 'server');
        expect(parentOf(invClient)).to.equal(root.spanID);
        expect(parentOf(invServer), `${label}: inventory continues order's client span`).to.equal(invClient.spanID);
        expect(parentOf(get('inventory', 'reserve-stock', 'internal'))).to.equal(invServer.spanID);
      }
      // the deciding policy on every span, errors exactly where the failure was
      for (const { span } of spans)
        expect(tag(span, 'sampling.policy'), `${label}: policy of ${span.operationName}`).to.equal(POLICY[r.scenario]);
      const failed = spans.filter(({ span }) => tag(span, 'error') === true).map(({ svc, op }) => `${svc} ${op}`);
      expect(failed.sort(), `${label}: spans with error=true`).to.deep.equal([...ERROR_SPANS[r.scenario]].sort());
      expect(tag(root, 'http.status_code')).to.equal(r.status);
      expect(tag(root, 'http.user_agent')).to.equal('tusk-demo-driver/1.0');

      // log lines written inside the request carry its trace_id and the span active at the time
      const logLine = (svc: ServiceChild, msg: string) =>
        svc.logs().filter((l) => l.msg === msg && l.trace_id === r.traceId);
      const orderLines = logLine(order, 'order received');
      expect(orderLines, `${label}: order's log line`).to.have.length(1);
      expect(orderLines[0].span_id).to.equal(root.spanID);
      if (r.scenario !== 'invalid') {
        const payLines = logLine(payment, 'charging card');
        expect(payLines, `${label}: payment's log line`).to.have.length(1);
        expect(payLines[0].span_id).to.equal(get('payment', 'POST /pay', 'server').spanID);
      }
      if (SPANS[r.scenario].some(([svc]) => svc === 'inventory')) {
        const invLines = logLine(inventory, 'reserving stock');
        expect(invLines, `${label}: inventory's log line`).to.have.length(1);
        expect(invLines[0].span_id).to.equal(get('inventory', 'POST /reserve', 'server').spanID);
      }
    }

    // the sampler explains its decisions for the error paths
    for (const r of results.filter((x) => x.scenario === 'payment-error' || x.scenario === 'inventory-error')) {
      const res = await fetch(`http://127.0.0.1:${adminPort}/v1/decisions/${r.traceId}`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.include({ decision: 'sampled', policy: 'errors' });
    }

    // service metrics count exactly the driver's requests (server side; the kit records them when each response ends)
    const ok = count('ok') + count('slow-inventory');
    const reachedPayment = ORDERS - count('invalid');
    const reachedInventory = reachedPayment - count('payment-error');
    const after = await counters();
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
    expect(delta).to.deep.equal({
      orderReq: ORDERS,
      order200: ok,
      order502: count('payment-error') + count('inventory-error'),
      order400: count('invalid'),
      orderErr: count('payment-error') + count('inventory-error'),
      orderDur: ORDERS,
      orderTrace: ORDERS,
      payReq: reachedPayment,
      payErr: count('payment-error'),
      payTrace: reachedPayment,
      invReq: reachedInventory,
      invErr: count('inventory-error'),
      invTrace: reachedInventory,
    });
  });

  it('labels the spans with the services that made them (resource service.name)', async () => {
    const res = await fetch(`${JAEGER_QUERY}/api/services`);
    const known = ((await res.json()) as { data: string[] }).data;
    for (const n of Object.values(names)) expect(known).to.include(n);
  });
});
