// Micro benchmark of the decision caches' LRU (processors/tail-sampling/lru.ts) against the Map
// re-insertion LRU it replaced, at the sizes a sampler runs with once its caches are full: every decided
// trace inserts one entry and evicts the least recently used one. Ratios in the same run, not absolute times.
// Run: npx tsx bench/lru.ts [entries] [inserts]

import { LruTtlMap } from '../processors/tail-sampling/lru';

/** The replaced design: recency by Map re-insertion, eviction of `keys().next()` (V8 walks every hole left by earlier deletes). */
class MapReinsertionLru {
  private readonly _map = new Map<string, string>();
  constructor(private readonly _max: number) {}
  set(key: string, value: string): void {
    this._map.delete(key);
    this._map.set(key, value);
    while (this._map.size > this._max) this._map.delete(this._map.keys().next().value as string);
  }
  get(key: string): string | undefined {
    const v = this._map.get(key);
    if (v === undefined) return undefined;
    this._map.delete(key);
    this._map.set(key, v);
    return v;
  }
}

function traceIds(n: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push(((i * 2654435761) >>> 0).toString(16).padStart(16, '0') + i.toString(16).padStart(16, '0'));
  return ids;
}

/** nsPerInsert fills the cache, then measures `inserts` inserts (each evicting one entry) with a lookup of a recent key every 10th. */
function nsPerInsert(
  cache: { set(k: string, v: string): void; get(k: string): string | undefined },
  entries: number,
  ids: string[],
): number {
  for (let i = 0; i < entries; i++) cache.set(ids[i], 'n(none)');
  const start = process.hrtime.bigint();
  for (let i = entries; i < ids.length; i++) {
    cache.set(ids[i], 'n(none)');
    if (i % 10 === 0) cache.get(ids[i - 5]);
  }
  return Number(process.hrtime.bigint() - start) / (ids.length - entries);
}

const entries = Number(process.argv[2] ?? 50_000);
const inserts = Number(process.argv[3] ?? 200_000);
const ids = traceIds(entries + inserts);
const rounds: { ours: number; replaced: number }[] = [];
for (let r = 0; r < 3; r++) {
  // Alternating, fresh caches each round.
  const ours = nsPerInsert(new LruTtlMap<string, string>(entries), entries, ids);
  const replaced = nsPerInsert(new MapReinsertionLru(entries), entries, ids);
  rounds.push({ ours, replaced });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = median(rounds.map((r) => r.ours));
const replaced = median(rounds.map((r) => r.replaced));
console.log(
  `LRU at ${entries} entries, ${inserts} inserts each evicting one (median of ${rounds.length} alternating rounds):`,
);
console.log(`  lru.ts (linked recency list)      ${ours.toFixed(0).padStart(8)} ns per insert`);
console.log(`  Map re-insertion (replaced)       ${replaced.toFixed(0).padStart(8)} ns per insert`);
console.log(`  ratio                             ${(replaced / ours).toFixed(1).padStart(8)}x faster`);
