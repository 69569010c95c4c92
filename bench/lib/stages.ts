// Splits a tier's .cpuprofile into the deployment's stages (receive, split with validation, Kafka produce;
// Kafka fetch, index, decide, Redis, export; GC; other), for bench/floor.ts. Each sample goes to the
// innermost frame of its stack that belongs to a stage (a Node internal called by kafkajs is Kafka time);
// samples no stage owns (timers, metrics, the event loop itself, "(program)") are "other", idle is left out.

import fs from 'node:fs';

/** A tier of the two-tier deployment, as bench/lib/systems.ts names its processes. */
export type Tier = 'ingest' | 'sample';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

type Rule = [stage: string, test: (url: string, fn: string) => boolean];

const has =
  (...parts: string[]) =>
  (url: string) =>
    parts.some((p) => url.includes(p));

const INGEST: Rule[] = [
  ['split', has('/pipeline/sdk/otlp/')],
  ['produce', has('/pipeline/sdk/kafka/', '/exporters/kafka/', 'node_modules/kafkajs/', 'node_modules/@node-rs/')],
  ['receive', has('/receivers/otlp/', 'node:_http', 'node:http', 'node:internal/http2', 'node_modules/@grpc/')],
];

const SAMPLE: Rule[] = [
  ['redis', has('/processors/tail-sampling/state/', 'node_modules/ioredis/', 'node_modules/redis-parser/')],
  ['decide', has('/pipeline/sdk/otlp/stamp.')],
  [
    'index',
    has(
      '/pipeline/sdk/otlp/',
      '/processors/tail-sampling/span-table.',
      '/processors/tail-sampling/slab.',
      '/processors/tail-sampling/trace-buffer.',
      '/processors/tail-sampling/settlement.',
    ),
  ],
  ['decide', has('/processors/tail-sampling/')],
  ['export', has('/exporters/otlp/', '/pipeline/sdk/exporterhelper/', 'node:_http_client', 'node:http')],
  ['fetch', has('/receivers/kafka/', '/pipeline/sdk/kafka/', 'node_modules/kafkajs/')],
];

const STARTUP = /^(wrapSafe|compileFunction|Module\._compile|loadESMFromCJS|compileForInternalLoader)$/;

/** stageSplit returns each stage's share of the profile's busy time (idle and start-up left out). */
export function stageSplit(file: string, tier: Tier): Array<{ stage: string; share: number }> {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const rules = tier === 'ingest' ? INGEST : SAMPLE;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    const fn = byId.get(id)!.callFrame.functionName;
    let stage = 'other';
    if (fn === '(garbage collector)') stage = 'gc';
    else if (fn === '(idle)') stage = 'idle';
    else {
      outer: for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        const cf = byId.get(x)!.callFrame;
        if (STARTUP.test(cf.functionName)) {
          stage = 'startup';
          break;
        }
        const url = cf.url.replace(/^file:\/\//, '');
        for (const [s, test] of rules) {
          if (test(url, cf.functionName)) {
            stage = s;
            break outer;
          }
        }
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const ms = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const stage = classify(p.samples[i]);
    if (stage === 'idle' || stage === 'startup') continue;
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0;
    ms.set(stage, (ms.get(stage) ?? 0) + dt);
    busy += dt;
  }
  return [...ms.entries()].map(([stage, t]) => ({ stage, share: busy > 0 ? t / busy : 0 }));
}

if (require.main === module) {
  const [file, tier] = process.argv.slice(2);
  for (const s of stageSplit(file, (tier ?? 'ingest') as Tier).sort((a, b) => b.share - a.share))
    process.stdout.write(`${(100 * s.share).toFixed(1).padStart(5)}%  ${s.stage}\n`);
}
