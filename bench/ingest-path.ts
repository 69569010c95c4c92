// Micro benchmark of the ingest tier's hot path without its transports: split an OTLP request by trace id
// (scanner.ts, validation included) and encode the chunks into a Kafka produce request (produce-encoding.ts),
// the way the Kafka exporter hands them over (FramedBytes where the build has them). A fresh copy of each
// request is split, as a receiver gets fresh bytes, and the last 32 requests stay referenced, as requests
// waiting for Kafka do, so the garbage collector sees about what it sees in the ingest tier.
//
//   npx tsx bench/ingest-path.ts [--profile prod|small] [--seconds S] [--rounds N] [--app-b DIR]
//
// Prints CPU microseconds (user + system, this process) per span accepted. With --app-b DIR, the build in
// DIR (its dist/) runs against this checkout's dist/, each round in its own process, alternating A B / B A.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildPool } from './loadgen/templates';
import type { Profile } from './loadgen/model';
import { med } from './lib/report';

interface Args {
  profile: Profile;
  seconds: number;
  rounds: number;
  appB?: string;
  /** Internal: run one measurement with the dist/ in this directory and print the figure as JSON. */
  child?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { profile: 'prod', seconds: 4, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    const k = argv[i];
    if (k === '--profile') {
      const v = val();
      if (v !== 'prod' && v !== 'small') throw new Error('--profile prod|small');
      a.profile = v;
    } else if (k === '--seconds') a.seconds = Number(val());
    else if (k === '--rounds') a.rounds = Number(val());
    else if (k === '--app-b') a.appB = path.resolve(val());
    else if (k === '--child') a.child = path.resolve(val());
    else throw new Error(`unknown argument ${k}`);
  }
  if (!(a.seconds > 0) || !(a.rounds >= 1)) throw new Error('--seconds and --rounds must be positive');
  return a;
}

/** The modules of one build that the hot path uses (loaded from its dist/, so two builds can be compared). */
interface Build {
  splitTracesByTraceId(request: Uint8Array): { chunks: { traceId: string; data: Uint8Array }[]; acceptedSpans: number };
  ProduceRequestEncoder: new (
    crc: (b: Buffer) => number,
    long: unknown,
  ) => {
    encode(args: unknown, headroom?: number): Buffer;
  };
  framedBytesOf?: (chunk: unknown) => unknown;
}

function loadBuild(dist: string): Build {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const scanner = require(path.join(dist, 'pipeline/sdk/otlp/scanner.js')) as Pick<Build, 'splitTracesByTraceId'>;
  const encoding = require(path.join(dist, 'pipeline/sdk/kafka/produce-encoding.js')) as Pick<
    Build,
    'ProduceRequestEncoder'
  >;
  const batch = require(path.join(dist, 'pipeline/sdk/trace-batch.js')) as Pick<Build, 'framedBytesOf'>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { ...scanner, ...encoding, framedBytesOf: batch.framedBytesOf };
}

/** measure runs the hot path for `seconds` and returns CPU microseconds per span. */
function measure(build: Build, profile: Profile, seconds: number): number {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const crc = require('@node-rs/crc32') as { crc32c(b: Buffer): number };
  const long = require('kafkajs/src/utils/long') as unknown;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const encoder = new build.ProduceRequestEncoder((b) => crc.crc32c(b) >>> 0, long);
  const pool = buildPool({ seed: 7, profile, templates: 32, spansPerRequest: 256 });
  const requests = pool.templates.map((t) => t.bytes);
  const held: unknown[] = [];
  let spans = 0;
  let i = 0;
  const cpu0 = process.cpuUsage();
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const split = build.splitTracesByTraceId(Buffer.from(requests[i++ % requests.length]));
    const messages = split.chunks.map((c) => ({
      key: Buffer.from(c.traceId, 'latin1'),
      value: build.framedBytesOf?.(c) ?? Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength),
      timestamp: '1795600000123',
    }));
    const partitions = [0, 1, 2, 3].map((p) => ({ partition: p, messages: messages.filter((_, k) => k % 4 === p) }));
    const request = encoder.encode(
      { acks: -1, timeout: 30_000, compression: 0, topicData: [{ topic: 'otlp_spans', partitions }] },
      256,
    );
    held.push(request, split);
    if (held.length > 64) held.splice(0, 2);
    spans += split.acceptedSpans;
  }
  const used = process.cpuUsage(cpu0);
  return (used.user + used.system) / spans;
}

function runChild(dist: string, a: Args): number {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', __filename, '--child', dist, '--profile', a.profile, '--seconds', String(a.seconds)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return (JSON.parse(out.trim().split('\n').pop()!) as { usPerSpan: number }).usPerSpan;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  if (a.child) {
    process.stdout.write(`${JSON.stringify({ usPerSpan: measure(loadBuild(a.child), a.profile, a.seconds) })}\n`);
    return;
  }
  const distA = path.join(__dirname, '..', 'dist');
  const sides: Array<[string, string]> = [['A (this checkout)', distA]];
  if (a.appB) sides.push([`B (${a.appB})`, path.join(a.appB, 'dist')]);
  const figures = new Map<string, number[]>(sides.map(([name]) => [name, []]));
  for (let r = 0; r < a.rounds; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const [name, dist] of order) {
      const us = runChild(dist, a);
      figures.get(name)!.push(us);
      process.stderr.write(`[ingest-path] round ${r + 1}/${a.rounds} ${name}: ${us.toFixed(3)} CPU-us per span\n`);
    }
  }
  console.log(`ingest hot path (split + produce encoding), ${a.profile} spans, ${a.seconds} s per round, medians:`);
  for (const [name, xs] of figures) {
    console.log(
      `  ${name}: ${(med(xs) ?? NaN).toFixed(3)} CPU-us per span (${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)})`,
    );
  }
}

main();
