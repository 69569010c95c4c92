// Traffic driver of the demo: POSTs orders to the order service at a steady rate with the scenario
// mix of scenarios.ts (mostly ok; payment and inventory failures, slow inventory, invalid orders), a bounded
// number of requests in flight, and stops at a count, a duration or an abort signal (at least one is
// required). Not traced itself: like a browser or a load balancer, it leaves the root span to order.
// Alone: npx tsx examples/demo/driver.ts --url http://127.0.0.1:8081 --count 50 [--rate 10]

import { EXPECTED_STATUS, SCENARIO_CYCLE, SCENARIO_HEADER, type Scenario } from './scenarios';

/** Upper bound on the results kept in memory by drive(). */
const MAX_KEPT_RESULTS = 100_000;
const ITEMS = ['widget', 'gadget', 'gizmo', 'doohickey'];

/** Options of drive(). */
export interface DriveOptions {
  /** Base URL of the order service, e.g. http://127.0.0.1:8081. */
  orderUrl: string;
  /** Stop after this many requests. */
  count?: number;
  /** Stop starting requests after this many milliseconds. */
  durationMs?: number;
  /** Stop starting requests when aborted. */
  signal?: AbortSignal;
  /** Requests started per second. Default 5; 0 = as fast as `concurrency` allows. */
  ratePerSec?: number;
  /** Most requests in flight. Default 4. */
  concurrency?: number;
  /** The repeating scenario sequence. Default SCENARIO_CYCLE (40 orders, DEMO_MIX). */
  cycle?: readonly Scenario[];
  /** Per-request timeout in ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Called as each request completes. */
  onResult?: (result: DriveResult) => void;
}

/** The outcome of one request. */
export interface DriveResult {
  index: number;
  scenario: Scenario;
  /** HTTP status, or 0 when the request failed without an answer. */
  status: number;
  /** Whether the status is what the scenario should produce. */
  expected: boolean;
  /** trace id order answered with (its root span's trace). */
  traceId?: string;
  orderId?: string;
  ms: number;
  error?: string;
}

function bodyFor(scenario: Scenario, index: number): string {
  const item = ITEMS[index % ITEMS.length];
  return JSON.stringify(scenario === 'invalid' ? { item, qty: 0 } : { item, qty: 1 + (index % 5) });
}

async function sendOne(opts: DriveOptions, index: number, scenario: Scenario): Promise<DriveResult> {
  const started = performance.now();
  try {
    const res = await fetch(`${opts.orderUrl}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SCENARIO_HEADER]: scenario,
        'user-agent': 'tusk-demo-driver/1.0',
      },
      body: bodyFor(scenario, index),
      signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: { trace_id?: string; order_id?: string } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = {};
    }
    return {
      index,
      scenario,
      status: res.status,
      expected: res.status === EXPECTED_STATUS[scenario],
      traceId: body.trace_id,
      orderId: body.order_id,
      ms: performance.now() - started,
    };
  } catch (err) {
    return {
      index,
      scenario,
      status: 0,
      expected: false,
      ms: performance.now() - started,
      error: (err as Error).message,
    };
  }
}

/**
 * drive sends orders until `count` requests were sent, `durationMs` passed or `signal` aborted, then
 * waits for the requests in flight and returns every result (up to 100000) in completion order.
 */
export async function drive(opts: DriveOptions): Promise<DriveResult[]> {
  if (opts.count === undefined && opts.durationMs === undefined && opts.signal === undefined) {
    throw new Error('drive needs a bound: count, durationMs or signal');
  }
  const cycle = opts.cycle ?? SCENARIO_CYCLE;
  const rate = opts.ratePerSec ?? 5;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const results: DriveResult[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const deadline = opts.durationMs === undefined ? Infinity : start + opts.durationMs;
  const stopped = (i: number) =>
    (opts.count !== undefined && i >= opts.count) || performance.now() >= deadline || opts.signal?.aborted === true;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
      opts.signal?.addEventListener('abort', done, { once: true });
    });

  for (let i = 0; !stopped(i); i++) {
    if (rate > 0) await wait(start + (i * 1000) / rate - performance.now());
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (stopped(i)) break;
    const p: Promise<void> = sendOne(opts, i, cycle[i % cycle.length]).then((r) => {
      if (results.length < MAX_KEPT_RESULTS) results.push(r);
      opts.onResult?.(r);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return results;
}

/** summarize counts results by scenario and status, e.g. `ok 12x200 | payment-error 2x502`. */
export function summarize(results: readonly DriveResult[]): string {
  const by = new Map<string, Map<number, number>>();
  for (const r of results) {
    const m = by.get(r.scenario) ?? new Map<number, number>();
    m.set(r.status, (m.get(r.status) ?? 0) + 1);
    by.set(r.scenario, m);
  }
  return [...by.entries()]
    .map(([s, m]) => `${s} ${[...m.entries()].map(([code, n]) => `${n}x${code === 0 ? 'ERR' : code}`).join(',')}`)
    .join(' | ');
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}

async function main(argv: string[]): Promise<number> {
  const orderUrl = arg(argv, '--url') ?? 'http://127.0.0.1:8081';
  const count = arg(argv, '--count');
  const duration = arg(argv, '--duration');
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  const results = await drive({
    orderUrl,
    count: count === undefined ? (duration === undefined ? 50 : undefined) : Number(count),
    durationMs: duration === undefined ? undefined : Number(duration) * 1000,
    ratePerSec: Number(arg(argv, '--rate') ?? 5),
    signal: ac.signal,
  });
  process.stdout.write(`${results.length} requests: ${summarize(results)}\n`);
  return results.every((r) => r.expected) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`driver: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
