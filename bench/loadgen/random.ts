// Seeded pseudo-random numbers for the load generator: the same seed gives the same traces, requests and
// trace ids on every machine and Node version (no Math.random anywhere in bench/loadgen).

/** Rng is a small seeded generator (mulberry32 over a 32-bit state), good enough for load shapes. */
export class Rng {
  private _s: number;

  constructor(seed: number) {
    this._s = (mix32(seed >>> 0) ^ 0x9e3779b9) >>> 0;
  }

  /** next returns a uniform float in [0, 1). */
  next(): number {
    let t = (this._s = (this._s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** int returns a uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** chance is true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** pick returns a uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** bytes fills `n` random bytes, none of the id bytes all zero. */
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    if (b.every((x) => x === 0)) b[n - 1] = 1;
    return b;
  }

  /** hex returns `n` random bytes as lowercase hex. */
  hex(n: number): string {
    return this.bytes(n).toString('hex');
  }
}

/** mix32 is a 32-bit integer hash (murmur3 finalizer): spreads consecutive seeds apart. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
