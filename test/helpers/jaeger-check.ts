// Bulk checks of many traces in the real Jaeger for fault tests: waits (bounded) until each expected trace
// holds all its span ids, and reports what is missing and which span ids Jaeger stores more than once
// (at-least-once delivery; Jaeger's memory store may or may not collapse duplicates).

import { getTrace } from './jaeger';
import { mapLimit } from './admin';

/** What Jaeger holds for one expected trace. */
export interface TraceCheck {
  traceId: string;
  expected: number;
  /** Distinct expected span ids found. */
  found: number;
  /** Expected span ids not found. */
  missing: string[];
  /** Span ids stored more than once, with their count. */
  duplicates: Map<string, number>;
  /** All spans Jaeger returned (duplicates included). */
  stored: number;
}

/** A summary over many traces. */
export interface JaegerReport {
  checks: TraceCheck[];
  complete: number;
  incomplete: TraceCheck[];
  /** Sum over traces of (stored copies - 1) for every duplicated span id. */
  duplicateSpans: number;
  /** Traces with at least one duplicated span. */
  tracesWithDuplicates: number;
  waitedMs: number;
}

async function checkOne(traceId: string, spanIds: readonly string[]): Promise<TraceCheck> {
  const t = await getTrace(traceId).catch(() => undefined);
  const counts = new Map<string, number>();
  for (const s of t?.spans ?? []) counts.set(s.spanID, (counts.get(s.spanID) ?? 0) + 1);
  const missing = spanIds.filter((id) => !counts.has(id));
  const duplicates = new Map([...counts].filter(([, n]) => n > 1));
  return {
    traceId,
    expected: spanIds.length,
    found: spanIds.length - missing.length,
    missing,
    duplicates,
    stored: t?.spans.length ?? 0,
  };
}

/**
 * checkTraces polls Jaeger until every trace in `expected` (trace id -> its span ids) is complete or
 * `timeoutMs` passes, then re-reads all of them once more (to count duplicates that arrived late).
 */
export async function checkTraces(
  expected: ReadonlyMap<string, readonly string[]>,
  timeoutMs: number,
  settleMs = 2000,
): Promise<JaegerReport> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let open = [...expected.keys()];
  while (open.length > 0 && Date.now() < deadline) {
    const results = await mapLimit(open, 8, (id) => checkOne(id, expected.get(id)!));
    open = results.filter((r) => r.missing.length > 0).map((r) => r.traceId);
    if (open.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  const waitedMs = Date.now() - started;
  await new Promise((r) => setTimeout(r, settleMs));
  const checks = await mapLimit([...expected.keys()], 8, (id) => checkOne(id, expected.get(id)!));
  let duplicateSpans = 0;
  let tracesWithDuplicates = 0;
  for (const c of checks) {
    if (c.duplicates.size > 0) tracesWithDuplicates++;
    for (const n of c.duplicates.values()) duplicateSpans += n - 1;
  }
  const incomplete = checks.filter((c) => c.missing.length > 0);
  return {
    checks,
    complete: checks.length - incomplete.length,
    incomplete,
    duplicateSpans,
    tracesWithDuplicates,
    waitedMs,
  };
}

/** describeIncomplete formats the first few incomplete traces for an assertion message. */
export function describeIncomplete(report: JaegerReport, max = 5): string {
  return report.incomplete
    .slice(0, max)
    .map((c) => `${c.traceId}: ${c.found}/${c.expected} spans (missing ${c.missing.join(',')})`)
    .join('; ');
}
