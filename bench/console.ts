// What an open web console costs the pipeline: one embedded collector (config/embedded.tsk, kept traces to a
// null Jaeger sink in this process) under a fixed OTLP load, in alternating phases without and with a
// console client polling its /v1/ endpoints the way the open pages do (Pipeline, Sampling with its
// decisions stream, status), all in one run. Figure: collector CPU (from /proc) per accepted span, per phase.
//
//   npx tsx bench/console.ts [--rate 10000] [--phase-seconds 20] [--pairs 3] [--poll-scale 1]
//
// --poll-scale 2 polls twice as often as the UI does (two open tabs). Needs dist/ (npm run build).
// Three figures: CPU per span under load with and without the client (noisy on a shared machine), the
// collector's CPU at idle with and without it, and the CPU of each endpoint from bursts of 200 requests
// weighted by how often the UI polls it (the steadiest; the ring's own sampling is in the idle figures).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort } from '../test/helpers/ports';
import { REPO_ROOT, startCollector } from '../test/helpers/collector-process';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

const RATE = arg('rate', 10_000);
const PHASE_S = arg('phase-seconds', 20);
const PAIRS = arg('pairs', 3);
const POLL_SCALE = arg('poll-scale', 1);
const WARMUP_S = 10;
const BURST = 200;
const TICK_HZ = 100; // USER_HZ on Linux

/** cpuSeconds reads utime + stime of a process from /proc. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK_HZ;
}

async function acceptedSpans(admin: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('tusk_receiver_spans_total{') && line.includes('outcome="accepted"'))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** consoleClient polls like the open pages: pipeline 5 s, sampling 5 s, decisions 2 s, status 10 s. */
function consoleClient(admin: string): () => void {
  const every = (ms: number, p: string) =>
    setInterval(
      () =>
        void fetch(admin + p)
          .then((r) => r.arrayBuffer())
          .catch(() => undefined),
      ms / POLL_SCALE,
    );
  const timers = [
    every(5000, '/v1/pipeline'),
    every(5000, '/v1/sampling'),
    every(2000, '/v1/decisions?limit=50'),
    every(10_000, '/v1/status'),
  ];
  return () => timers.forEach(clearInterval);
}

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
  const collector = await startCollector(path.join(REPO_ROOT, 'config', 'embedded.tsk'), [], {
    OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlp}`,
    OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    TUSK_ADMIN_ENDPOINT: `127.0.0.1:${adminPort}`,
    JAEGER_ENDPOINT: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/api/traces`,
    DECISION_WAIT: '2s',
    TUSK_LOG_LEVEL: 'warn',
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const pid = collector.child.pid!;
  const totalS = WARMUP_S + 2 * PAIRS * PHASE_S + 5;
  const loadgen = spawn(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      path.join(REPO_ROOT, 'bench', 'loadgen', 'main.ts'),
      '--http',
      `http://127.0.0.1:${otlp}/v1/traces`,
      '--rate',
      String(RATE),
      '--max-seconds',
      String(totalS),
      '--max-spans',
      String(RATE * (totalS + 10)),
    ],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  const phases: Array<{ console: boolean; cpuS: number; spans: number; usPerSpan: number }> = [];
  const idle: Array<{ console: boolean; cpuMsPerS: number }> = [];
  const perRequest: Array<{ path: string; everyS: number; cpuMsPerRequest: number }> = [];
  try {
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    for (let i = 0; i < 2 * PAIRS; i++) {
      const on = i % 2 === 1;
      const stop = on ? consoleClient(admin) : () => undefined;
      const [cpu0, spans0] = [cpuSeconds(pid), await acceptedSpans(admin)];
      await new Promise((r) => setTimeout(r, PHASE_S * 1000));
      const [cpu1, spans1] = [cpuSeconds(pid), await acceptedSpans(admin)];
      stop();
      const p = {
        console: on,
        cpuS: cpu1 - cpu0,
        spans: spans1 - spans0,
        usPerSpan: ((cpu1 - cpu0) * 1e6) / Math.max(1, spans1 - spans0),
      };
      phases.push(p);
      process.stderr.write(
        `phase ${i + 1} console ${on ? 'on ' : 'off'}: ${p.spans} spans (${(p.spans / PHASE_S).toFixed(0)}/s), ` +
          `cpu ${p.cpuS.toFixed(2)} s, ${p.usPerSpan.toFixed(2)} µs/span\n`,
      );
    }
    // The console's own cost, apart from load noise: the collector's CPU per second with no load (its series
    // and decisions ring still full), without and with the client; compared below with the pipeline's CPU at RATE.
    loadgen.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 5000));
    for (let i = 0; i < 2 * PAIRS; i++) {
      const on = i % 2 === 1;
      const stop = on ? consoleClient(admin) : () => undefined;
      const cpu0 = cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, PHASE_S * 1000));
      const cpuMsPerS = ((cpuSeconds(pid) - cpu0) * 1000) / PHASE_S;
      stop();
      idle.push({ console: on, cpuMsPerS });
      process.stderr.write(
        `idle phase ${i + 1} console ${on ? 'on ' : 'off'}: ${cpuMsPerS.toFixed(1)} ms CPU per second\n`,
      );
    }
    // Per request, with a large signal: bursts of sequential requests to each endpoint, CPU of the collector during
    // the burst less its idle CPU over the same time. With the UI's polling schedule this gives the console's cost.
    const idleMsPerS = idle.filter((p) => !p.console).reduce((n, p, _, a) => n + p.cpuMsPerS / a.length, 0);
    for (const [p, everyS] of [
      ['/v1/pipeline', 5],
      ['/v1/sampling', 5],
      ['/v1/decisions?limit=50', 2],
      ['/v1/status', 10],
    ] as const) {
      const cpu0 = cpuSeconds(pid);
      const t0 = Date.now();
      for (let i = 0; i < BURST; i++) await (await fetch(admin + p)).arrayBuffer();
      const ms = (cpuSeconds(pid) - cpu0) * 1000 - (idleMsPerS * (Date.now() - t0)) / 1000;
      perRequest.push({ path: p, everyS, cpuMsPerRequest: Math.max(0, ms) / BURST });
      process.stderr.write(
        `${p}: ${(Math.max(0, ms) / BURST).toFixed(3)} ms CPU per request (polled every ${everyS} s)\n`,
      );
    }
  } finally {
    loadgen.kill('SIGTERM');
    await collector.stop('SIGTERM');
    sink.close();
  }
  const mean = (on: boolean) => {
    const ps = phases.filter((p) => p.console === on);
    return (ps.reduce((n, p) => n + p.cpuS, 0) * 1e6) / ps.reduce((n, p) => n + p.spans, 0);
  };
  const off = mean(false);
  const on = mean(true);
  const idleMean = (on: boolean) =>
    idle.filter((p) => p.console === on).reduce((n, p, _, a) => n + p.cpuMsPerS / a.length, 0);
  const consoleMsPerS = idleMean(true) - idleMean(false);
  // Share of the pipeline's CPU at RATE spans/s that the console's own work adds.
  const consoleShare = consoleMsPerS / ((off * RATE) / 1000);
  const burstMsPerS = perRequest.reduce((n, r) => n + (r.cpuMsPerRequest * POLL_SCALE) / r.everyS, 0);
  const burstShare = burstMsPerS / ((off * RATE) / 1000);
  const result = {
    burstConsoleCpuMsPerS: burstMsPerS,
    burstConsoleShareAtRate: burstShare,
    perRequest,
    rate: RATE,
    phaseSeconds: PHASE_S,
    pairs: PAIRS,
    pollScale: POLL_SCALE,
    usPerSpanOff: off,
    usPerSpanOn: on,
    change: on / off - 1,
    idleCpuMsPerSOff: idleMean(false),
    idleCpuMsPerSOn: idleMean(true),
    consoleCpuMsPerS: consoleMsPerS,
    consoleShareAtRate: consoleShare,
    phases,
    idle,
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(
    `under load, CPU per span: ${off.toFixed(2)} µs without a console, ${on.toFixed(2)} µs with one polling: ` +
      `${((on / off - 1) * 100).toFixed(1)}%\n`,
  );
  process.stderr.write(
    `console endpoints at the UI's polling rate (from bursts): ${burstMsPerS.toFixed(2)} ms/s = ` +
      `${(burstShare * 100).toFixed(2)}% of the pipeline's CPU at ${RATE} spans/s\n`,
  );
  process.stderr.write(
    `console's own CPU at idle: ${consoleMsPerS.toFixed(1)} ms/s = ` +
      `${(consoleShare * 100).toFixed(2)}% of the pipeline's CPU at ${RATE} spans/s\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/console: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
