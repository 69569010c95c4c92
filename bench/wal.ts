// Cost of the write-ahead log in the embedded pipeline: the same OTLP/HTTP load (fixed rate, bounded in
// spans and seconds, loopback only) against one process running otlp -> [wal] -> tail_sampling -> a null
// sink, without the log (ack: "buffered") and with it under each fsync policy. Reports the collector's
// CPU-seconds per million accepted spans and the client's answer latency p50/p99, median of the rounds,
// variants alternating within each round.
//
//   npx tsx bench/wal.ts [--rate 10000] [--seconds 15] [--rounds 2]
//
// Needs a built dist/ (`npx tsc -p tsconfig.json`); no Kafka, Redis or Jaeger.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, startCollector, type StartedCollector } from './lib/collector';
import { freePort } from './lib/ports';
import { readProc } from './lib/proc';

interface Variant {
  readonly name: string;
  /** `fsync` of the wal processor, or undefined for no log (ack "buffered"). */
  readonly fsync?: 'off' | 'interval' | 'batch';
}

const VARIANTS: Variant[] = [
  { name: 'no log (ack buffered)' },
  { name: 'wal fsync off', fsync: 'off' },
  { name: 'wal fsync interval', fsync: 'interval' },
  { name: 'wal fsync batch', fsync: 'batch' },
];

interface Result {
  readonly cpuSPerMillion: number;
  readonly p50: number;
  readonly p99: number;
  readonly acceptedSpans: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function pipelineFile(dir: string, variant: Variant, ports: { http: number; admin: number }): string {
  const wal = variant.fsync
    ? `[processors.wal]\ndir: "${path.join(dir, 'wal')}"\nfsync: "${variant.fsync}"\nmax_size: "2GiB"\n`
    : '';
  const text = `[service]
log_level: "warn"
admin: "127.0.0.1:${ports.admin}"

[receivers.otlp]
http {
    endpoint: "127.0.0.1:${ports.http}"
}

${wal}
[processors.tail_sampling]
state: "memory"
ack: "${variant.fsync ? 'settled' : 'buffered'}"
decision_wait: "5s"
root_settle_delay: "2s"
max_buffered_bytes: "1GiB"
policies: [
  { name: "errors", type: "status_code", codes: ["ERROR"] },
  { name: "slow", type: "latency", threshold_ms: 1000 },
  { name: "rest", type: "probabilistic", percentage: 10 },
]

[processors.null_sink]
module: "${path.join(REPO, 'bench', 'null-sink.js')}"

[exporters.unused]
type: "debug"
path: "/dev/null"

[pipelines.traces]
receivers: ["otlp"]
processors: [${variant.fsync ? '"wal", ' : ''}"tail_sampling", "null_sink"]
exporters: ["unused"]
`;
  const file = path.join(dir, 'pipeline.tsk');
  fs.writeFileSync(file, text);
  return file;
}

function runLoad(http: number, rate: number, seconds: number): Promise<Record<string, number>> {
  const args = [
    path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    path.join(REPO, 'bench', 'loadgen', 'main.ts'),
    '--http',
    `http://127.0.0.1:${http}/v1/traces`,
    '--rate',
    String(rate),
    '--max-seconds',
    String(seconds),
    '--max-spans',
    String(rate * seconds),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`loadgen exited ${code}`));
      else resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

async function runOnce(variant: Variant, rate: number, seconds: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-bench-wal-'));
  const ports = { http: await freePort(), admin: await freePort() };
  const file = pipelineFile(dir, variant, ports);
  let collector: StartedCollector | undefined;
  try {
    collector = await startCollector({
      what: `collector (${variant.name})`,
      file,
      logFile: path.join(dir, 'collector.log'),
      cwd: dir,
      timeoutMs: 30_000,
    });
    const before = readProc(collector.pid)!;
    const load = await runLoad(ports.http, rate, seconds);
    await new Promise((r) => setTimeout(r, 1000)); // appends and syncs still under way
    const after = readProc(collector.pid)!;
    const spans = load.acceptedSpans;
    return {
      cpuSPerMillion: ((after.cpuS - before.cpuS) / Math.max(1, spans)) * 1e6,
      p50: load.latencyP50Ms,
      p99: load.latencyP99Ms,
      acceptedSpans: spans,
    };
  } finally {
    collector?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const rate = arg('--rate', 10_000);
  const seconds = Math.min(arg('--seconds', 15), 120);
  const rounds = Math.min(arg('--rounds', 2), 10);
  const results = new Map<string, Result[]>(VARIANTS.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      const r = await runOnce(variant, rate, seconds);
      results.get(variant.name)!.push(r);
      process.stderr.write(`round ${round + 1} ${variant.name}: ${JSON.stringify(r)}\n`);
    }
  }
  const base = median(results.get(VARIANTS[0].name)!.map((r) => r.cpuSPerMillion));
  const rows = VARIANTS.map((v) => {
    const rs = results.get(v.name)!;
    const cpu = median(rs.map((r) => r.cpuSPerMillion));
    return (
      `| ${v.name} | ${cpu.toFixed(1)} | ${(cpu / base).toFixed(2)}x | ${median(rs.map((r) => r.p50))} | ` +
      `${median(rs.map((r) => r.p99))} | ${median(rs.map((r) => r.acceptedSpans))} |`
    );
  });
  const header = [
    `Embedded pipeline, OTLP/HTTP at ${rate} spans/s for ${seconds} s, ${os.cpus().length} cores, median of ${rounds}`,
    '',
    '| variant | CPU-s per million spans | vs no log | client p50 ms | client p99 ms | spans accepted |',
    '|---|---|---|---|---|---|',
  ];
  process.stdout.write([...header, ...rows].join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/wal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
