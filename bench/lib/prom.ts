// A small reader of the Prometheus text format, enough for the benchmark: sums of series by name and
// label filter, and quantiles of classic histograms (interpolated within buckets, as histogram_quantile).

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** parseProm parses exposition text into series. */
export function parseProm(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) for (const l of m[3].matchAll(LABEL)) labels[l[1]] = l[2];
    const v = m[4] === '+Inf' ? Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

export type LabelFilter = Record<string, string>;

function matches(s: Series, name: string, filter?: LabelFilter): boolean {
  if (s.name !== name) return false;
  if (filter) for (const [k, v] of Object.entries(filter)) if (s.labels[k] !== v) return false;
  return true;
}

/** Metrics wraps one scrape. */
export class Metrics {
  constructor(readonly series: Series[]) {}

  static parse(text: string): Metrics {
    return new Metrics(parseProm(text));
  }

  has(name: string): boolean {
    return this.series.some((s) => s.name === name);
  }

  /** sum of every series named `name` that matches the filter (0 when none). */
  sum(name: string, filter?: LabelFilter): number {
    let t = 0;
    for (const s of this.series) if (matches(s, name, filter) && Number.isFinite(s.value)) t += s.value;
    return t;
  }

  /** buckets of histogram `name` (summed over series matching the filter), sorted by upper bound. */
  buckets(name: string, filter?: LabelFilter): Array<{ le: number; count: number }> {
    const by = new Map<number, number>();
    for (const s of this.series) {
      if (!matches(s, `${name}_bucket`, filter)) continue;
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      by.set(le, (by.get(le) ?? 0) + s.value);
    }
    return [...by.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  }
}

/**
 * histogramQuantile interpolates quantile q in cumulative buckets (difference of two scrapes allowed:
 * pass `base` to subtract an earlier scrape). Returns undefined without observations; the highest
 * finite bound when the quantile falls in the +Inf bucket.
 */
export function histogramQuantile(
  q: number,
  buckets: Array<{ le: number; count: number }>,
  base?: Array<{ le: number; count: number }>,
): number | undefined {
  const b = buckets.map((x) => ({ le: x.le, count: x.count - (base?.find((y) => y.le === x.le)?.count ?? 0) }));
  if (b.length === 0) return undefined;
  const total = b[b.length - 1].count;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const x of b) {
    if (x.count >= rank) {
      if (x.le === Infinity) return prevLe;
      const inBucket = x.count - prevCount;
      return inBucket <= 0 ? x.le : prevLe + ((x.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = x.le;
    prevCount = x.count;
  }
  return prevLe;
}

/** scrape fetches and parses a /metrics endpoint; undefined when it does not answer. */
export async function scrape(url: string, timeoutMs = 2000): Promise<Metrics | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return Metrics.parse(await res.text());
  } catch {
    return undefined;
  }
}
