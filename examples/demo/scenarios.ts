// What a demo order request goes through. The driver picks a scenario per request and sends it in
// the `x-demo-scenario` header; order forwards it to payment and inventory, which inject the
// failure or the delay. Without the header (a request by hand), services draw faults at random
// with DEMO_ERROR_RATE / DEMO_SLOW_RATE.

/** Header carrying the scenario from the driver through order to payment and inventory. */
export const SCENARIO_HEADER = 'x-demo-scenario';

export const SCENARIOS = ['ok', 'payment-error', 'inventory-error', 'slow-inventory', 'invalid'] as const;
/** One path through order -> validate -> payment -> inventory. */
export type Scenario = (typeof SCENARIOS)[number];

/** How many of each scenario per SCENARIO_CYCLE. */
export type ScenarioMix = Readonly<Record<Scenario, number>>;

/**
 * The demo's mix per 40 orders: 5% errors (2 payment, 2 inventory), 2.5% slow inventory (DEMO_SLOW_MS),
 * 2.5% invalid orders. Slow requests must stay under 5% for the collector's `latency above p95` policy
 * to see them as slow: when they are more, the P95 itself is slow.
 */
export const DEMO_MIX: ScenarioMix = {
  ok: 34,
  'payment-error': 2,
  'inventory-error': 2,
  'slow-inventory': 1,
  invalid: 1,
};

/**
 * cycleOf spreads a mix evenly over one cycle: the k-th of a scenario's n occurrences is due at
 * (k + 0.5) x cycle / n, and each slot takes the scenario due first (the rarer one on a tie).
 */
export function cycleOf(mix: ScenarioMix): Scenario[] {
  const total = SCENARIOS.reduce((n, s) => n + mix[s], 0);
  const emitted = Object.fromEntries(SCENARIOS.map((s) => [s, 0])) as Record<Scenario, number>;
  const due = (s: Scenario) => ((emitted[s] + 0.5) * total) / mix[s];
  const cycle: Scenario[] = [];
  for (let i = 0; i < total; i++) {
    let best: Scenario | undefined;
    for (const s of SCENARIOS) {
      if (emitted[s] >= mix[s]) continue;
      if (best === undefined || due(s) < due(best) || (due(s) === due(best) && mix[s] < mix[best])) best = s;
    }
    emitted[best!]++;
    cycle.push(best!);
  }
  return cycle;
}

/** The driver's default repeating sequence (40 orders, DEMO_MIX). */
export const SCENARIO_CYCLE: readonly Scenario[] = cycleOf(DEMO_MIX);

/**
 * A short cycle with every scenario within 10 requests (6 ok, one of each other), for tests that want
 * every path in a few requests. Slow requests are 10% of it: above-P95 rules will not call them slow.
 */
export const COMPACT_CYCLE: readonly Scenario[] = [
  'ok',
  'ok',
  'payment-error',
  'ok',
  'slow-inventory',
  'ok',
  'inventory-error',
  'ok',
  'invalid',
  'ok',
];

/** What order answers for each scenario. */
export const EXPECTED_STATUS: Readonly<Record<Scenario, number>> = {
  ok: 200,
  'payment-error': 502,
  'inventory-error': 502,
  'slow-inventory': 200,
  invalid: 400,
};

/** isScenario narrows a header value. */
export function isScenario(v: unknown): v is Scenario {
  return typeof v === 'string' && (SCENARIOS as readonly string[]).includes(v);
}

/** sleep resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** envNumber reads a number from the environment, or `fallback` when unset or not a number. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isFinite(n) ? n : fallback;
}
