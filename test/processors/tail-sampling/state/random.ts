// Seeded random distributions for the sampling-state tests, drawn from a generator such as rng of
// test/helpers/random.ts (deterministic, so failures reproduce).

/** normal draws a standard normal value (Box-Muller). */
export function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Named distributions of latencies in microseconds. */
export const DISTRIBUTIONS: Record<string, (u: () => number) => number> = {
  'lognormal(median 20ms, sigma 1)': (u) => 20_000 * Math.exp(normal(u)),
  'lognormal(median 2ms, sigma 2.5)': (u) => 2_000 * Math.exp(2.5 * normal(u)),
  'exponential(mean 5ms)': (u) => -5_000 * Math.log(1 - u()),
  'uniform(1ms..100ms)': (u) => 1_000 + 99_000 * u(),
  'pareto(alpha 1.2, min 500us)': (u) => 500 / Math.pow(1 - u(), 1 / 1.2),
  'bimodal(cache hit 300us / miss 80ms)': (u) =>
    u() < 0.9 ? 300 * Math.exp(0.2 * normal(u)) : 80_000 * Math.exp(0.3 * normal(u)),
};

/** exactQuantile returns the value at rank floor(q * (n - 1)) of ascending `sorted`. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

/** FakeClock is an injectable clock (Unix ms) for the state stores. */
export class FakeClock {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
