// `npm run demo`: starts tusk-collector (the embedded default, or the cluster tiers with --cluster),
// the order, payment and inventory services instrumented with tusk-collector/instrument, and the
// traffic driver; prints where to look; stops cleanly on Ctrl-C or after --duration seconds.
// Everything listens on 127.0.0.1; a default port that is taken is replaced by a free one.
//
//   npm run demo [-- --duration 30] [--rate 5] [--config FILE | --cluster]

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { drive, summarize, type DriveResult } from './driver';
import {
  REPO_ROOT,
  startCollectorChild,
  startService,
  type Child,
  type ServiceChild,
  type ServiceName,
} from './processes';
import { SCENARIO_CYCLE, type Scenario } from './scenarios';

const USAGE = `Usage: npm run demo -- [--duration SECONDS] [--rate ORDERS_PER_SEC] [--config FILE | --cluster]

  --duration N   stop by itself after N seconds of traffic (default: run until Ctrl-C)
  --rate R       orders per second sent by the driver (default 5)
  --config FILE  pipeline file for tusk-collector (default config/embedded.tsk: one process, no Kafka/Redis)
  --cluster      run config/cluster.tsk instead (both tiers; needs Kafka and Redis: npm run stack:up)
Jaeger (where kept traces go) is expected on 127.0.0.1 (npm run stack:up jaeger); JAEGER_ENDPOINT and
JAEGER_QUERY override its thrift and query URLs.`;

const JAEGER_QUERY = process.env.JAEGER_QUERY ?? 'http://127.0.0.1:16686';
const SUMMARY_EVERY_MS = 5_000;
/** Signals this soon after the first one are relayed copies of it, not a second Ctrl-C. */
const DUPLICATE_SIGNAL_MS = 1_000;
/** How long the final report waits for the sampler to decide the latest traces (root_settle_delay is 2 s). */
const DECISION_WAIT_MS = 5_000;

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

/** portFree tells whether 127.0.0.1:port can be bound now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** pickPort returns `preferred` when it is free (and not already chosen), else a free ephemeral port. */
async function pickPort(preferred: number, taken: Set<number>): Promise<number> {
  let port = preferred;
  if (taken.has(port) || !(await portFree(port))) {
    port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
  }
  taken.add(port);
  return port;
}

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** decisionTotals reads tusk_sampler_decisions_total from the collector's admin /metrics. */
async function decisionTotals(adminUrl: string): Promise<string> {
  try {
    const text = await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const by = new Map<string, number>();
    for (const m of text.matchAll(/^tusk_sampler_decisions_total\{([^}]*)\} ([0-9.e+]+)$/gm)) {
      const policy = /policy="([^"]*)"/.exec(m[1])?.[1] ?? '?';
      const decision = /decision="([^"]*)"/.exec(m[1])?.[1] ?? '?';
      const key = decision === 'sampled' ? `kept by ${policy}` : decision.replace('_', ' ');
      by.set(key, (by.get(key) ?? 0) + Number(m[2]));
    }
    return by.size === 0 ? 'no decisions yet' : [...by.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
  } catch {
    return 'admin not answering';
  }
}

async function decisionOf(adminUrl: string, traceId: string): Promise<string> {
  try {
    const res = await fetch(`${adminUrl}/v1/decisions/${traceId}`, { signal: AbortSignal.timeout(2000) });
    if (res.status === 404) return 'not decided yet';
    const d = (await res.json()) as { decision?: string; policy?: string };
    return `${d.decision ?? '?'} (policy ${d.policy ?? '?'})`;
  } catch {
    return 'admin not answering';
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        duration: { type: 'string' },
        rate: { type: 'string', default: '5' },
        config: { type: 'string' },
        cluster: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const durationS = args.duration === undefined ? undefined : Number(args.duration);
  if (durationS !== undefined && !(durationS > 0))
    fail(`--duration must be a number of seconds > 0, got ${args.duration}`);
  const rate = Number(args.rate);
  if (!(rate > 0 && rate <= 1000)) fail(`--rate must be in (0, 1000], got ${args.rate}`);
  if (args.cluster && args.config) fail('--cluster and --config exclude each other');
  const config = path.resolve(REPO_ROOT, args.config ?? (args.cluster ? 'config/cluster.tsk' : 'config/embedded.tsk'));
  if (!fs.existsSync(config)) fail(`no such pipeline file: ${config}`);
  if (args.cluster) {
    for (const [what, port] of [
      ['Kafka', 9092],
      ['Redis', 6379],
    ] as const) {
      if (!(await reachable('127.0.0.1', port)))
        fail(`--cluster needs ${what} on 127.0.0.1:${port}: run \`npm run stack:up\` first`);
    }
  }

  const taken = new Set<number>();
  const ports = {
    otlpHttp: await pickPort(4318, taken),
    otlpGrpc: await pickPort(4317, taken),
    admin: await pickPort(13133, taken),
    order: await pickPort(8081, taken),
    payment: await pickPort(8082, taken),
    inventory: await pickPort(8083, taken),
    orderMetrics: await pickPort(9464, taken),
    paymentMetrics: await pickPort(9465, taken),
    inventoryMetrics: await pickPort(9466, taken),
  };
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-demo-'));
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const jaegerUp = await fetch(`${JAEGER_QUERY}/api/services`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );

  const children: Child[] = [];
  let hardStop = false;
  const killAll = () => {
    for (const c of children) void c.stop('SIGKILL');
  };
  const ac = new AbortController();
  // npm and tsx relay a terminal's Ctrl-C to this process too: copies arriving within a second are one press
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    const now = Date.now();
    if (firstSignalAt === 0) {
      firstSignalAt = now;
      process.stdout.write(
        `\n${sig}: stopping the driver, then the services (they flush), then the collector (it drains)... (again to kill)\n`,
      );
      ac.abort();
    } else if (now - firstSignalAt > DUPLICATE_SIGNAL_MS) {
      hardStop = true;
      killAll();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const out = (s: string) => process.stdout.write(s + '\n');
  out(`tusk-collector demo: order -> (validate, payment, inventory), traced with tusk-collector/instrument`);
  out(`starting tusk-collector (${path.relative(REPO_ROOT, config)}) and the services; logs in ${logDir}`);
  try {
    const collector = await startCollectorChild(
      config,
      {
        OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.otlpHttp}`,
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.otlpGrpc}`,
        TUSK_ADMIN_ENDPOINT: `127.0.0.1:${ports.admin}`,
        TUSK_LOG_LEVEL: process.env.TUSK_LOG_LEVEL ?? 'info',
        ...(args.cluster
          ? { TUSK_SPANS_TOPIC: 'tusk-demo-spans', TUSK_SAMPLER_GROUP: 'tusk-demo', TUSK_REDIS_PREFIX: 'tusk-demo:' }
          : {}),
      },
      path.join(logDir, 'collector.log'),
    );
    children.push(collector);
    if (ac.signal.aborted) throw new Error('interrupted');
    const common = { TRACING_ENDPOINT: `http://127.0.0.1:${ports.otlpHttp}/v1/traces`, TRACING_BACKEND: 'otlp' };
    const start = async (
      name: ServiceName,
      port: number,
      metrics: number,
      extra: Record<string, string> = {},
    ): Promise<ServiceChild> => {
      const s = await startService(
        name,
        { ...common, SERVICE_NAME: name, PORT: String(port), METRICS_PORT: String(metrics), ...extra },
        path.join(logDir, `${name}.log`),
      );
      children.push(s);
      return s;
    };
    const [payment, inventory] = await Promise.all([
      start('payment', ports.payment, ports.paymentMetrics),
      start('inventory', ports.inventory, ports.inventoryMetrics),
    ]);
    const order = await start('order', ports.order, ports.orderMetrics, {
      PAYMENT_URL: payment.url,
      INVENTORY_URL: inventory.url,
    });
    if (ac.signal.aborted) throw new Error('interrupted');

    const mix = new Map<Scenario, number>();
    for (const s of SCENARIO_CYCLE) mix.set(s, (mix.get(s) ?? 0) + 1);
    out('');
    out(
      `  tusk-collector  OTLP http://127.0.0.1:${ports.otlpHttp}/v1/traces, grpc 127.0.0.1:${ports.otlpGrpc}; admin ${adminUrl}`,
    );
    for (const s of [order, payment, inventory])
      out(`  ${s.name.padEnd(15)} ${s.url}   metrics ${s.metricsUrl ?? '-'}`);
    out(
      `  driver          ${rate} orders/s to ${order.url}/orders; per ${SCENARIO_CYCLE.length}: ${[...mix.entries()].map(([s, n]) => `${n} ${s}`).join(', ')}`,
    );
    out('');
    out('Where to look:');
    out(
      `  kept traces        ${JAEGER_QUERY}/api/traces?service=order&limit=20   (after the tail sampler decided: ~2 s after each trace's root)`,
    );
    out(`  one trace          ${JAEGER_QUERY}/api/traces/<trace_id>   (order answers each request with its trace_id)`);
    out(`  sampler decision   ${adminUrl}/v1/decisions/<trace_id>`);
    out(`  collector metrics  ${adminUrl}/metrics   (tusk_sampler_decisions_total{policy,decision}, ...)`);
    out(
      `  service metrics    ${order.metricsUrl}   (http_requests_total, http_request_duration_seconds, http_errors_total, trace_duration_ms)`,
    );
    out(`  logs               ${logDir}/{order,payment,inventory}.log   (JSON lines with trace_id, span_id)`);
    if (!jaegerUp)
      out(
        `  NOTE: Jaeger is not answering on ${JAEGER_QUERY}: start it with \`npm run stack:up jaeger\` (the collector retries its exports meanwhile)`,
      );
    out(durationS === undefined ? 'Press Ctrl-C to stop.' : `Running for ${durationS} s (Ctrl-C stops earlier).`);
    out('');

    const examples = new Map<Scenario, DriveResult>();
    const sent: DriveResult[] = [];
    const t0 = Date.now();
    const ticker = setInterval(() => {
      void decisionTotals(adminUrl).then((d) =>
        out(
          `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${sent.length} orders: ${summarize(sent)}; collector: ${d}`,
        ),
      );
    }, SUMMARY_EVERY_MS);
    let results: DriveResult[];
    try {
      results = await drive({
        orderUrl: order.url,
        ratePerSec: rate,
        concurrency: 8,
        durationMs: durationS === undefined ? undefined : durationS * 1000,
        signal: ac.signal,
        onResult: (r) => {
          if (sent.length < 100_000) sent.push(r);
          if (r.traceId) examples.set(r.scenario, r); // the latest of each scenario
        },
      });
    } finally {
      clearInterval(ticker);
    }
    out(`\ndriver done: ${results.length} orders: ${summarize(results)}`);
    out(`collector decisions so far: ${await decisionTotals(adminUrl)}`);
    if (examples.size > 0) out('latest trace of each scenario:');
    const decideBy = Date.now() + DECISION_WAIT_MS;
    for (const [scenario, r] of examples) {
      let decision = await decisionOf(adminUrl, r.traceId!);
      while (decision === 'not decided yet' && Date.now() < decideBy) {
        await new Promise((res) => setTimeout(res, 250));
        decision = await decisionOf(adminUrl, r.traceId!);
      }
      out(`  ${scenario.padEnd(16)} ${JAEGER_QUERY}/api/traces/${r.traceId}   decision: ${decision}`);
    }
  } catch (err) {
    if (!hardStop && !ac.signal.aborted) process.stderr.write(`demo: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    const services = children.filter((c) => c.name !== 'tusk-collector');
    await Promise.all(services.map((c) => c.stop('SIGTERM', 15_000)));
    const collector = children.find((c) => c.name === 'tusk-collector');
    if (collector) {
      out('services stopped; stopping tusk-collector (it decides and exports what it still buffers)...');
      const code = await collector.stop('SIGTERM', 45_000);
      if (code !== 0) {
        process.stderr.write(
          `tusk-collector exited with ${code}; last lines:\n${collector.lines.slice(-20).join('\n')}\n`,
        );
        process.exitCode = 1;
      }
    }
    out(`stopped. Kept traces stay in Jaeger (${JAEGER_QUERY}/api/services); logs in ${logDir}`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

void main();
