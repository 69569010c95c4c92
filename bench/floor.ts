// Where the two-tier deployment spends its CPU, stage by stage, next to the floor of each stage: the cost of
// the same bytes through the bare transport with no processing, measured in the same run.
//
//   npx tsx bench/floor.ts [--rate SPANS_PER_S] [--seconds S] [--rounds N] [--cpu-prof]
//                          [--only e2e|grpc] [--app-b DIR] [--flags-b "FLAGS"] [--node-flags "FLAGS"] [--seed N]
//   npx tsx bench/floor.ts --report .scratch/bench/floor-SESSION     (the table of a finished session again)
//
// Per round (alternating, so drift hits every side alike):
//   e2e   ours, one process per tier (bench/configs/ours-ingest.tsk + ours-sample.tsk), OTLP/HTTP small spans
//         at a fixed rate; kept traces go to a capture server (answers 200, keeps the bodies). Then the floors
//         of the same bytes: a bare node:http server receiving the same requests (same seed), a bare kafkajs
//         producer writing the messages our ingest tier wrote (same keys and values, same request rate) while
//         a bare kafkajs consumer (consumer.run, eachBatch doing nothing, our receiver's fetch settings)
//         reads them, and a bare POST of the captured export bodies to Jaeger's OTLP/HTTP receiver at the
//         pace they were exported.
//   grpc  ours' ingest tier alone over OTLP/gRPC with prod spans at the same rate, and a bare node:http2
//         server answering the same gRPC calls (empty response, grpc-status 0).
// CPU = utime + stime of the process under test (/proc) over the load window, per million spans accepted
// (the benchmark machine's VM exposes no hardware counters, so no instruction counts). --cpu-prof adds one
// profiled run of ours per phase and splits each tier's CPU into stages by the profile's samples (innermost
// frame that belongs to a stage). --app-b DIR: A/B of our own code instead of floors: DIR holds bin/ and
// dist/ of the B build; A is this checkout's dist/. --flags-b "FLAGS": the same with node flags for B.
// Medians over rounds, spread = min-max.
// Artifacts go to .scratch/bench/floor-<session>/.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { BenchKafka, KAFKA_BROKERS } from './lib/kafka';
import { readProc, loadAverage } from './lib/proc';
import { freePort } from './lib/ports';
import { PrivateRedis } from './lib/redis';
import { med } from './lib/report';
import { REPO, snapshotCollector, startOursFor, type RunningSystem } from './lib/systems';
import { stageSplit, type Tier } from './lib/stages';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[floor] ${msg}\n`);
const JAEGER_OTLP = process.env.BENCH_JAEGER_OTLP ?? 'http://127.0.0.1:14318';
/** Our Kafka receiver's fetch settings (receivers/kafka defaults), used by the bare consumer too. */
const FETCH = { minBytes: 1 << 20, maxWaitTimeInMs: 250, maxBytesPerPartition: 1 << 20 };

// ---------------------------------------------------------------------------------------------------
// measurement helpers

/** Meter reads the CPU-seconds (utime + stime) of a set of processes over a window. */
class Meter {
  private _cpu0 = new Map<number, number>();

  constructor(private readonly _pids: number[]) {}

  start(): void {
    for (const p of this._pids) this._cpu0.set(p, readProc(p)?.cpuS ?? 0);
  }

  /** stop returns the CPU-seconds of each process since start. */
  stop(): number[] {
    return this._pids.map((p) => (readProc(p)?.cpuS ?? 0) - (this._cpu0.get(p) ?? 0));
  }
}

interface LoadgenSummary {
  acceptedSpans: number;
  acceptedTraces: number;
  failedRequests: number;
  startMs: number;
  endMs: number;
}

function runLoadgen(args: string[], logFile: string): Promise<LoadgenSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(REPO, 'bench', 'loadgen', 'main.ts'), ...args],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      fs.writeFileSync(logFile, out);
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as LoadgenSummary);
      else reject(new Error(`load generator exited with ${code}: ${out.slice(-400)}`));
    });
  });
}

/** Worker is a floor process of this file (`--worker NAME`), talking over IPC. */
class Worker {
  readonly child: ChildProcess;
  private _msgs: Array<Record<string, unknown>> = [];
  private _waiters: Array<() => void> = [];

  constructor(name: string, args: string[], logFile: string) {
    const out = fs.openSync(logFile, 'w');
    this.child = spawn(process.execPath, ['--require', 'tsx/cjs', __filename, '--worker', name, ...args], {
      cwd: REPO,
      stdio: ['ignore', out, out, 'ipc'],
    });
    fs.closeSync(out);
    this.child.on('message', (m: Record<string, unknown>) => {
      this._msgs.push(m);
      for (const w of this._waiters.splice(0)) w();
    });
    this.child.on('exit', () => {
      for (const w of this._waiters.splice(0)) w();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** next waits for the worker's message of the given type. */
  async next(type: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this._msgs.findIndex((m) => m.type === type);
      if (i >= 0) return this._msgs.splice(i, 1)[0];
      if (this.child.exitCode !== null) throw new Error(`floor worker exited before '${type}'`);
      if (Date.now() > deadline) throw new Error(`floor worker: no '${type}' in ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this._waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  send(m: Record<string, unknown>): void {
    this.child.send(m);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  }
}

// ---------------------------------------------------------------------------------------------------
// capture server: the sampling tier's export target

interface Captured {
  atMs: number;
  path: string;
  body: Buffer;
}

class CaptureServer {
  private _server?: http.Server;
  readonly bodies: Captured[] = [];
  port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this._server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        this.bodies.push({ atMs: Date.now(), path: req.url ?? '/v1/traces', body: Buffer.concat(parts) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    this._server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this._server!.listen(this.port, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    await new Promise((r) => this._server?.close(r));
    this._server?.closeAllConnections();
  }
}

// ---------------------------------------------------------------------------------------------------
// workers (child processes)

async function workerHttp(): Promise<void> {
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.send!({ type: 'ready', port: (server.address() as { port: number }).port });
}

/** Bare gRPC unary answer over node:http2: read the request, answer an empty message and grpc-status 0. */
async function workerHttp2(): Promise<void> {
  const empty = Buffer.from([0, 0, 0, 0, 0]);
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(empty);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.send!({ type: 'ready', port: (server.address() as { port: number }).port });
}

function bareKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
}

/**
 * Bare produce: load every message of `from` (not measured), then on 'go' send them to `to` in the order
 * they were written, `perSend` messages per send, `sendsPerS` sends a second, acks=all, no compression.
 */
async function workerProduce(from: string, to: string, total: number, perSend: number, sendsPerS: number) {
  const kafka = bareKafka('tusk-floor-produce');
  const msgs: Array<{ key: Buffer | null; value: Buffer | null }> = [];
  const loader = kafka.consumer({ groupId: `tusk-floor-load-${process.pid}`, maxBytes: 64 << 20 });
  await loader.connect();
  await loader.subscribe({ topic: from, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void loader.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) msgs.push({ key: m.key, value: m.value });
        if (msgs.length >= total) resolve();
      },
    });
  });
  await loader.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  process.send!({ type: 'ready', loaded: msgs.length });
  await new Promise<void>((r) => process.once('message', () => r()));
  const t0 = Date.now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0, k = 0; i < msgs.length; i += perSend, k++) {
    const due = t0 + (k * 1000) / sendsPerS;
    if (due > Date.now()) await sleep(due - Date.now());
    const p = producer.send({ topic: to, acks: -1, messages: msgs.slice(i, i + perSend) });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 8) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  process.send!({ type: 'done', sent: msgs.length });
  await producer.disconnect();
}

/** Bare fetch: consumer.run over `topic` with eachBatch doing nothing, our receiver's fetch settings. */
async function workerFetch(topic: string, total: number): Promise<void> {
  const kafka = bareKafka('tusk-floor-fetch');
  const consumer = kafka.consumer({ groupId: `tusk-floor-fetch-${process.pid}`, ...FETCH });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (!joined) process.send!({ type: 'ready' });
    joined = true;
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= total) process.send!({ type: 'done', seen });
    },
  });
}

/** Bare export: POST the captured bodies (file of [u32 len][f64 offsetMs][body]...) to Jaeger at their pace. */
async function workerExport(file: string, url: string): Promise<void> {
  const raw = fs.readFileSync(file);
  const bodies: Array<{ at: number; body: Buffer }> = [];
  for (let o = 0; o < raw.length;) {
    const len = raw.readUInt32LE(o);
    const at = raw.readDoubleLE(o + 4);
    bodies.push({ at, body: raw.subarray(o + 12, o + 12 + len) });
    o += 12 + len;
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  process.send!({ type: 'ready', bodies: bodies.length });
  await new Promise<void>((r) => process.once('message', () => r()));
  const t0 = Date.now();
  let failed = 0;
  await Promise.all(
    bodies.map(async ({ at, body }) => {
      if (t0 + at > Date.now()) await sleep(t0 + at - Date.now());
      const res = await fetchLike(url, body, agent);
      if (res !== 200) failed++;
    }),
  );
  process.send!({ type: 'done', failed });
}

function fetchLike(url: string, body: Buffer, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------
// phases (parent)

interface Opts {
  rate: number;
  seconds: number;
  rounds: number;
  cpuProf: boolean;
  only?: string;
  appB?: string;
  seed: number;
  /** Extra node flags for our processes (e.g. --trace-gc). */
  nodeFlags: string[];
  /** Extra node flags for side B only (A/B of node flags on the same build). */
  flagsB: string[];
}

/** One figure of one row: CPU-seconds per million spans. */
interface Figure {
  cpuPerM: number;
}
type Rows = Map<string, Figure[]>;

function add(rows: Rows, key: string, cpuS: number, spans: number): void {
  const list = rows.get(key) ?? [];
  list.push({ cpuPerM: (cpuS / spans) * 1e6 });
  rows.set(key, list);
}

interface Ctx {
  opts: Opts;
  dir: string;
  kafka: BenchKafka;
  redis: PrivateRedis;
  rows: Rows;
  profiles: Array<{ phase: string; tier: Tier; file: string; cpuPerM: number }>;
  n: number;
}

async function startOurs(
  ctx: Ctx,
  phase: 'e2e' | 'grpc',
  tag: string,
  topic: string,
  exportEndpoint: string,
  flags: string[],
) {
  const dir = path.join(ctx.dir, tag);
  fs.mkdirSync(dir, { recursive: true });
  return startOursFor({
    scenario: phase === 'e2e' ? 'e2e' : 'ingest',
    runId: tag,
    dir,
    topic,
    group: `${topic}-g`,
    redisUrl: ctx.redis.url,
    redisPrefix: `${topic}:`,
    decisionWaitS: 5,
    rootSettleS: 2,
    slowMs: 1000,
    exportEndpoint,
    nodeFlags: flags,
    tracesPerSec: ctx.opts.rate / 11.5,
  });
}

function loadArgs(ctx: Ctx, target: string[], profile: string): string[] {
  const o = ctx.opts;
  return [
    ...target,
    '--profile',
    profile,
    '--rate',
    String(o.rate),
    '--max-seconds',
    String(o.seconds),
    '--max-spans',
    String(o.rate * o.seconds * 2),
    '--concurrency',
    '8',
    '--seed',
    String(o.seed),
  ];
}

/**
 * runOurs runs ours for one phase and records each tier's CPU per million spans under `label`; with a
 * profile directory it splits the tiers into stages instead. Returns the ingest topic and what it wrote.
 */
async function runOurs(
  ctx: Ctx,
  phase: 'e2e' | 'grpc',
  label: string,
  profDir?: string,
): Promise<{ topic: string; spans: number; requests: number; captured: Captured[] }> {
  const tag = `${phase}-${label}-${ctx.n++}`;
  const topic = `tusk-floor-${process.pid}-${tag}`;
  await ctx.kafka.createTopic(topic);
  const cap = new CaptureServer();
  await cap.start();
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=500'] : [];
  const flags = [...ctx.opts.nodeFlags, ...(label === 'B' ? ctx.opts.flagsB : []), ...prof];
  let sys: RunningSystem | undefined;
  try {
    sys = await startOurs(ctx, phase, tag, topic, `http://127.0.0.1:${cap.port}`, flags);
    await sleep(1500);
    const pids = sys.procs.map((p) => p.child.pid!);
    // The sampling tier's Redis server is metered too (its own row, not in the tiers' total).
    const redisPid = phase === 'e2e' ? ctx.redis.pid : undefined;
    const meter = new Meter(redisPid === undefined ? pids : [...pids, redisPid]);
    const target = phase === 'e2e' ? ['--http', sys.httpUrl!] : ['--grpc', sys.grpcTarget!];
    meter.start();
    const lg = await runLoadgen(
      loadArgs(ctx, target, phase === 'e2e' ? 'small' : 'prod'),
      path.join(ctx.dir, tag, 'loadgen.log'),
    );
    const cpu = meter.stop();
    const requests = Math.round(lg.acceptedSpans / 256);
    if (!profDir) {
      sys.procs.forEach((p, i) => add(ctx.rows, `${label}|${phase}|${p.role}`, cpu[i], lg.acceptedSpans));
      const tiers = cpu.slice(0, pids.length);
      add(
        ctx.rows,
        `${label}|${phase}|total`,
        tiers.reduce((a, b) => a + b, 0),
        lg.acceptedSpans,
      );
      if (redisPid !== undefined) add(ctx.rows, `${label}|${phase}|redis server`, cpu[pids.length], lg.acceptedSpans);
      const perM = (i: number) => ((cpu[i] / lg.acceptedSpans) * 1e6).toFixed(1);
      const peakMB = (i: number) => ((readProc(pids[i])?.hwmBytes ?? 0) / 1e6).toFixed(0);
      log(
        `  ${label} ${phase}: ${sys.procs.map((p, i) => `${p.role} ${perM(i)}`).join(', ')} CPU-s/M; ` +
          `peak RSS ${sys.procs.map((p, i) => `${p.role} ${peakMB(i)}`).join(', ')} MB`,
      );
    }
    if (phase === 'e2e') await sleep(3000); // the sampler decides the last traces (root_settle_delay 2 s)
    await sys.stop();
    if (profDir) {
      sys.procs.forEach((p, i) => {
        const f = fs.readdirSync(profDir).find((x) => x.includes(`.${p.child.pid}.`));
        if (f)
          ctx.profiles.push({
            phase,
            tier: p.role as Tier,
            file: path.join(profDir, f),
            cpuPerM: (cpu[i] / lg.acceptedSpans) * 1e6,
          });
      });
    }
    return { topic, spans: lg.acceptedSpans, requests, captured: cap.bodies };
  } finally {
    await sys?.stop().catch(() => undefined);
    await cap.stop();
  }
}

/** measureWorker runs one floor worker around `drive` and records its CPU per million spans. */
async function measureWorker(
  ctx: Ctx,
  key: string,
  w: Worker,
  spans: number,
  drive: () => Promise<void>,
): Promise<void> {
  const meter = new Meter([w.pid]);
  meter.start();
  await drive();
  const cpu = meter.stop();
  add(ctx.rows, key, cpu[0], spans);
  log(`  floor ${key}: ${((cpu[0] / spans) * 1e6).toFixed(2)} CPU-s/M`);
  await w.stop();
}

async function floorsE2e(ctx: Ctx, ours: { topic: string; spans: number; requests: number; captured: Captured[] }) {
  const tag = `floor-${ctx.n++}`;
  const dir = path.join(ctx.dir, tag);
  fs.mkdirSync(dir, { recursive: true });
  // receive: node:http, the same requests
  const wh = new Worker('http', [], path.join(dir, 'http.log'));
  const { port } = (await wh.next('ready')) as unknown as { port: number };
  let spans = 0;
  await measureWorker(ctx, 'floor|e2e|receive', wh, ours.spans, async () => {
    const lg = await runLoadgen(
      loadArgs(ctx, ['--http', `http://127.0.0.1:${port}/v1/traces`], 'small'),
      path.join(dir, 'loadgen.log'),
    );
    spans = lg.acceptedSpans;
  });
  if (Math.abs(spans - ours.spans) > ours.spans * 0.05)
    log(`  note: floor receive got ${spans} spans, ours ${ours.spans}`);
  // produce + fetch: the messages ours wrote, at the same request rate
  const total = await ctx.kafka.messages(ours.topic);
  const to = `${ours.topic}-bare`;
  await ctx.kafka.createTopic(to);
  const perSend = Math.max(1, Math.round(total / Math.max(1, ours.requests)));
  const sendsPerS = total / perSend / ctx.opts.seconds;
  const wp = new Worker(
    'produce',
    [ours.topic, to, String(total), String(perSend), String(sendsPerS)],
    path.join(dir, 'produce.log'),
  );
  const wf = new Worker('fetch', [to, String(total)], path.join(dir, 'fetch.log'));
  await wp.next('ready');
  await wf.next('ready');
  await sleep(500);
  const mp = new Meter([wp.pid]);
  const mf = new Meter([wf.pid]);
  mp.start();
  mf.start();
  wp.send({ type: 'go' });
  await wp.next('done');
  const p = mp.stop();
  await wf.next('done');
  const f = mf.stop();
  add(ctx.rows, 'floor|e2e|produce', p[0], ours.spans);
  add(ctx.rows, 'floor|e2e|fetch', f[0], ours.spans);
  const perM = (cpuS: number) => ((cpuS / ours.spans) * 1e6).toFixed(2);
  log(`  floor produce ${perM(p[0])}, fetch ${perM(f[0])} CPU-s/M (${total} messages, ${perSend} per send)`);
  await wp.stop();
  await wf.stop();
  await ctx.kafka.cleanup([to], []);
  // export: the captured bodies, same pace
  const file = path.join(dir, 'export.bin');
  const t0 = ours.captured[0]?.atMs ?? 0;
  const parts: Buffer[] = [];
  for (const c of ours.captured) {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(c.body.length, 0);
    h.writeDoubleLE(c.atMs - t0, 4);
    parts.push(h, c.body);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  const we = new Worker('export', [file, `${JAEGER_OTLP}/v1/traces`], path.join(dir, 'export.log'));
  await we.next('ready');
  await measureWorker(ctx, 'floor|e2e|export', we, ours.spans, async () => {
    we.send({ type: 'go' });
    const d = await we.next('done');
    if (Number(d.failed) > 0) log(`  note: ${String(d.failed)} export POSTs to Jaeger failed`);
  });
  fs.rmSync(file);
}

async function floorGrpc(ctx: Ctx, spans: number): Promise<void> {
  const dir = path.join(ctx.dir, `floor-grpc-${ctx.n++}`);
  fs.mkdirSync(dir, { recursive: true });
  const w = new Worker('http2', [], path.join(dir, 'http2.log'));
  const { port } = (await w.next('ready')) as unknown as { port: number };
  await measureWorker(ctx, 'floor|grpc|receive', w, spans, async () => {
    await runLoadgen(loadArgs(ctx, ['--grpc', `127.0.0.1:${port}`], 'prod'), path.join(dir, 'loadgen.log'));
  });
}

// ---------------------------------------------------------------------------------------------------
// report

/** median of the finite figures, NaN without any (the report's cells print '-'). */
const median = (xs: number[]): number => med(xs) ?? NaN;
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
function cell(list: Figure[] | undefined, d = 1): string {
  if (!list || list.length === 0) return '-';
  const v = list.map((f) => f.cpuPerM);
  return list.length > 1 ? `${fmt(median(v), d)} (${fmt(Math.min(...v), d)}-${fmt(Math.max(...v), d)})` : fmt(v[0], d);
}

function renderReport(ctx: Pick<Ctx, 'opts' | 'dir' | 'rows' | 'profiles'>): string {
  const r = ctx.rows;
  const med = (k: string) => median((r.get(k) ?? []).map((f) => f.cpuPerM));
  const out: string[] = [];
  const o = ctx.opts;
  out.push(
    `floor run ${path.basename(ctx.dir)}: ${o.rounds} round(s), ${o.rate} spans/s for ${o.seconds} s per run, ` +
      'CPU-s per million spans, median (min-max) over the rounds',
    '',
  );
  if (o.appB !== undefined || o.flagsB.length > 0) {
    out.push('| phase / process | A (this checkout) | B | B/A |', '|---|---|---|---|');
    const keys = [...new Set([...r.keys()].map((k) => k.split('|').slice(1).join('|')))];
    for (const k of keys) {
      const a = r.get(`A|${k}`);
      const b = r.get(`B|${k}`);
      out.push(`| ${k.replace('|', ' / ')} | ${cell(a)} | ${cell(b)} | ${fmt(med(`B|${k}`) / med(`A|${k}`), 3)} |`);
    }
    return out.join('\n') + '\n';
  }
  out.push('| tier / stage | ours | floor (bare transport, same bytes) | gap |', '|---|---|---|---|');
  const split = new Map<string, number>();
  for (const p of ctx.profiles) {
    const base = med(`A|${p.phase}|${p.tier}`);
    for (const s of stageSplit(p.file, p.tier)) split.set(`${p.phase}|${p.tier}|${s.stage}`, s.share * base || 0);
  }
  /** floorKey: the floor's row; null: a stage without transport (floor 0); undefined: not measured here. */
  const stageRow = (label: string, key: string, floorKey: string | null | undefined) => {
    const ours = split.get(key);
    const fl = floorKey ? med(floorKey) : NaN;
    const floorCell = floorKey ? cell(r.get(floorKey), 2) : floorKey === null ? '0 (no transport)' : 'not measured';
    const gap = ours === undefined ? NaN : ours - (Number.isFinite(fl) ? fl : 0);
    out.push(`| ${label} | ${ours === undefined ? '-' : fmt(ours)} | ${floorCell} | ${fmt(gap)} |`);
  };
  if (!o.only || o.only === 'e2e') {
    out.push(`| **ingest tier, OTLP/HTTP small (whole process)** | **${cell(r.get('A|e2e|ingest'))}** | | |`);
    stageRow('  HTTP receive', 'e2e|ingest|receive', 'floor|e2e|receive');
    stageRow('  split by trace id, with validation (UTF-8 included)', 'e2e|ingest|split', null);
    stageRow('  Kafka produce', 'e2e|ingest|produce', 'floor|e2e|produce');
    stageRow('  GC', 'e2e|ingest|gc', null);
    stageRow('  other (runtime, timers, metrics, idle wake-ups)', 'e2e|ingest|other', null);
    out.push(`| **sampling tier (whole process)** | **${cell(r.get('A|e2e|sample'))}** | | |`);
    stageRow('  Kafka fetch', 'e2e|sample|fetch', 'floor|e2e|fetch');
    stageRow('  index (intake into the buffer)', 'e2e|sample|index', null);
    stageRow('  decide (policies, stamping)', 'e2e|sample|decide', null);
    stageRow('  Redis state', 'e2e|sample|redis', null);
    stageRow('  export (OTLP/HTTP to Jaeger)', 'e2e|sample|export', 'floor|e2e|export');
    stageRow('  GC', 'e2e|sample|gc', null);
    stageRow('  other (runtime, timers, metrics, idle wake-ups)', 'e2e|sample|other', null);
    out.push(`| **both tiers** | **${cell(r.get('A|e2e|total'))}** | | |`);
  }
  if (!o.only || o.only === 'grpc') {
    out.push(`| **ingest tier, OTLP/gRPC prod (whole process)** | **${cell(r.get('A|grpc|ingest'))}** | | |`);
    stageRow('  gRPC receive (grpc-js, HTTP/2)', 'grpc|ingest|receive', 'floor|grpc|receive');
    stageRow('  split by trace id, with validation (UTF-8 included)', 'grpc|ingest|split', null);
    stageRow('  Kafka produce', 'grpc|ingest|produce', undefined);
    stageRow('  GC', 'grpc|ingest|gc', null);
    stageRow('  other', 'grpc|ingest|other', null);
  }
  out.push(
    '',
    "Ours per stage = the tier's median CPU x the stage's share of the busy samples of one profiled run " +
      '(node --cpu-prof, innermost frame owned by a stage); floors include their own GC and runtime.',
  );
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// main

function parseOpts(argv: string[]): Opts {
  const o: Opts = { rate: 10_000, seconds: 15, rounds: 2, cpuProf: false, seed: 1, nodeFlags: [], flagsB: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--rate') o.rate = Number(v());
    else if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--only') o.only = v();
    else if (a === '--app-b') o.appB = path.resolve(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--node-flags') o.nodeFlags = v().split(/\s+/).filter(Boolean);
    else if (a === '--flags-b') o.flagsB = v().split(/\s+/).filter(Boolean);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parseOpts(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const session = `${stamp}-${process.pid}`;
  const dir = path.join(REPO, '.scratch', 'bench', `floor-${session}`);
  fs.mkdirSync(dir, { recursive: true });
  const kafka = new BenchKafka();
  await kafka.connect();
  const redis = new PrivateRedis();
  await redis.start(path.join(dir, 'redis'));
  const ctx: Ctx = { opts, dir, kafka, redis, rows: new Map(), profiles: [], n: 0 };
  const topics: string[] = [];
  const phases = (['e2e', 'grpc'] as const).filter((p) => !opts.only || opts.only === p);
  const appA = path.join(dir, 'a');
  snapshotCollector(appA);
  log(`session ${session}, artifacts in ${path.relative(REPO, dir)}; load average ${loadAverage().join(' ')}`);
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (const phase of phases) {
        const ab = opts.appB !== undefined || opts.flagsB.length > 0;
        const sides = ab ? (round % 2 ? ['B', 'A'] : ['A', 'B']) : ['A'];
        for (const side of sides) {
          if (side === 'A' || !opts.appB) snapshotCollector(appA);
          else snapshotCollector(path.join(dir, 'b'), opts.appB);
          log(`round ${round + 1}/${opts.rounds} ${phase}: ours ${side} (load average ${loadAverage()[0]})`);
          const res = await runOurs(ctx, phase, side);
          topics.push(res.topic);
          if (!ab) {
            if (phase === 'e2e') await floorsE2e(ctx, res);
            else await floorGrpc(ctx, res.spans);
          }
        }
      }
    }
    if (opts.cpuProf) {
      for (const phase of phases) {
        const profDir = path.join(dir, `cpu-profile-${phase}`);
        fs.mkdirSync(profDir, { recursive: true });
        log(`profile ${phase}: ours with node --cpu-prof`);
        snapshotCollector(appA);
        const res = await runOurs(ctx, phase, 'P', profDir);
        topics.push(res.topic);
      }
    }
  } finally {
    await kafka.cleanup(
      topics,
      topics.map((t) => `${t}-g`),
    );
    await redis.stop();
    await kafka.close();
  }
  const saved: Saved = { opts, rows: Object.fromEntries(ctx.rows), profiles: ctx.profiles };
  fs.writeFileSync(path.join(dir, 'session.json'), JSON.stringify(saved, null, 1));
  const report = renderReport(ctx);
  fs.writeFileSync(path.join(dir, 'report.md'), report);
  process.stdout.write(report);
}

/** What a session keeps in session.json, so that `--report DIR` renders its table again. */
interface Saved {
  opts: Opts;
  rows: Record<string, Figure[]>;
  profiles: Ctx['profiles'];
}

function reportAgain(dir: string): void {
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'session.json'), 'utf8')) as Saved;
  const ctx = { opts: saved.opts, dir, rows: new Map(Object.entries(saved.rows)), profiles: saved.profiles };
  process.stdout.write(renderReport(ctx as Ctx));
}

if (process.argv[2] === '--worker') {
  const [name, ...a] = process.argv.slice(3);
  const run: Record<string, () => Promise<void>> = {
    http: workerHttp,
    http2: workerHttp2,
    produce: () => workerProduce(a[0], a[1], Number(a[2]), Number(a[3]), Number(a[4])),
    fetch: () => workerFetch(a[0], Number(a[1])),
    export: () => workerExport(a[0], a[1]),
  };
  process.on('SIGTERM', () => process.exit(0));
  run[name]().catch((err: unknown) => {
    process.stderr.write(`floor worker ${name}: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else if (process.argv[2] === '--report') {
  reportAgain(path.resolve(process.argv[3]));
} else {
  main().then(
    () => process.stdout.write('', () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`floor: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
