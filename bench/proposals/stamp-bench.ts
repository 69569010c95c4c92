// Micro benchmark of the appendSpanAttributes proposal (stamp-runs.ts) against the current codec, on the
// benchmark workload's per-trace chunks (what the tail sampler stamps `sampling.policy` on), checking that
// both produce identical bytes. Run: npx tsx bench/proposals/stamp-bench.ts [seconds]

import { appendSpanAttributes, splitTracesByTraceId } from '../../pipeline/otlp';
import { buildPool, materialize } from '../loadgen/templates';
import { appendSpanAttributesRuns } from './stamp-runs';

function rate(label: string, seconds: number, spans: number, fn: () => void): number {
  const warm = Date.now() + 300;
  while (Date.now() < warm) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const stop = t0 + BigInt(Math.round(seconds * 1e9));
  let t = t0;
  while (t < stop) { fn(); n++; t = process.hrtime.bigint(); }
  const r = (n * spans) / (Number(t - t0) / 1e9);
  console.log(`  ${label.padEnd(34)} ${Math.round(r).toLocaleString('en-US').padStart(12)} spans/s`);
  return r;
}

const seconds = Number(process.argv[2] ?? 2);
for (const profile of ['small', 'prod'] as const) {
  const pool = buildPool({ seed: 7, profile });
  const chunks: Uint8Array[] = [];
  let spans = 0;
  for (let k = 0; k < 8; k++) {
    const split = splitTracesByTraceId(materialize(pool, k, k * 1000, 7).body);
    for (const c of split.chunks) { chunks.push(c.data); spans += c.spanCount; }
  }
  const attrs = { 'sampling.policy': 'errors' };
  const attrs2 = { 'sampling.policy': 'rest', 'sampling.adjusted_count': 10, 'http.route': '/replaced' };
  for (const c of chunks) {
    for (const a of [attrs, attrs2]) {
      const x = Buffer.from(appendSpanAttributes(c, a));
      const y = appendSpanAttributesRuns(c, a);
      if (!x.equals(y)) throw new Error('outputs differ');
    }
  }
  console.log(`${profile}: ${chunks.length} trace chunks, ${spans} spans, outputs identical`);
  const a = rate('current appendSpanAttributes', seconds, spans, () => { for (const c of chunks) appendSpanAttributes(c, attrs); });
  const b = rate('proposal (runs, exact size)', seconds, spans, () => { for (const c of chunks) appendSpanAttributesRuns(c, attrs); });
  console.log(`  speed-up ${(b / a).toFixed(1)}x`);
}
