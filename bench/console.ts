// What an open web console costs the pipeline, as an A/B in one run: one embedded collector (config/embedded.tsk,
// kept traces to a null Jaeger sink in this process) under a fixed OTLP load, in alternating rounds without (A)
// and with (B) a console client that loads what the console's pages load: /v1/pipeline and /v1/sampling every
// 5 s, /v1/status and /v1/replicas every 10 s, and the decisions stream (/v1/decisions/stream, SSE) held open,
// i.e. the Pipeline and Sampling pages open at once. Figure: the collector's CPU-seconds (utime + stime from
// /proc, not wall time) per million accepted spans in each round; the medians of A and B, their ratio, and the
// spread of the per-pair ratios (rounds go A B, B A, A B, ... so a drift of the shared machine hits both).
// Then, at idle, the CPU of each endpoint from bursts of 200 requests (a steadier, explanatory figure).
//
//   npx tsx bench/console.ts [--rate 10000] [--phase-seconds 20] [--pairs 3] [--warmup-seconds 10]
//
// Needs dist/ (npm run build). About 2 * pairs * phase + warmup + 15 seconds (2 min 25 s by default).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO, startCollector } from './lib/collector';
import { freePort } from './lib/ports';
import { readProc } from './lib/proc';
import { parseProm } from './lib/prom';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

const RATE = arg('rate', 10_000);
const PHASE_S = arg('phase-seconds', 20);
const PAIRS = Math.max(3, Math.round(arg('pairs', 3)));
const WARMUP_S = arg('warmup-seconds', 10);
const BURST = 200;

/** What the console's pages poll (path, period in seconds), as the UI does. */
const POLLED: ReadonlyArray<readonly [string, number]> = [
  ['/v1/pipeline', 5],
  ['/v1/sampling', 5],
  ['/v1/status', 10],
  ['/v1/replicas', 10],
];

async function acceptedSpans(admin: string): Promise<number> {
  const series = parseProm(await (await fetch(`${admin}/metrics`)).text());
  return series
    .filter((s) => s.name === 'tusk_receiver_spans_total' && s.labels.outcome === 'accepted')
    .reduce((n, s) => n + s.value, 0);
}

/** consoleClient loads what the open pages load and holds the decisions stream open; returns its stop. */
function consoleClient(admin: string): { stop: () => void; streamed: () => number } {
  const ctl = new AbortController();
  let streamed = 0;
  const get = (p: string) =>
    fetch(admin + p, { signal: ctl.signal })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  const timers = POLLED.map(([p, everyS]) => {
    void get(p);
    return setInterval(() => void get(p), everyS * 1000);
  });
  void fetch(`${admin}/v1/decisions/stream?backlog=50`, { signal: ctl.signal })
    .then(async (res) => {
      if (res.status !== 200 || res.body === null) throw new Error(`decision stream: HTTP ${res.status}`);
      for await (const chunk of res.body) streamed += (chunk as Uint8Array).length;
    })
    .catch((err: unknown) => {
      if (!ctl.signal.aborted) process.stderr.write(`bench/console: ${String(err)}\n`);
    });
  return {
    stop: () => {
      timers.forEach(clearInterval);
      ctl.abort();
    },
    streamed: () => streamed,
  };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Phase {
  readonly round: number;
  readonly console: boolean;
  readonly cpuS: number;
  readonly spans: number;
  readonly cpuSPerMillion: number;
  readonly streamedBytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = 202;
      res.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const [otlp, grpc, adminPort] = [await freePort(), await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-bench-console-'));
  const collector = await startCollector({
    what: 'embedded collector',
    file: path.join(REPO, 'config', 'embedded.tsk'),
    logFile: path.join(dir, 'collector.log'),
    env: {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlp}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${adminPort}`,
      JAEGER_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/api/traces`,
      DECISION_WAIT: '2s',
      TUSK_STATE_DIR: path.join(dir, 'state'),
    },
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const totalS = WARMUP_S + 2 * PAIRS * PHASE_S + 10;
  const loadgen = spawn(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      path.join(REPO, 'bench', 'loadgen', 'main.ts'),
      '--http',
      `http://127.0.0.1:${otlp}/v1/traces`,
      '--rate',
      String(RATE),
      '--max-seconds',
      String(totalS),
      '--max-spans',
      String(RATE * (totalS + 10)),
    ],
    { cwd: REPO, stdio: 'ignore' },
  );
  const phases: Phase[] = [];
  const perRequest: Array<{ path: string; everyS: number; cpuMsPerRequest: number }> = [];
  try {
    await sleep(WARMUP_S * 1000);
    for (let round = 0; round < PAIRS; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const on of order) {
        const client = on ? consoleClient(admin) : undefined;
        const cpu0 = readProc(collector.pid)!.cpuS;
        const spans0 = await acceptedSpans(admin);
        await sleep(PHASE_S * 1000);
        const cpu1 = readProc(collector.pid)!.cpuS;
        const spans1 = await acceptedSpans(admin);
        client?.stop();
        const p: Phase = {
          round: round + 1,
          console: on,
          cpuS: cpu1 - cpu0,
          spans: spans1 - spans0,
          cpuSPerMillion: ((cpu1 - cpu0) * 1e6) / Math.max(1, spans1 - spans0),
          streamedBytes: client?.streamed() ?? 0,
        };
        phases.push(p);
        process.stderr.write(
          `round ${p.round} console ${on ? 'on ' : 'off'}: ${p.spans} spans (${(p.spans / PHASE_S).toFixed(0)}/s), ` +
            `cpu ${p.cpuS.toFixed(2)} s, ${p.cpuSPerMillion.toFixed(1)} CPU-s per million spans` +
            (on ? `, ${p.streamedBytes} bytes streamed` : '') +
            '\n',
        );
      }
    }
    // Per request at idle (no load): bursts of sequential requests, the collector's CPU during the burst less its
    // idle CPU over the same time.
    loadgen.kill('SIGTERM');
    await sleep(4000);
    const idle0 = readProc(collector.pid)!.cpuS;
    await sleep(3000);
    const idleMsPerS = ((readProc(collector.pid)!.cpuS - idle0) * 1000) / 3;
    for (const [p, everyS] of POLLED) {
      const cpu0 = readProc(collector.pid)!.cpuS;
      const t0 = Date.now();
      for (let i = 0; i < BURST; i++) await (await fetch(admin + p)).arrayBuffer();
      const ms = (readProc(collector.pid)!.cpuS - cpu0) * 1000 - (idleMsPerS * (Date.now() - t0)) / 1000;
      perRequest.push({ path: p, everyS, cpuMsPerRequest: Math.max(0, ms) / BURST });
    }
  } finally {
    loadgen.kill('SIGTERM');
    await collector.stop();
    sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const of = (on: boolean) => phases.filter((p) => p.console === on).map((p) => p.cpuSPerMillion);
  const off = median(of(false));
  const on = median(of(true));
  const pairRatios = Array.from({ length: PAIRS }, (_, i) => {
    const r = phases.filter((p) => p.round === i + 1);
    return r.find((p) => p.console)!.cpuSPerMillion / r.find((p) => !p.console)!.cpuSPerMillion - 1;
  });
  const offAll = of(false);
  const onAll = of(true);
  const endpointsMsPerS = perRequest.reduce((n, r) => n + r.cpuMsPerRequest / r.everyS, 0);
  const pipelineMsPerS = (off * RATE) / 1000; // CPU-s per million spans x spans/s = CPU-µs per s; /1000 = ms/s
  const result = {
    rate: RATE,
    phaseSeconds: PHASE_S,
    pairs: PAIRS,
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    cpuSPerMillionOff: off,
    cpuSPerMillionOn: on,
    change: on / off - 1,
    pairChanges: pairRatios,
    spreadOff: [Math.min(...offAll), Math.max(...offAll)],
    spreadOn: [Math.min(...onAll), Math.max(...onAll)],
    perRequest,
    endpointsCpuMsPerS: endpointsMsPerS,
    endpointsShareAtRate: endpointsMsPerS / pipelineMsPerS,
    phases,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  process.stderr.write(
    `CPU-s per million spans at ${RATE} spans/s, median of ${PAIRS} rounds each: ` +
      `${off.toFixed(1)} without a console (${result.spreadOff.map((v) => v.toFixed(1)).join('..')}), ` +
      `${on.toFixed(1)} with one (${result.spreadOn.map((v) => v.toFixed(1)).join('..')}): ${pct(on / off - 1)}; ` +
      `per pair ${pairRatios.map(pct).join(', ')}\n`,
  );
  process.stderr.write(
    `endpoints at the UI's polling rate (from bursts at idle): ${endpointsMsPerS.toFixed(2)} ms of CPU per s = ` +
      `${pct(result.endpointsShareAtRate)} of the pipeline's CPU at ${RATE} spans/s\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/console: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
