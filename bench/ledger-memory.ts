// Redis bytes of the shared sampling state per decided trace, at steady state: the decision ledger per kept and
// per dropped trace (before: every decision as a full record, what the previous version wrote, = a dropped
// sample of 1; after: kept traces and 1 % of dropped ones in full, the other drops as 5-byte fingerprints), plus
// the latency sketches per key, the error state per service and the rate budgets per key, and the heap of the
// local store of recent decisions per entry. A real RedisSamplingState against the shared Redis (127.0.0.1:6379,
// a private key prefix, every key removed at the end), writing decisions as the processor does (one lookup then
// one record call per 100 ms tick) at a fixed rate for 1.5 x the ledger TTL, which is SCALED DOWN (default 8 s
// instead of 1 h, buckets of 2 s) so the buckets turn over within the run; bytes per entry do not depend on the
// TTL, only on entries per bucket hash (see state/README.md). Bytes = MEMORY USAGE (SAMPLES 0) of the ledger keys
// over the live entries (their `#` counts), averaged over the last samples; INFO used_memory deltas are printed
// too but are noisy on a shared server. Bounded: ~4 x 12 s of writes at 10k decisions/s plus a few seconds.
// Run: npx tsx bench/ledger-memory.ts [--rate 10000] [--ttl-ms 8000] [--keep 0.1] [--url redis://127.0.0.1:6379]
//      [--local-only: the local store's heap only, no Redis]

import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { DecisionCache } from '../processors/tail-sampling/state/decision-cache';
import { RedisSamplingState } from '../processors/tail-sampling/state/redis';
import type { LedgerRecord } from '../processors/tail-sampling/state/types';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const URL = arg('url', 'redis://127.0.0.1:6379');
const RATE = Number(arg('rate', '10000'));
const TTL_MS = Number(arg('ttl-ms', '8000'));
const KEEP = Number(arg('keep', '0.1'));
const TICK_MS = 100;
const RUN_MS = Math.round(TTL_MS * 1.5) + 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A typical decision (adaptive policy; what most traces of a busy service look like). */
function decision(kept: boolean, now: number): LedgerRecord {
  const inputs: Record<string, string | number | boolean> = {
    key: 'checkout:GET /cart',
    target_traces_per_sec: 20,
    cluster_rate: 200.5,
    base_p: 0.0998,
    p: 0.1,
    hash: 0.0412,
    boost: 1,
    degraded: false,
    trigger: 'root_settled',
    spans: 12,
    service: 'checkout',
    operation: 'GET /cart',
    root_duration_us: 48_211,
  };
  if (kept) Object.assign(inputs, { adjusted_count: 10.0006, sampling_threshold: 'e666' });
  return {
    traceId: randomBytes(16).toString('hex'),
    decision: kept ? 'sampled' : 'not_sampled',
    policy: kept ? 'rest' : '(none)',
    reason: kept
      ? 'trace-id hash 0.0412 < p 0.1 for checkout:GET /cart'
      : 'trace-id hash 0.7734 >= p 0.1 for checkout:GET /cart',
    inputs,
    decidedAt: now,
  };
}

async function scanKeys(c: Redis, match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

async function bytesOf(c: Redis, keys: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const k of keys) bytes += Number((await c.call('MEMORY', 'USAGE', k, 'SAMPLES', '0')) ?? 0);
  return bytes;
}

async function usedMemory(c: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await c.info('memory'))?.[1] ?? 0);
}

interface LedgerFigures {
  readonly label: string;
  readonly bytesPerEntry: number;
  readonly liveEntries: number;
  readonly commandsPerTrace: number;
  readonly roundTripsPerTrace: number;
  readonly infoDeltaPerEntry: number;
}

/** Writes decisions at RATE for RUN_MS with one state, then measures the ledger keys. */
async function ledgerRun(c: Redis, label: string, keep: number, droppedSample: number): Promise<LedgerFigures> {
  const prefix = `tusk-bench:ledger:${process.pid}-${Date.now().toString(36)}:`;
  const state = new RedisSamplingState({
    url: URL,
    keyPrefix: prefix,
    ledgerTtlMs: TTL_MS,
    ledgerDroppedSample: droppedSample,
    syncIntervalMs: 60_000,
  });
  const info0 = await usedMemory(c);
  await state.start();
  const before = state.stats();
  const perTick = Math.round((RATE * TICK_MS) / 1000);
  const start = Date.now();
  let traces = 0;
  const samples: Array<{ bytes: number; entries: number; info: number }> = [];
  try {
    let tick = 0;
    while (Date.now() - start < RUN_MS) {
      const now = Date.now();
      const batch = Array.from({ length: perTick }, (_, i) =>
        decision((traces + i) % Math.round(1 / Math.max(keep, 1e-9)) === 0 && keep > 0, now),
      );
      // As the processor does: new trace ids are looked up first (one call), then the batch is recorded (one call).
      await state.lookupDecisions(batch.map((d) => d.traceId));
      await state.recordDecisions(batch);
      traces += batch.length;
      tick++;
      if (Date.now() - start > TTL_MS * 1.25 + 500 && tick % 5 === 0) {
        const keys = (await scanKeys(c, `${prefix}*`)).filter((k) => k.includes(':ledger:'));
        let entries = 0;
        for (const k of keys) entries += Number((await c.hget(k, '#')) ?? 0);
        samples.push({ bytes: await bytesOf(c, keys), entries, info: (await usedMemory(c)) - info0 });
      }
      const wait = start + tick * TICK_MS - Date.now();
      if (wait > 0) await sleep(wait);
    }
  } finally {
    await state.shutdown();
    const keys = await scanKeys(c, `${prefix}*`);
    if (keys.length > 0) await c.unlink(...keys);
  }
  const after = state.stats();
  const tail = samples.slice(-5);
  const bytes = tail.reduce((s, x) => s + x.bytes, 0);
  const entries = tail.reduce((s, x) => s + x.entries, 0);
  const info = tail.reduce((s, x) => s + x.info, 0);
  return {
    label,
    bytesPerEntry: bytes / Math.max(1, entries),
    liveEntries: entries / Math.max(1, tail.length),
    commandsPerTrace: (after.commands - before.commands) / Math.max(1, traces),
    roundTripsPerTrace: (after.roundTrips - before.roundTrips) / Math.max(1, traces),
    infoDeltaPerEntry: info / Math.max(1, entries),
  };
}

/** Sketches per (key, slice, replica), error state per (service, bucket), rate counts per (key, second). */
async function sharedStateRun(c: Redis): Promise<Record<string, number>> {
  const prefix = `tusk-bench:state:${process.pid}-${Date.now().toString(36)}:`;
  const keys = 200;
  const services = 50;
  const replicas = [0, 1].map(() => new RedisSamplingState({ url: URL, keyPrefix: prefix, syncIntervalMs: 60_000 }));
  try {
    for (const r of replicas) await r.start();
    for (let t = 0; t < 3; t++) {
      for (const r of replicas) {
        for (let i = 0; i < 20_000; i++) {
          const k = i % keys;
          r.recordLatency(`svc-${k % services}`, `op-${k}`, 1000 + ((i * 7919) % 200_000));
          r.recordSeen(`svc-${k % services}:op-${k}`);
          r.recordTraceOutcome(`svc-${k % services}`, i % 40 === 0);
        }
        await r.syncNow();
      }
      await sleep(1000);
    }
    const all = await scanKeys(c, `${prefix}*`);
    const of = (kind: string) => all.filter((k) => k.includes(`}:${kind}:`));
    const lat = of('lat');
    const slices = lat.length; // one slice hash per (shard, slice): a single shard here
    return {
      sketchBytesPerKeySliceReplica:
        ((await bytesOf(c, lat)) + (await bytesOf(c, of('latr')))) / (keys * slices * replicas.length),
      errorBytesPerServiceBucket: (await bytesOf(c, of('err'))) / (services * Math.max(1, of('err').length)),
      rateBytesPerKeySecond: (await bytesOf(c, of('seen'))) / (keys * Math.max(1, of('seen').length)),
    };
  } finally {
    await Promise.all(replicas.map((r) => r.shutdown()));
    const left = await scanKeys(c, `${prefix}*`);
    if (left.length > 0) await c.unlink(...left);
  }
}

/** Heap bytes the local store of recent decisions holds per entry at `droppedSample`, for `records`. */
function heapPerEntry(records: readonly LedgerRecord[], droppedSample: number, gc: () => void): number {
  gc();
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const cache = new DecisionCache({ maxEntries: records.length, droppedSample });
  for (const r of records) cache.set(r);
  gc();
  gc();
  const h1 = process.memoryUsage().heapUsed;
  if (cache.size !== records.length) throw new Error('cache lost entries');
  return (h1 - h0) / records.length;
}

/** Heap bytes per entry of the local store, for each dropped sample (measured first, before any Redis work). */
function localHeapPerEntry(droppedSamples: readonly number[]): number[] {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const records = Array.from({ length: 100_000 }, (_, i) => decision(i % 10 === 0, Date.now()));
  return droppedSamples.map((rate) => heapPerEntry(records, rate, gc));
}

async function main(): Promise<void> {
  const [heapShort, heapFull] = localHeapPerEntry([0.01, 1]);
  console.log(
    `local store heap per entry (100k decisions, 10 % kept): every record in full ${heapFull!.toFixed(0)} B, ` +
      `drops outside the 1 % sample short ${heapShort!.toFixed(0)} B`,
  );
  if (process.argv.includes('--local-only')) return;
  const c = new Redis(URL, { maxRetriesPerRequest: 1 });
  try {
    const version = /redis_version:(\S+)/.exec(await c.info('server'))?.[1];
    console.log(
      `# ledger memory: Redis ${version} at ${URL}; ${RATE} decisions/s, ${KEEP * 100} % kept, ` +
        `ledger TTL scaled down to ${TTL_MS} ms (buckets of ${TTL_MS / 4} ms), ${RUN_MS} ms per run`,
    );
    const runs: LedgerFigures[] = [];
    runs.push(await ledgerRun(c, 'before: every decision in full (dropped sample 1)', KEEP, 1));
    runs.push(await ledgerRun(c, 'after: dropped sample 0.01 (default)', KEEP, 0.01));
    runs.push(await ledgerRun(c, 'kept traces only (full records)', 1, 0.01));
    runs.push(await ledgerRun(c, 'dropped traces only, no sample (fingerprints)', 0, 0));
    console.log(
      '| run | live entries | Redis bytes per trace (MEMORY USAGE) | commands per trace | round trips per trace |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of runs) {
      console.log(
        `| ${r.label} | ${Math.round(r.liveEntries)} | ${r.bytesPerEntry.toFixed(1)} | ` +
          `${r.commandsPerTrace.toFixed(4)} | ${r.roundTripsPerTrace.toFixed(4)} |`,
      );
    }
    const noisy = runs.map((r) => r.infoDeltaPerEntry.toFixed(0)).join(' / ');
    console.log(
      `(INFO used_memory delta per live entry, same runs: ${noisy} B; other clients of a shared server move it)`,
    );
    const full = runs[2]!.bytesPerEntry;
    const fp = runs[3]!.bytesPerEntry;
    const before = runs[0]!.bytesPerEntry.toFixed(1);
    console.log(
      `per kept trace ${full.toFixed(1)} B; per dropped trace: before ${before} B (full record), ` +
        `after ${(0.99 * fp + 0.01 * full).toFixed(1)} B (fingerprint ${fp.toFixed(1)} B, 1 % in full)`,
    );
    const shared = await sharedStateRun(c);
    console.log(
      `latency sketch: ${shared.sketchBytesPerKeySliceReplica!.toFixed(0)} B per (key, slice, replica); ` +
        `error state: ${shared.errorBytesPerServiceBucket!.toFixed(1)} B per (service, 10 s bucket); ` +
        `rate budget counts: ${shared.rateBytesPerKeySecond!.toFixed(1)} B per (key, second)`,
    );
  } finally {
    c.disconnect();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
