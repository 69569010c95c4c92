// One-command benchmark of tusk-collector against the OpenTelemetry Collector's tail sampling (the
// "peer": the contrib components compiled into the stack's Jaeger v2 binary), on the same machine, the
// same load and the same policies, alternating runs (ours, peer, ours, peer, ...) so drift hits both.
//
//   npx tsx bench/run.ts [--quick] [--json] [--write-md | --no-md] [--rounds N] [--only TEXT]
//                        [--cpu-prof] [--e2e-rate SPANS_PER_S] [--seed N] [--ab PRELOAD.ts] [--ab-flags FLAGS]
//                        [--app-b DIR]
//                        [--scale RATE,RATE,...] [--scale-profile small|prod] [--samplers N,N,...]
//                        [--scale-seconds S]
//   npx tsx bench/run.ts --render .scratch/bench/SESSION   (the report and BENCHMARKS.md of a finished run again)
//
// Scenarios (each for ours and for the peer):
//   ingest    OTLP (HTTP or gRPC) -> Kafka: spans/s until everything accepted is in Kafka.
//   sampling  Kafka (pre-filled, one message per trace) -> tail sampling -> null exporter.
//   e2e       OTLP -> Kafka -> tail sampling (ours: Redis state) -> OTLP/HTTP -> timing proxy -> Jaeger,
//             at a fixed offered rate (default 10000 spans/s, --e2e-rate), and in full runs once as fast
//             as accepted (e2e-max: spans/s until the sampler has read everything).
// --ab PRELOAD.ts: A/B of our own code instead of ours/peer: the peer's slot runs ours with
//             `node --require PRELOAD.ts` (a module that swaps in the change to measure), same alternation.
// --ab-flags "FLAGS": the same with extra node flags for the B side (e.g. "--max-semi-space-size=8").
// --app-b DIR: the same with a second build (DIR holds its bin/ and dist/) in the peer's slot.
// --scale 2000,5000,10000,20000: the cost model instead of the cases: the end-to-end case once per offered
//             rate (10 s each) for both systems, a table of cores (split by role), CPU per span, peak RSS and
//             lag per rate, and per system the fitted line cores = fixed + marginal x rate to size with.
// --scale-profile small|prod: its span profile (default small over OTLP/HTTP; prod goes over OTLP/gRPC).
// --samplers 1,2,3: each rate once per number of sampler processes, on a topic of 6 partitions; both systems
//             then run one ingest process and N sampler processes in one consumer group.
// --scale-seconds S: seconds of load per point (default 10). Any --scale* or --samplers flag selects the cost
//             model; without --scale the rates are 2000..40000 (small) or 2000,5000,10000 (prod).
// Needs the stack (`bash scripts/stack/up.sh`) and a built dist/ (`npx tsc -p tsconfig.json`).
// Prints a table (stdout; stderr with --json, where stdout gets the JSON). Full runs (not --quick)
// rewrite the generated part of BENCHMARKS.md; --write-md forces it, --no-md prevents it.
// Artifacts (configs, logs, per-run JSON, CPU profiles) go to .scratch/bench/<session>/.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchKafka, PARTITIONS, prefill, type PrefillResult } from './lib/kafka';
import { Monitor, SAMPLING_ROLES, combine, cpuByRoleBetween, type Figures, type Scrape } from './lib/measure';
import { histogramQuantile, type Metrics } from './lib/prom';
import { loadAverage, machineCpuS } from './lib/proc';
import { portOpen } from './lib/ports';
import { PrivateRedis, diffCounters } from './lib/redis';
import { TimingProxy, quantile, type AcceptedRequest } from './lib/sink';
import {
  REPO,
  peerBinary,
  snapshotCollector,
  startSystem,
  type RunningSystem,
  type RunParams,
  type SystemName,
} from './lib/systems';
import { DEFAULT_SCALE_RATES, DEFAULT_SCALE_SECONDS, scaleCases, scaleTable } from './lib/costmodel';
import { renderTable, writeBenchmarksMd, type Session } from './lib/report';
import { summarizeCpuProfile } from './lib/cpuprofile';
import { freePort } from './lib/ports';
import { buildPool } from './loadgen/templates';
import type { Profile } from './loadgen/model';
import type { CaseDef, RunResult } from './lib/cases';

// ---------------------------------------------------------------------------------------------------
// cases

const QUICK: CaseDef[] = [
  {
    id: 'ingest/http/small',
    scenario: 'ingest',
    profile: 'small',
    transport: 'http',
    spans: 100_000,
    seconds: 8,
    concurrency: 32,
    rounds: 1,
  },
  {
    id: 'sampling/small',
    scenario: 'sampling',
    profile: 'small',
    transport: 'http',
    spans: 150_000,
    seconds: 20,
    concurrency: 0,
    rounds: 1,
  },
  {
    id: 'e2e/http/small',
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    spans: 0,
    seconds: 8,
    rate: 10_000,
    concurrency: 8,
    rounds: 1,
  },
  {
    id: 'e2e-1proc/http/small',
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    spans: 0,
    seconds: 8,
    rate: 10_000,
    concurrency: 8,
    rounds: 1,
    oneProcess: true,
  },
];

const FULL: CaseDef[] = [
  {
    id: 'ingest/http/small',
    scenario: 'ingest',
    profile: 'small',
    transport: 'http',
    spans: 200_000,
    seconds: 20,
    concurrency: 32,
    rounds: 2,
  },
  {
    id: 'ingest/grpc/prod',
    scenario: 'ingest',
    profile: 'prod',
    transport: 'grpc',
    // 6-8 s windows: shorter ones moved the ratio by 20% from run to run.
    spans: 300_000,
    seconds: 30,
    concurrency: 32,
    rounds: 3,
  },
  {
    id: 'sampling/small',
    scenario: 'sampling',
    profile: 'small',
    transport: 'http',
    spans: 1_000_000,
    seconds: 60,
    concurrency: 0,
    rounds: 2,
  },
  {
    id: 'sampling/prod',
    scenario: 'sampling',
    profile: 'prod',
    transport: 'http',
    spans: 200_000,
    seconds: 60,
    concurrency: 0,
    rounds: 2,
  },
  // Steady state: ~260k traces decided, so every decision store (100k local ledger entries; the peer's
  // 2 x 50k decision caches) is full and evicts on every decision, as in a sampler that runs for hours.
  {
    id: 'sampling-long/small',
    scenario: 'sampling',
    profile: 'small',
    transport: 'http',
    spans: 3_000_000,
    seconds: 120,
    concurrency: 0,
    rounds: 1,
  },
  {
    id: 'e2e/http/small',
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    spans: 0,
    seconds: 30,
    rate: 10_000,
    concurrency: 8,
    rounds: 3,
  },
  {
    id: 'e2e-1proc/http/small',
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    spans: 0,
    seconds: 30,
    rate: 10_000,
    concurrency: 8,
    rounds: 2,
    oneProcess: true,
  },
  {
    id: 'e2e-max/http/small',
    scenario: 'e2e',
    profile: 'small',
    transport: 'http',
    spans: 300_000,
    seconds: 30,
    rate: 0,
    concurrency: 8,
    rounds: 3,
  },
];

// ---------------------------------------------------------------------------------------------------
// results

// ---------------------------------------------------------------------------------------------------
// helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 100,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(stepMs);
  }
}

interface LoadgenSummary {
  acceptedSpans: number;
  acceptedTraces: number;
  acceptedTraceResources: number;
  mustKeepTraces: number;
  failedRequests: number;
  failedSpans: number;
  retries: number;
  startMs: number;
  endMs: number;
  lastAcceptMs: number;
  elapsedS: number;
  offeredSpansPerS: number;
  cpuS: number;
  bytesPerSpan: number;
  spansPerTrace: number;
  lateClaims: number;
  reasons: Record<string, number>;
}

function runLoadgen(
  args: string[],
  onAccepted: ((r: AcceptedRequest[]) => void) | undefined,
  timeoutMs: number,
  logFile: string,
): Promise<LoadgenSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(REPO, 'bench', 'loadgen', 'main.ts'), ...args],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    let out = '';
    let err = '';
    let summary: LoadgenSummary | undefined;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('message', (m: { type: string; requests?: AcceptedRequest[] }) => {
      if (m.type === 'accepted' && m.requests) onAccepted?.(m.requests);
      else if (m.type === 'summary') summary = m as unknown as LoadgenSummary;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      fs.writeFileSync(logFile, out + err);
      if (!summary) {
        const line = out.trim().split('\n').pop();
        try {
          summary = line ? (JSON.parse(line) as LoadgenSummary) : undefined;
        } catch {
          /* below */
        }
      }
      if (code === 0 && summary) resolve(summary);
      else reject(new Error(`load generator exited with ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

function lagQuantiles(system: SystemName, list: Scrape, base?: Scrape): { p50?: number; p99?: number; mean?: number } {
  // Several sampler processes: their histograms add up into one.
  const pick = (l?: Scrape) => (l ? combine(l, SAMPLING_ROLES) : undefined);
  const m = pick(list);
  if (!m) return {};
  const name =
    system === 'ours'
      ? 'tusk_sampler_decision_lag_seconds'
      : findName(m, 'otelcol_processor_tail_sampling_sampling_trace_removal_age');
  if (!name) return {};
  const b = m.buckets(name);
  const bm = pick(base);
  const bb = bm?.buckets(name);
  const n = m.sum(`${name}_count`) - (bm?.sum(`${name}_count`) ?? 0);
  const sum = m.sum(`${name}_sum`) - (bm?.sum(`${name}_sum`) ?? 0);
  return { p50: histogramQuantile(0.5, b, bb), p99: histogramQuantile(0.99, b, bb), mean: n > 0 ? sum / n : undefined };
}

function findName(m: Metrics, prefix: string): string | undefined {
  const s = m.series.find((x) => x.name.startsWith(prefix) && x.name.endsWith('_bucket'));
  return s?.name.replace(/_bucket$/, '');
}

/** loadgenTarget is the load generator's target option for the case's transport. */
function loadgenTarget(c: CaseDef, sys: RunningSystem): string[] {
  return c.transport === 'http' ? ['--http', sys.httpUrl!] : ['--grpc', sys.grpcTarget!];
}

/**
 * awaitGroup waits (up to 60 s) until the sampling group is Stable with `members` members holding every
 * partition of the topic, so that the load starts after the joins; returns the partitions per member then,
 * or as far as the group got, with a note in `notes`.
 */
async function awaitGroup(
  kafka: BenchKafka,
  group: string,
  topic: string,
  members: number,
  partitions: number,
  notes: string[],
): Promise<number[]> {
  let last = { state: 'Unknown', partitions: [] as number[] };
  try {
    await waitUntil(
      `consumer group ${group} with ${members} members`,
      async () => {
        last = await kafka.groupAssignment(group, topic);
        const held = last.partitions.reduce((a, b) => a + b, 0);
        return last.state === 'Stable' && last.partitions.length === members && held === partitions;
      },
      60_000,
      250,
    );
  } catch {
    notes.push(
      `sampling group not complete when the load started: ${last.state}, ${last.partitions.length}/${members} ` +
        `members, partitions per member ${last.partitions.join('/') || 'none'} of ${partitions}`,
    );
  }
  return last.partitions;
}

// ---------------------------------------------------------------------------------------------------
// one run

interface Ctx {
  session: string;
  dir: string;
  kafka: BenchKafka;
  redis: PrivateRedis;
  proxy: TimingProxy;
  seed: number;
  decisionWaitS: number;
  rootSettleS: number;
  slowMs: number;
  cpuProf?: string;
  results: RunResult[];
  e2eRate?: number;
  /** A/B mode: slot "peer" runs ours with this preload (node --require) instead of the peer. */
  abPreload?: string;
  /** Extra node flags of the B side of an A/B run (`--ab-flags`). */
  abFlags?: string[];
  /** --app-b: the directory of a second build (bin/ and dist/) that runs in the peer's slot. */
  appB?: string;
  /** The sampling case's pre-filled topic of the current round, read by both systems (each with its own group). */
  prefilled?: { key: string; topic: string; result: PrefillResult };
}

/** ensurePrefill pre-fills the topic of (case, round) once; both systems of the round read it. */
async function ensurePrefill(
  ctx: Ctx,
  c: CaseDef,
  round: number,
  seed: number,
  pool: ReturnType<typeof buildPool>,
): Promise<{ topic: string; result: PrefillResult }> {
  const key = `${c.id}-r${round}`;
  if (ctx.prefilled?.key === key) return ctx.prefilled;
  await dropPrefill(ctx);
  const topic = `bench-${ctx.session}-${c.id.replace(/\//g, '-')}-r${round}`.replace(/[^a-zA-Z0-9._-]/g, '-');
  await ctx.kafka.createTopic(topic);
  const result = await prefill(topic, pool, seed, c.spans);
  log(
    `  pre-filled ${topic}: ${result.spans} spans, ${result.traces} traces, ${(result.bytes / 1048576).toFixed(0)} MiB in ${result.seconds.toFixed(1)} s`,
  );
  ctx.prefilled = { key, topic, result };
  return ctx.prefilled;
}

async function dropPrefill(ctx: Ctx): Promise<void> {
  if (ctx.prefilled) await ctx.kafka.cleanup([ctx.prefilled.topic], []);
  ctx.prefilled = undefined;
}

async function runOne(
  ctx: Ctx,
  c: CaseDef,
  system: SystemName,
  round: number,
  nodeFlags: string[] = [],
): Promise<RunResult> {
  // kind = what actually runs in this slot (A/B mode puts ours + a preload in the peer's slot).
  const ab = (ctx.abPreload !== undefined || ctx.abFlags !== undefined || ctx.appB !== undefined) && system === 'peer';
  const kind: SystemName = ab ? 'ours' : system;
  // The build that runs: this checkout's snapshot, or with --app-b the second build in the peer's slot.
  if (ctx.appB !== undefined) {
    if (ab) snapshotCollector(path.join(ctx.dir, 'b'), ctx.appB);
    else snapshotCollector(ctx.dir);
  }
  if (ab && ctx.abPreload) nodeFlags = [...nodeFlags, '--require', ctx.abPreload];
  if (ab && ctx.abFlags) nodeFlags = [...nodeFlags, ...ctx.abFlags];
  const tag = `${c.id.replace(/\//g, '-')}-r${round}-${system}`;
  const runId = `${ctx.session}-${tag}`.replace(/[^a-zA-Z0-9._-]/g, '-');
  const dir = path.join(ctx.dir, tag + (nodeFlags.length ? '-prof' : ''));
  fs.mkdirSync(dir, { recursive: true });
  const seed = ctx.seed * 1000 + round;
  const pool = buildPool({ seed, profile: c.profile });
  const rate = c.scenario === 'e2e' ? (ctx.e2eRate ?? 10_000) : 0;
  const params: RunParams = {
    scenario: c.scenario,
    runId,
    dir,
    topic: `bench-${runId}`,
    group: `bench-${runId}`,
    redisUrl: ctx.redis.url,
    redisPrefix: `bench:${runId}:`,
    decisionWaitS: ctx.decisionWaitS,
    rootSettleS: ctx.rootSettleS,
    slowMs: ctx.slowMs,
    exportEndpoint: `http://127.0.0.1:${ctx.proxy.port}`,
    nodeFlags,
    tracesPerSec: (rate || 20_000) / pool.spansPerTrace,
    oneProcess: c.oneProcess === true,
    samplers: c.samplers,
  };
  const res: RunResult = {
    caseId: c.id,
    scenario: c.scenario,
    profile: c.profile,
    transport: c.transport,
    system,
    round,
    ok: false,
    spans: 0,
    traces: 0,
    windowS: 0,
    spansPerS: 0,
    cpuS: 0,
    cpuSPerMSpans: 0,
    spansPerCpuS: 0,
    peakRssMB: 0,
    loadAvg1: loadAverage()[0],
    machineBusyCores: 0,
    sutCores: 0,
    samplers: c.samplers,
    notes: [],
  };
  let sys: Awaited<ReturnType<typeof startSystem>> | undefined;
  let mon: Monitor | undefined;
  let prefilled: PrefillResult | undefined;
  if (c.scenario === 'sampling') {
    const p = await ensurePrefill(ctx, c, round, seed, pool);
    params.topic = p.topic;
    prefilled = p.result;
  } else await ctx.kafka.createTopic(params.topic, c.partitions);
  const machine0 = machineCpuS();
  const wall0 = Date.now();
  try {
    sys = await startSystem(kind, params);
    if (c.samplers !== undefined)
      res.groupPartitions = await awaitGroup(
        ctx.kafka,
        params.group,
        params.topic,
        c.samplers,
        c.partitions ?? PARTITIONS,
        res.notes,
      );
    const extraPids = kind === 'ours' && c.scenario !== 'ingest' && ctx.redis.pid ? [ctx.redis.pid] : [];
    const roleOf = new Map<number, string>([
      ...sys.procs.map((p): [number, string] => [p.child.pid!, p.role]),
      ...extraPids.map((pid): [number, string] => [pid, 'redis']),
    ]);
    // Sampling runs need the crossing times precisely (scrape every 250 ms); the others every second.
    mon = new Monitor(sys, extraPids, pool.spansPerTrace, 250, c.scenario === 'sampling' ? 250 : 1000);
    const redis0 = c.scenario !== 'ingest' ? await ctx.redis.counters() : undefined;
    const base = await mon.start();
    const cpuBase = mon.cpuByPid();
    const baseScrape = await sys.metrics();
    const rtBase = baseScrape.reduce((a, x) => a + x.m.sum('tusk_state_redis_round_trips_total'), 0);
    const machineA = machineCpuS();
    const tA = Date.now();
    let end = base;
    let loadWindow: [number, number] | undefined;
    let spans = 0;
    let traces = 0;

    if (c.scenario === 'ingest') {
      const lg = await runLoadgen(
        [
          ...loadgenTarget(c, sys),
          '--profile',
          c.profile,
          '--seed',
          String(seed),
          '--max-spans',
          String(c.spans),
          '--max-seconds',
          String(c.seconds),
          '--concurrency',
          String(c.concurrency),
        ],
        undefined,
        (c.seconds + 90) * 1000,
        path.join(dir, 'loadgen.log'),
      );
      res.loadgenCpuS = lg.cpuS;
      if (lg.failedSpans > 0)
        res.notes.push(`${lg.failedSpans} spans refused for good (${JSON.stringify(lg.reasons)})`);
      if (lg.retries > 0) res.notes.push(`${lg.retries} requests retried (${JSON.stringify(lg.reasons)})`);
      // Ours writes one message per trace and request; the peer's exporter one per (trace, resource, scope).
      const expected = kind === 'ours' ? lg.acceptedTraces : lg.acceptedTraceResources;
      // Ours also writes watermark records (every watermark_interval, one per partition): not data. Its
      // metrics count them; they are read only once the topic holds enough messages (a scrape costs CPU).
      const watermarks = async (): Promise<number> => {
        if (kind !== 'ours') return 0;
        let n = 0;
        for (const { m } of await sys!.metrics()) n += m.sum('tusk_kafka_watermark_records_total');
        return n;
      };
      const arrivedAt = await waitUntil(
        'every accepted trace in Kafka',
        async () => {
          const messages = await ctx.kafka.messages(params.topic);
          return messages >= expected && messages - (await watermarks()) >= expected;
        },
        120_000,
        50,
      );
      end = await mon.tick(true);
      spans = lg.acceptedSpans;
      traces = lg.acceptedTraces;
      res.windowS = (arrivedAt - lg.startMs) / 1000;
      const extra = (await ctx.kafka.messages(params.topic)) - (await watermarks()) - expected;
      if (extra > 0)
        res.notes.push(`${extra} more messages in Kafka than expected (${expected}): retried produce calls`);
      res.kafkaMessages = expected + Math.max(0, extra);
    } else if (c.scenario === 'sampling') {
      spans = prefilled!.spans;
      traces = prefilled!.traces;
      await waitUntil(
        'every pre-filled trace consumed',
        () => (mon!.lastFig?.consumedTraces ?? 0) >= traces,
        (c.seconds + 60) * 1000,
      );
      await waitUntil(
        'every trace decided',
        () => (mon!.lastFig?.decidedTraces ?? 0) >= traces && (mon!.lastFig?.bufferedTraces ?? 1) === 0,
        (ctx.decisionWaitS + 60) * 1000,
      );
      end = await mon.tick(true);
      // Throughput: the pre-filled backlog from its first span read until its last trace decided, minus the
      // hold each system is configured to apply before deciding (peer: decision_wait after the first span;
      // ours: root_settle_delay after the root). Intake alone (reading the backlog) is reported beside it.
      const t0 = mon.crossing((f) => f.consumedTraces, 1) ?? tA;
      const t1 = mon.crossing((f) => f.consumedTraces, traces) ?? end.t;
      const t2 = mon.crossing((f) => f.decidedTraces, traces) ?? end.t;
      const hold = kind === 'ours' ? ctx.rootSettleS : ctx.decisionWaitS;
      res.intakeSpansPerS = spans / Math.max(1e-3, (t1 - t0) / 1000);
      res.windowS = Math.max((t1 - t0) / 1000, (t2 - t0) / 1000 - hold);
    } else {
      ctx.proxy.reset();
      const maxSpans = rate > 0 ? Math.round(rate * c.seconds) : c.spans;
      res.offeredSpansPerS = rate > 0 ? rate : undefined;
      const lg = await runLoadgen(
        [
          ...loadgenTarget(c, sys),
          '--profile',
          c.profile,
          '--seed',
          String(seed),
          '--rate',
          String(rate),
          '--max-spans',
          String(maxSpans),
          '--max-seconds',
          String(c.seconds),
          '--concurrency',
          String(c.concurrency),
        ],
        (r) => ctx.proxy.onAccepted(r),
        (c.seconds + 90) * 1000,
        path.join(dir, 'loadgen.log'),
      );
      res.loadgenCpuS = lg.cpuS;
      if (lg.failedSpans > 0) res.notes.push(`${lg.failedSpans} spans refused for good`);
      if (lg.retries > 0) res.notes.push(`${lg.retries} requests retried (${JSON.stringify(lg.reasons)})`);
      if (lg.lateClaims > 0) res.notes.push(`load generator fell behind the offered rate ${lg.lateClaims} times`);
      spans = lg.acceptedSpans;
      traces = lg.acceptedTraces;
      loadWindow = [lg.startMs, lg.lastAcceptMs];
      const loadEnd = Date.now();
      const consumedAt = await waitUntil(
        'every trace consumed by the sampler',
        () => (mon!.lastFig?.consumedTraces ?? 0) >= traces,
        180_000,
      );
      res.drainS = (consumedAt - loadEnd) / 1000;
      await waitUntil(
        'every trace decided and exported',
        () => {
          const f = mon!.lastFig;
          return !!f && f.decidedTraces >= traces && f.bufferedTraces === 0 && f.exportBacklog === 0;
        },
        (ctx.decisionWaitS + 90) * 1000,
      );
      // The batch processor / exporters may still hold a last batch: wait until the proxy saw nothing new for 1.5 s.
      let seen = -1;
      let stableSince = Date.now();
      await waitUntil(
        'exports to settle',
        () => {
          if (ctx.proxy.keptTraces !== seen) {
            seen = ctx.proxy.keptTraces;
            stableSince = Date.now();
          }
          return Date.now() - stableSince >= 1500;
        },
        60_000,
      );
      end = await mon.tick(true);
      // Fixed rate: the window is the load; as fast as possible: until the sampler had read everything.
      res.windowS = ((rate > 0 ? lg.lastAcceptMs : consumedAt) - lg.startMs) / 1000;
      res.keptTraces = ctx.proxy.keptTraces;
      res.mustKeepSent = ctx.proxy.mustKeepSent;
      res.mustKeepArrived = ctx.proxy.mustKeepArrived;
      // Lags measured after the trace was settled as the "sent" time: the load generator stamps the accepted attempt.
      if (rate > 0) {
        res.e2eLagP50S = (quantile(ctx.proxy.lagsMs, 0.5) ?? NaN) / 1000;
        res.e2eLagP99S = (quantile(ctx.proxy.lagsMs, 0.99) ?? NaN) / 1000;
      } else res.notes.push('saturation run: lags include the Kafka backlog, not reported');
      if (ctx.proxy.forwardErrors > 0) res.notes.push(`${ctx.proxy.forwardErrors} proxy->Jaeger forward errors`);
      if (res.mustKeepArrived < res.mustKeepSent)
        res.notes.push(`LOSS: ${res.mustKeepSent - res.mustKeepArrived} error/slow traces never reached Jaeger`);
    }

    const endScrape = await sys.metrics();
    const machineB = machineCpuS();
    const tB = Date.now();
    res.ok = true;
    res.spans = spans;
    res.traces = traces;
    res.spansPerS = res.windowS > 0 ? spans / res.windowS : 0;
    res.cpuS = end.cpuS - base.cpuS;
    res.cpuSPerMSpans = (res.cpuS / spans) * 1e6;
    res.spansPerCpuS = spans / res.cpuS;
    if (c.scenario === 'e2e' && rate > 0 && loadWindow) {
      // Fixed rate: CPU per span in the steady part of the load (after a warm-up of 20% of it, at least 2 s),
      // so start-up JIT work and the idle tail weigh the same for both; the whole-run figure stays beside it.
      const from = loadWindow[0] + Math.max(2000, 0.2 * (loadWindow[1] - loadWindow[0]));
      const s1 = mon.samples.find((x) => x.t >= from);
      const s2 = [...mon.samples].reverse().find((x) => x.t <= loadWindow[1]);
      if (s1 && s2 && s2.t - s1.t >= 1000) {
        const steadySpans = (rate * (s2.t - s1.t)) / 1000;
        res.cpuSPerMSpansWhole = res.cpuSPerMSpans;
        res.cpuSPerMSpans = ((s2.cpuS - s1.cpuS) / steadySpans) * 1e6;
        res.spansPerCpuS = steadySpans / (s2.cpuS - s1.cpuS);
        res.cpuSPerMSpansByRole = Object.fromEntries(
          Object.entries(cpuByRoleBetween(s1, s2, roleOf)).map(([role, cpu]) => [role, (cpu / steadySpans) * 1e6]),
        );
      }
    }
    res.peakRssMB = mon.peakRssBytes() / 1048576;
    if (extraPids.length > 0) res.redisPeakRssMB = mon.extraPeakRssBytes() / 1048576;
    res.cpuByRole = cpuByRoleBetween({ cpuByPid: cpuBase }, { cpuByPid: mon.cpuByPid() }, roleOf);
    res.machineBusyCores = (machineB.busyS - machineA.busyS) / ((tB - tA) / 1000);
    res.sutCores = res.cpuS / ((end.t - base.t) / 1000);
    const lastFig: Figures | undefined = end.fig;
    if (lastFig && lastFig.droppedEarly > 0) {
      res.droppedEarly = lastFig.droppedEarly;
      res.notes.push(`${lastFig.droppedEarly} traces decided early / dropped too early`);
    }
    if (c.scenario !== 'ingest') {
      // Memory per buffered span: at the sample with the most buffered spans, (RSS - RSS at start) / buffered.
      let peak: (typeof mon.samples)[number] | undefined;
      for (const s of mon.samples) if (s.fig && (!peak || s.fig.bufferedSpans > peak.fig!.bufferedSpans)) peak = s;
      if (peak?.fig && peak.fig.bufferedSpans > 0) {
        res.bufferedPeakSpans = peak.fig.bufferedSpans;
        res.rssBytesPerBufferedSpan = (peak.samplerRssBytes - base.samplerRssBytes) / peak.fig.bufferedSpans;
        res.heapBytesPerBufferedSpan = (peak.fig.heapBytes - (base.fig?.heapBytes ?? 0)) / peak.fig.bufferedSpans;
      }
      const lq = lagQuantiles(kind, endScrape, baseScrape);
      res.lagP50S = lq.p50;
      res.lagP99S = lq.p99;
      res.lagMeanS = lq.mean;
      if (kind === 'ours' && redis0) {
        const d = diffCounters(redis0, await ctx.redis.counters(), 1);
        res.redisCmds = d.commands;
        res.redisCmdsPerSpan = d.commands / spans;
        res.redisMemBytesPerTrace = d.usedMemory / traces;
        res.redisTop = Object.fromEntries(
          Object.entries(d.perCommand)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 6),
        );
        res.redisCommandUsec = d.usecPerCommand;
        const rt = endScrape.reduce((a, x) => a + x.m.sum('tusk_state_redis_round_trips_total'), 0) - rtBase;
        res.redisRoundTripsPerSpan = rt / spans;
      }
    }
    fs.writeFileSync(
      path.join(dir, 'metrics-end.txt'),
      endScrape
        .map(
          (x) =>
            `# role ${x.role}\n` + x.m.series.map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('\n'),
        )
        .join('\n'),
    );
  } catch (err) {
    res.ok = false;
    res.error = err instanceof Error ? err.message.split('\n').slice(0, 6).join(' | ') : String(err);
  } finally {
    mon?.stop();
    await sys?.stop();
    await ctx.kafka.cleanup(
      c.scenario === 'sampling' ? [] : [params.topic],
      c.scenario === 'ingest' ? [] : [params.group],
    );
    if (!res.machineBusyCores) {
      const m1 = machineCpuS();
      res.machineBusyCores = (m1.busyS - machine0.busyS) / ((Date.now() - wall0) / 1000);
    }
  }
  fs.writeFileSync(path.join(dir, 'result.json'), JSON.stringify(res, null, 2));
  return res;
}

// ---------------------------------------------------------------------------------------------------
// session

interface Cli {
  quick: boolean;
  json: boolean;
  md: 'auto' | 'yes' | 'no';
  rounds?: number;
  only?: string;
  cpuProf: boolean;
  e2eRate?: number;
  seed: number;
  ab?: string;
  abFlags?: string;
  /** A second build's directory (bin/ and dist/), run in the peer's slot (A/B of two builds). */
  appB?: string;
  /** Offered rates (spans/s) of the cost-model scenario: one e2e run per rate and system. */
  scale?: number[];
  /** Span profile of the cost model. */
  scaleProfile?: Profile;
  /** Sampler process counts of the cost model (each rate once per count). */
  samplers?: number[];
  /** Seconds of load per point of the cost model. */
  scaleSeconds?: number;
  /** A finished session's directory: only rewrite the report from its session.json. */
  render?: string;
}

/** numbers parses a comma-separated list of positive numbers. */
function numbers(flag: string, v: string): number[] {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0))
    throw new Error(`${flag} takes positive numbers separated by commas, got ${v}`);
  return xs;
}

function parseCli(argv: string[]): Cli {
  const cli: Cli = { quick: false, json: false, md: 'auto', cpuProf: false, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') cli.quick = true;
    else if (a === '--json') cli.json = true;
    else if (a === '--write-md') cli.md = 'yes';
    else if (a === '--no-md') cli.md = 'no';
    else if (a === '--rounds') cli.rounds = Math.max(1, Number(val()));
    else if (a === '--only') cli.only = val();
    else if (a === '--cpu-prof') cli.cpuProf = true;
    else if (a === '--e2e-rate') cli.e2eRate = Number(val());
    else if (a === '--seed') cli.seed = Number(val());
    else if (a === '--ab') cli.ab = val();
    else if (a === '--ab-flags') cli.abFlags = val();
    else if (a === '--app-b') cli.appB = path.resolve(val());
    else if (a === '--scale') cli.scale = numbers(a, val());
    else if (a === '--scale-profile') {
      const v = val();
      if (v !== 'small' && v !== 'prod') throw new Error(`--scale-profile small|prod, got ${v}`);
      cli.scaleProfile = v;
    } else if (a === '--samplers') cli.samplers = numbers(a, val()).map(Math.floor);
    else if (a === '--scale-seconds') [cli.scaleSeconds] = numbers(a, val());
    else if (a === '--render') cli.render = val();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        fs
          .readFileSync(__filename, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('//'))
          .map((l) => l.slice(3))
          .join('\n') + '\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return cli;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO }).toString().trim();
  } catch {
    return '?';
  }
}

function versions(redisVersion: string, distBuilt: Date): Record<string, string> {
  const peer = peerBinary();
  let contrib = 'v0.140.1';
  try {
    const mod = fs.readFileSync(
      path.join(
        path.dirname(path.dirname(peer)),
        `jaeger-build-${path.basename(peer).replace(/^jaeger-/, '')}`,
        'go.sum',
      ),
      'utf8',
    );
    contrib = /tailsamplingprocessor (v[\d.]+)/.exec(mod)?.[1] ?? contrib;
  } catch {
    /* default */
  }
  const kafkaDir = fs.readdirSync(path.join(path.dirname(path.dirname(peer)))).find((d) => /^kafka-\d/.test(d));
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  const dirty = git(['status', '--porcelain']) !== '' ? ' (with uncommitted changes)' : '';
  return {
    'tusk-collector': `${pkg.version}, git ${git(['rev-parse', '--short', 'HEAD'])}${dirty}; dist/ built ${distBuilt.toISOString().replace(/\..*/, '')}Z, copied for the session`,
    node: process.version,
    peer: `${path.basename(peer)} (Jaeger v2 binary; OTel Collector contrib tail_sampling/kafka ${contrib})`,
    kafka: kafkaDir ? kafkaDir.split('-')[1] : '?',
    redis: redisVersion,
    kafkajs: (
      JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'kafkajs', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version,
  };
}

function machine(): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} x ${cpus[0]?.model ?? '?'}`,
    memory: `${Math.round(os.totalmem() / 1073741824)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
  };
}

async function preflight(needJaeger: boolean): Promise<void> {
  if (!fs.existsSync(path.join(REPO, 'dist', 'pipeline', 'runtime', 'cli', 'main.js'))) {
    log('dist/ is not built: running npx tsc -p tsconfig.json');
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO, stdio: 'inherit' });
  }
  peerBinary();
  if (!(await portOpen(9092)))
    throw new Error('Kafka is not listening on 127.0.0.1:9092: run `bash scripts/stack/up.sh` first');
  if (needJaeger && !(await portOpen(14318)))
    throw new Error('Jaeger OTLP/HTTP is not listening on 127.0.0.1:14318: run `bash scripts/stack/up.sh` first');
  try {
    execFileSync('redis-server', ['--version']);
  } catch {
    throw new Error('redis-server not found: run `bash scripts/stack/up.sh` first (it installs it)');
  }
}

/**
 * bundlePreload turns an A/B preload (TypeScript) into one plain JS file with esbuild (tsx's own
 * compiler), so the B side runs without a TypeScript loader that the A side does not have.
 */
function bundlePreload(file: string, dir: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as { buildSync(o: Record<string, unknown>): unknown };
  const out = path.join(dir, 'ab-preload.js');
  esbuild.buildSync({
    entryPoints: [path.resolve(file)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    external: ['protobufjs', 'tusk-collector'],
  });
  return out;
}

/** autoRate is half the slowest saturation rate measured so far for a profile (both systems), rounded down to 500. */
function autoRate(results: RunResult[], profile: Profile): number | undefined {
  const rates = results
    .filter((r) => r.ok && r.profile === profile && (r.scenario === 'ingest' || r.scenario === 'sampling'))
    .map((r) => r.spansPerS);
  if (rates.length === 0) return undefined;
  return Math.max(500, Math.floor((0.5 * Math.min(...rates)) / 500) * 500);
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  if (cli.render !== undefined) {
    // Only the report: the generated block of BENCHMARKS.md (and the table) from a finished session.
    const sessionData = JSON.parse(fs.readFileSync(path.join(cli.render, 'session.json'), 'utf8')) as Session;
    process.stdout.write(renderTable(sessionData));
    writeBenchmarksMd(path.join(REPO, 'BENCHMARKS.md'), sessionData);
    return;
  }
  const tStart = Date.now();
  const session = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}-${process.pid}`;
  const dir = path.join(REPO, '.scratch', 'bench', session);
  fs.mkdirSync(dir, { recursive: true });
  const scale = [cli.scale, cli.scaleProfile, cli.samplers, cli.scaleSeconds].some((x) => x !== undefined);
  const scaleProfile = cli.scaleProfile ?? 'small';
  let cases = scale
    ? scaleCases({
        rates: cli.scale ?? DEFAULT_SCALE_RATES[scaleProfile],
        profile: scaleProfile,
        samplers: cli.samplers,
        seconds: cli.scaleSeconds ?? DEFAULT_SCALE_SECONDS,
        rounds: cli.rounds ?? 1,
      })
    : (cli.quick ? QUICK : FULL).map((c) => ({ ...c, rounds: cli.rounds ?? c.rounds }));
  if (cli.only) cases = cases.filter((c) => c.id.includes(cli.only!));
  if (cases.length === 0) throw new Error(`no case matches --only ${cli.only}`);
  await preflight(cases.some((c) => c.scenario === 'e2e'));
  const distBuilt = snapshotCollector(dir);
  const kafka = new BenchKafka();
  await kafka.connect();
  const redis = new PrivateRedis();
  await redis.start(path.join(dir, 'redis'));
  const vers = versions(redis.version, distBuilt);
  const proxy = new TimingProxy(process.env.BENCH_JAEGER_OTLP ?? 'http://127.0.0.1:14318');
  await proxy.start(await freePort());
  const ctx: Ctx = {
    session,
    dir,
    kafka,
    redis,
    proxy,
    seed: cli.seed,
    abPreload: cli.ab ? bundlePreload(cli.ab, dir) : undefined,
    abFlags: cli.abFlags ? cli.abFlags.split(/\s+/).filter(Boolean) : undefined,
    appB: cli.appB,
    decisionWaitS: cli.quick ? 3 : 5,
    rootSettleS: cli.quick ? 1 : 2,
    slowMs: 1000,
    results: [],
  };
  const loads: number[] = [loadAverage()[0]];
  log(
    `session ${session}: ${cases.length} cases, artifacts in ${path.relative(REPO, dir)}; load average ${loadAverage().join(' ')}`,
  );
  try {
    for (const c of cases) {
      if (c.scenario === 'e2e')
        ctx.e2eRate =
          c.rate === 0
            ? 0
            : (cli.e2eRate ?? (typeof c.rate === 'number' ? c.rate : autoRate(ctx.results, c.profile)) ?? 10_000);
      for (let r = 0; r < c.rounds; r++) {
        for (const system of ['ours', 'peer'] as const) {
          log(
            `${c.id} round ${r + 1}/${c.rounds}: ${system}${c.scenario === 'e2e' ? (ctx.e2eRate ? ` at ${ctx.e2eRate} spans/s` : ' as fast as accepted') : ''} (load average ${loadAverage()[0]})`,
          );
          // Cost model: every point starts from an empty Redis, so its RSS is the point's own.
          if (scale) await redis.reset();
          const res = await runOne(ctx, c, system, r);
          loads.push(loadAverage()[0]);
          ctx.results.push(res);
          log(
            res.ok
              ? `  ${Math.round(res.spansPerS)} spans/s, ${res.cpuSPerMSpans.toFixed(1)} CPU-s/M spans, peak RSS ${res.peakRssMB.toFixed(0)} MB${res.notes.length ? ` [${res.notes.join('; ')}]` : ''}`
              : `  FAILED: ${res.error}`,
          );
        }
      }
      await dropPrefill(ctx);
    }
    await dropPrefill(ctx);
    let profile: Session['profile'];
    if (cli.cpuProf) {
      // With --only, the first selected case; otherwise the sampling case (the hot path).
      const pc =
        (cli.only ? cases[0] : cases.find((c) => c.scenario === 'sampling')) ??
        (cli.quick ? QUICK : FULL).find((c) => c.scenario === 'sampling')!;
      const profDir = path.join(dir, 'cpu-profile');
      fs.mkdirSync(profDir, { recursive: true });
      log(`CPU profile: ${pc.id} with node --cpu-prof (ours)`);
      const res = await runOne(ctx, pc, 'ours', 99, [
        '--cpu-prof',
        `--cpu-prof-dir=${profDir}`,
        '--cpu-prof-interval=500',
      ]);
      const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      if (res.ok && files.length > 0) {
        profile = {
          caseId: pc.id,
          file: path.relative(REPO, path.join(profDir, files[0])),
          ...summarizeCpuProfile(path.join(profDir, files[0])),
        };
        log(`  profile written: ${profile.file}`);
      } else log(`  profile run failed: ${res.error ?? 'no .cpuprofile written'}`);
      await dropPrefill(ctx);
    }
    const sessionData: Session = {
      session,
      quick: cli.quick,
      command: `npx tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: new Date(tStart).toISOString(),
      durationS: (Date.now() - tStart) / 1000,
      machine: machine(),
      versions: vers,
      loadAverage: {
        min: Math.min(...loads),
        max: Math.max(...loads),
        mean: loads.reduce((a, b) => a + b, 0) / loads.length,
      },
      settings: {
        decisionWaitS: ctx.decisionWaitS,
        rootSettleDelayS: ctx.rootSettleS,
        latencyThresholdMs: ctx.slowMs,
        probabilisticPercent: 10,
        partitions: cases[0]?.partitions ?? PARTITIONS,
      },
      cases,
      results: ctx.results,
      profile,
      labels:
        cli.ab || cli.abFlags || cli.appB
          ? {
              a: 'ours',
              b: cli.appB
                ? `ours (${path.basename(cli.appB)})`
                : `ours+${[cli.ab ? path.basename(cli.ab) : '', cli.abFlags ?? ''].filter(Boolean).join(' ')}`,
            }
          : undefined,
    };
    fs.writeFileSync(path.join(dir, 'session.json'), JSON.stringify(sessionData, null, 2));
    const table = renderTable(sessionData) + (scale ? scaleTable(cases, ctx.results) : '');
    if (cli.json) {
      process.stderr.write(table);
      process.stdout.write(JSON.stringify(sessionData, null, 2) + '\n');
    } else process.stdout.write(table);
    if (cli.md === 'yes' || (cli.md === 'auto' && !cli.quick && !cli.ab && !cli.abFlags && !cli.appB && !scale)) {
      writeBenchmarksMd(path.join(REPO, 'BENCHMARKS.md'), sessionData);
      log('BENCHMARKS.md updated');
    }
    log(`done in ${((Date.now() - tStart) / 1000).toFixed(0)} s`);
    if (ctx.results.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    await dropPrefill(ctx).catch(() => undefined);
    await proxy.stop();
    await redis.stop();
    await kafka.close();
  }
}

main().then(
  // Exit once stdout is flushed: keep-alive sockets of clients (fetch, kafkajs) would hold the process for a while.
  () => process.stdout.write('', () => process.exit(process.exitCode ?? 0)),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
