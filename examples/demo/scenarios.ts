// What a demo order request goes through. The driver picks a scenario per request and sends it in
// the `x-demo-scenario` header; order forwards it to payment and inventory, which inject the
// failure or the delay. Without the header (a request by hand), services draw faults at random
// with DEMO_ERROR_RATE / DEMO_SLOW_RATE.

/** Header carrying the scenario from the driver through order to payment and inventory. */
export const SCENARIO_HEADER = 'x-demo-scenario';

export const SCENARIOS = ['ok', 'payment-error', 'inventory-error', 'slow-inventory', 'invalid'] as const;
/** One path through order -> validate -> payment -> inventory. */
export type Scenario = (typeof SCENARIOS)[number];

/**
 * The driver's repeating mix (10 requests): 6 ok, and one each of a payment failure (payment answers
 * 503), an inventory failure (inventory's handler throws: 500), a slow inventory (DEMO_SLOW_MS) and an
 * invalid order (order answers 400 after validation, calls nobody).
 */
export const SCENARIO_CYCLE: readonly Scenario[] = ['ok', 'ok', 'payment-error', 'ok', 'slow-inventory', 'ok', 'inventory-error', 'ok', 'invalid', 'ok'];

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
