// Seeded pseudo-random numbers for tests (mulberry32): the same seed gives the same sequence on every
// run and machine, so a randomized or fuzz test that fails reproduces from its seed.

/** rng returns a seeded pseudo-random generator of numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
