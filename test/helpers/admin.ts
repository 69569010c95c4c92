// Reads a running collector's admin endpoint for fault tests: /metrics parsed from Prometheus text,
// /readyz, and /v1/decisions/{traceId}. Every call is bounded by a timeout and never throws on a
// non-2xx answer (a collector under fault injection may answer 503).

/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** parseMetrics parses Prometheus text format 0.0.4 (comments skipped). */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2])
      for (const l of m[2].matchAll(LABEL))
        labels[l[1]] = l[2].replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]) });
  }
  return out;
}

/** sumMetric adds the samples of `name` whose labels include every pair of `match`. */
export function sumMetric(samples: readonly MetricSample[], name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** hasMetric says whether any sample of `name` exists. */
export function hasMetric(samples: readonly MetricSample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

/** adminBase: a bare port means 127.0.0.1:port; a "host:port" string is used as is. */
function adminBase(admin: number | string): string {
  return typeof admin === 'number' ? `http://127.0.0.1:${admin}` : `http://${admin}`;
}

/** fetchMetrics reads and parses /metrics; undefined when the endpoint does not answer. */
export async function fetchMetrics(adminPort: number | string, timeoutMs = 5000): Promise<MetricSample[] | undefined> {
  try {
    const res = await fetch(`${adminBase(adminPort)}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return parseMetrics(await res.text());
  } catch {
    return undefined;
  }
}

/** One row of /readyz. */
export interface ReadyComponent {
  id: string;
  started: boolean;
  ready: boolean;
  degraded?: boolean;
  detail?: string;
}

/** The /readyz answer (status 0 = no answer). */
export interface Readiness {
  status: number;
  ready: boolean;
  components: ReadyComponent[];
}

/** fetchReadyz reads /readyz. */
export async function fetchReadyz(adminPort: number | string, timeoutMs = 5000): Promise<Readiness> {
  try {
    const res = await fetch(`${adminBase(adminPort)}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { components?: ReadyComponent[] };
    return { status: res.status, ready: res.status === 200, components: body.components ?? [] };
  } catch {
    return { status: 0, ready: false, components: [] };
  }
}

/** A decision as the admin API reports it. */
export interface DecisionAnswer {
  decision: string;
  policy: string;
  reason?: string;
  inputs?: Record<string, string | number | boolean>;
  [k: string]: unknown;
}

/** fetchDecision asks /v1/decisions/{traceId}; undefined on 404 (or no answer). */
export async function fetchDecision(
  adminPort: number | string,
  traceId: string,
  timeoutMs = 5000,
): Promise<DecisionAnswer | undefined> {
  try {
    const res = await fetch(`${adminBase(adminPort)}/v1/decisions/${traceId}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) return undefined;
    return (await res.json()) as DecisionAnswer;
  } catch {
    return undefined;
  }
}

/** waitUntil polls `check` every `intervalMs` until it returns a value other than undefined/false, or the deadline. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** mapLimit runs `fn` over `items` with at most `limit` at once, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
