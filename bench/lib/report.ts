// Output of a benchmark session: the stdout table (per case: ours, peer, ours/peer for each figure,
// medians over the rounds), the standing against the issue's targets, and the generated block of
// BENCHMARKS.md (between markers, so the hand-written analysis around it survives a rerun).

import fs from 'node:fs';
import type { CaseDef, RunResult } from './cases';
import type { ProfileSummary } from './cpuprofile';

export interface Session {
  session: string;
  quick: boolean;
  command: string;
  startedAt: string;
  durationS: number;
  machine: Record<string, string>;
  versions: Record<string, string>;
  loadAverage: { min: number; max: number; mean: number };
  settings: Record<string, number>;
  cases: CaseDef[];
  results: RunResult[];
  profile?: { caseId: string; file: string } & ProfileSummary;
  /** Column labels in A/B mode (default ours / peer). */
  labels?: { a: string; b: string };
}

interface Figure {
  label: string;
  get: (r: RunResult) => number | undefined;
  digits: number;
  /** 'lower' or 'higher' is better; undefined = informational. */
  better?: 'lower' | 'higher';
  scenarios?: string[];
}

const FIGURES: Figure[] = [
  {
    label: 'spans/s (throughput window)',
    get: (r) => r.spansPerS,
    digits: 0,
    better: 'higher',
    scenarios: ['ingest', 'sampling', 'e2e-max'],
  },
  { label: 'spans/s accepted (fixed offered rate)', get: (r) => r.spansPerS, digits: 0, scenarios: ['e2e'] },
  {
    label: 'intake spans/s (reading the backlog)',
    get: (r) => r.intakeSpansPerS,
    digits: 0,
    better: 'higher',
    scenarios: ['sampling'],
  },
  { label: 'offered spans/s', get: (r) => r.offeredSpansPerS, digits: 0, scenarios: ['e2e'] },
  {
    label: 'CPU-s per million spans',
    get: (r) => r.cpuSPerMSpans,
    digits: 1,
    better: 'lower',
    scenarios: ['ingest', 'sampling', 'e2e-max'],
  },
  {
    label: 'CPU-s per million spans (steady load)',
    get: (r) => r.cpuSPerMSpans,
    digits: 1,
    better: 'lower',
    scenarios: ['e2e'],
  },
  {
    label: 'CPU-s per million spans (whole run)',
    get: (r) => r.cpuSPerMSpansWhole,
    digits: 1,
    better: 'lower',
    scenarios: ['e2e'],
  },
  {
    label: 'spans per CPU-second',
    get: (r) => r.spansPerCpuS,
    digits: 0,
    better: 'higher',
    scenarios: ['ingest', 'sampling', 'e2e-max'],
  },
  {
    label: 'spans per CPU-second (steady load)',
    get: (r) => r.spansPerCpuS,
    digits: 0,
    better: 'higher',
    scenarios: ['e2e'],
  },
  { label: 'CPU share: ingest process, %', get: (r) => share(r, 'ingest'), digits: 0, scenarios: ['e2e', 'e2e-max'] },
  { label: 'CPU share: sampling process, %', get: (r) => share(r, 'sample'), digits: 0, scenarios: ['e2e', 'e2e-max'] },
  { label: 'CPU share: Redis, %', get: (r) => share(r, 'redis'), digits: 1, scenarios: ['sampling', 'e2e', 'e2e-max'] },
  { label: 'peak RSS, MB (sum of processes)', get: (r) => r.peakRssMB, digits: 0, better: 'lower' },
  {
    label: 'buffered spans at peak',
    get: (r) => r.bufferedPeakSpans,
    digits: 0,
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'RSS bytes per buffered span',
    get: (r) => r.rssBytesPerBufferedSpan,
    digits: 0,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'heap bytes per buffered span',
    get: (r) => r.heapBytesPerBufferedSpan,
    digits: 0,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'Redis commands per span (INFO)',
    get: (r) => r.redisCmdsPerSpan,
    digits: 4,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'Redis round trips per span',
    get: (r) => r.redisRoundTripsPerSpan,
    digits: 5,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'Redis memory growth per trace, bytes',
    get: (r) => r.redisMemBytesPerTrace,
    digits: 0,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'decision lag mean, s (own metric)',
    get: (r) => r.lagMeanS,
    digits: 2,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'decision lag p99, s (own metric, in buckets)',
    get: (r) => r.lagP99S,
    digits: 2,
    better: 'lower',
    scenarios: ['sampling', 'e2e', 'e2e-max'],
  },
  {
    label: 'sent -> in Jaeger p50, s (kept traces)',
    get: (r) => r.e2eLagP50S,
    digits: 2,
    better: 'lower',
    scenarios: ['e2e'],
  },
  {
    label: 'sent -> in Jaeger p99, s (kept traces)',
    get: (r) => r.e2eLagP99S,
    digits: 2,
    better: 'lower',
    scenarios: ['e2e'],
  },
  {
    label: 'error/slow traces in Jaeger / sent',
    get: (r) => (r.mustKeepSent ? r.mustKeepArrived! / r.mustKeepSent : undefined),
    digits: 3,
    scenarios: ['e2e', 'e2e-max'],
  },
  { label: 'kept traces (all policies)', get: (r) => r.keptTraces, digits: 0, scenarios: ['e2e'] },
  { label: 'drain after load, s', get: (r) => r.drainS, digits: 1, scenarios: ['e2e'] },
  { label: 'Kafka messages written', get: (r) => r.kafkaMessages, digits: 0, scenarios: ['ingest'] },
  { label: 'load generator CPU-s', get: (r) => r.loadgenCpuS, digits: 1, scenarios: ['ingest', 'e2e'] },
  { label: 'machine busy cores during run', get: (r) => r.machineBusyCores, digits: 2 },
  { label: 'system under test cores', get: (r) => r.sutCores, digits: 2 },
  { label: 'load average (1 min) at start', get: (r) => r.loadAvg1, digits: 2 },
];

function share(r: RunResult, role: string): number | undefined {
  const c = r.cpuByRole;
  if (!c || c[role] === undefined) return undefined;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return total > 0 ? (100 * c[role]) / total : undefined;
}

/** med is the median of the finite numbers in `xs` (undefined when there are none). */
export function med(xs: Array<number | undefined>): number | undefined {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** fmt formats a figure with `digits` decimals and thousands separators ('n/a' when missing). */
export function fmt(v: number | undefined, digits: number): string {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

interface CaseRow {
  label: string;
  ours: string;
  peer: string;
  ratio: string;
  note: string;
}

function caseRows(results: RunResult[], caseId: string, scenario: string, ab = false): CaseRow[] {
  if (scenario === 'e2e' && results.some((r) => r.caseId === caseId && r.ok && r.offeredSpansPerS === undefined))
    scenario = 'e2e-max';
  const ours = results.filter((r) => r.caseId === caseId && r.system === 'ours' && r.ok && r.round < 99);
  const peer = results.filter((r) => r.caseId === caseId && r.system === 'peer' && r.ok);
  const rows: CaseRow[] = [];
  for (const f of FIGURES) {
    if (f.scenarios && !f.scenarios.includes(scenario)) continue;
    const o = med(ours.map(f.get));
    const p = med(peer.map(f.get));
    if (o === undefined && p === undefined) continue;
    const q = ratio(o, p);
    let note = '';
    const [good, bad] = ab ? ['A better', 'B better'] : ['ours better', 'ours behind'];
    if (q !== undefined && f.better)
      note = Math.abs(q - 1) <= 0.02 ? 'equal (within 2%)' : (f.better === 'lower' ? q < 1 : q > 1) ? good : bad;
    if (f.label.startsWith('Redis') && !ab) note = 'peer keeps no shared state';
    rows.push({
      label: f.label,
      ours: fmt(o, f.digits),
      peer: fmt(p, f.digits),
      ratio: q === undefined ? '' : `${q.toFixed(2)}x`,
      note,
    });
  }
  return rows;
}

/**
 * Target standing: CPU end to end (fixed rate and saturation), gRPC ingest of prod spans (with the spread over the
 * rounds), memory per buffered span, Redis operations per span and decision lag, against the peer.
 */
export function targets(s: Session): Array<{ target: string; value: string; met: string }> {
  const ok = (r: RunResult) => r.ok && r.round < 99;
  const m = (caseFilter: (r: RunResult) => boolean, sys: 'ours' | 'peer', get: (r: RunResult) => number | undefined) =>
    med(s.results.filter((r) => ok(r) && caseFilter(r) && r.system === sys).map(get));
  const fixedRate = (r: RunResult) => r.scenario === 'e2e' && r.offeredSpansPerS !== undefined;
  // the fixed-rate end-to-end case with one process per tier, and the one with both tiers in one process
  const e2e = (r: RunResult) => fixedRate(r) && !r.caseId.startsWith('e2e-1proc');
  const e2eOne = (r: RunResult) => fixedRate(r) && r.caseId.startsWith('e2e-1proc');
  const smp = (r: RunResult) => r.caseId === 'sampling/small';
  const out: Array<{ target: string; value: string; met: string }> = [];
  const saturation = (r: RunResult) => r.caseId.startsWith('e2e-max');
  const grpcProd = (r: RunResult) => r.caseId === 'ingest/grpc/prod';
  for (const [filter, what, goal] of [
    [e2e, 'end to end, fixed rate (steady load), one process per tier', 1.5],
    [e2eOne, 'end to end, fixed rate (steady load), both tiers in one process like the peer', 1.0],
    [saturation, 'end to end at saturation (e2e-max), one process per tier', 2.0],
    [grpcProd, 'ingest over OTLP/gRPC, prod spans, saturation', 1.3],
  ] as const) {
    if (!s.results.some((r) => filter(r))) continue;
    const cpu = ratio(
      m(filter, 'ours', (r) => r.spansPerCpuS),
      m(filter, 'peer', (r) => r.spansPerCpuS),
    );
    out.push({
      target: `spans per CPU-second >= ${goal.toFixed(1)}x the peer: ${what}`,
      value: cpu === undefined ? 'n/a' : `${cpu.toFixed(2)}x${spreadOf(s, filter)}`,
      met: cpu === undefined ? '?' : cpu >= goal ? 'yes' : 'NO',
    });
  }
  const mem = ratio(
    m(smp, 'ours', (r) => r.rssBytesPerBufferedSpan),
    m(smp, 'peer', (r) => r.rssBytesPerBufferedSpan),
  );
  const heap = ratio(
    m(smp, 'ours', (r) => r.heapBytesPerBufferedSpan),
    m(smp, 'peer', (r) => r.heapBytesPerBufferedSpan),
  );
  out.push({
    target: 'memory per buffered span <= 1.0x the peer (sampling/small, RSS; heap in brackets)',
    value:
      mem === undefined ? 'n/a' : `${mem.toFixed(2)}x (heap ${heap === undefined ? 'n/a' : heap.toFixed(2) + 'x'})`,
    met: mem === undefined ? '?' : mem <= 1 ? 'yes' : 'NO',
  });
  const cmds = m(e2e, 'ours', (r) => r.redisCmdsPerSpan);
  const rts = m(e2e, 'ours', (r) => r.redisRoundTripsPerSpan);
  out.push({
    target: 'Redis < 0.02 operations per span (e2e; commands Redis executed, incl. inside Lua scripts)',
    value:
      cmds === undefined
        ? 'n/a'
        : `${cmds.toFixed(4)} commands/span; ${rts === undefined ? 'n/a' : rts.toFixed(5)} round trips/span`,
    met:
      cmds === undefined
        ? '?'
        : cmds < 0.02
          ? 'yes'
          : rts !== undefined && rts < 0.02
            ? 'round trips yes, commands NO'
            : 'NO',
  });
  const lag = ratio(
    m(e2e, 'ours', (r) => r.e2eLagP99S),
    m(e2e, 'peer', (r) => r.e2eLagP99S),
  );
  const lagOwn = ratio(
    m(e2e, 'ours', (r) => r.lagMeanS),
    m(e2e, 'peer', (r) => r.lagMeanS),
  );
  out.push({
    target: 'p99 decision lag no worse than the peer (e2e, sent -> in Jaeger; own metrics in brackets)',
    value:
      lag === undefined
        ? 'n/a'
        : `${lag.toFixed(2)}x (mean from own metrics ${lagOwn === undefined ? 'n/a' : lagOwn.toFixed(2) + 'x'})`,
    met: lag === undefined ? '?' : lag <= 1 ? 'yes' : 'NO',
  });
  return out;
}

/**
 * spreadOf is ", rounds a-b" for a case run in alternating rounds: the lowest and highest ratio of a round's ours
 * to the same round's peer (spans per CPU-second); '' with fewer than two rounds.
 */
function spreadOf(s: Session, filter: (r: RunResult) => boolean): string {
  const rounds = new Map<number, { ours?: number; peer?: number }>();
  for (const r of s.results) {
    if (!r.ok || r.round >= 99 || !filter(r)) continue;
    const e = rounds.get(r.round) ?? {};
    if (r.system === 'ours') e.ours = r.spansPerCpuS;
    else e.peer = r.spansPerCpuS;
    rounds.set(r.round, e);
  }
  const ratios = [...rounds.values()]
    .filter((e) => e.ours !== undefined && e.peer !== undefined && e.peer > 0)
    .map((e) => e.ours! / e.peer!);
  if (ratios.length < 2) return '';
  return ` (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x)`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** renderTable is the stdout report. */
export function renderTable(s: Session): string {
  const lines: string[] = [];
  lines.push(
    `tusk-collector benchmark ${s.session}${s.quick ? ' (quick)' : ''}: ${s.machine.cpu}, load average ${s.loadAverage.min.toFixed(1)}-${s.loadAverage.max.toFixed(1)}, ${s.durationS.toFixed(0)} s`,
  );
  for (const c of s.cases) {
    const runs = s.results.filter((r) => r.caseId === c.id && r.round < 99);
    lines.push('');
    lines.push(
      `== ${c.id}  (${c.scenario}, profile ${c.profile}, ${runs.filter((r) => r.ok).length}/${runs.length} runs ok; medians)`,
    );
    const A = s.labels?.a ?? 'ours';
    const B = s.labels?.b ?? 'peer';
    lines.push(
      `   ${pad('figure', 40)} ${lpad(A, 12)} ${lpad(B, 12)} ${lpad(s.labels ? 'A/B' : 'ours/peer', 10)}  note`,
    );
    for (const row of caseRows(s.results, c.id, c.scenario, !!s.labels))
      lines.push(
        `   ${pad(row.label, 40)} ${lpad(row.ours, 12)} ${lpad(row.peer, 12)} ${lpad(row.ratio, 10)}  ${row.note}`,
      );
    for (const r of runs.filter((x) => !x.ok)) lines.push(`   FAILED ${r.system} round ${r.round + 1}: ${r.error}`);
    for (const r of runs.filter((x) => x.ok && x.notes.length))
      lines.push(`   note ${r.system} round ${r.round + 1}: ${r.notes.join('; ')}`);
  }
  lines.push('');
  lines.push('== targets');
  if (!s.labels) for (const t of targets(s)) lines.push(`   ${pad(t.met, 28)} ${t.target}: ${t.value}`);
  if (s.profile) {
    lines.push('');
    lines.push(`== CPU profile of ours, ${s.profile.caseId} (${s.profile.file}), busy ${s.profile.busyMs} ms`);
    for (const a of s.profile.areas.slice(0, 10)) lines.push(`   ${lpad(a.pctBusy.toFixed(1), 5)}%  ${a.area}`);
    lines.push('   top functions (self):');
    for (const f of s.profile.topFunctions.slice(0, 12))
      lines.push(`   ${lpad(f.pctBusy.toFixed(1), 5)}%  ${f.name}  ${f.where}`);
  }
  return lines.join('\n') + '\n';
}

const START = '<!-- bench:generated:start (written by bench/run.ts; edit outside these markers) -->';
const END = '<!-- bench:generated:end -->';

/** renderMarkdown is the generated block of BENCHMARKS.md. */
export function renderMarkdown(s: Session): string {
  const L: string[] = [START, ''];
  L.push(`## Latest run: ${s.startedAt.replace('T', ' ').replace(/\..*/, '')} UTC${s.quick ? ' (quick)' : ''}`);
  L.push('');
  L.push(
    `Command: \`${s.command}\` (${Math.round(s.durationS)} s). Artifacts: \`.scratch/bench/${s.session}/\` (not committed).`,
  );
  L.push('');
  L.push('| machine | |');
  L.push('|---|---|');
  for (const [k, v] of Object.entries(s.machine)) L.push(`| ${k} | ${v} |`);
  L.push(
    `| load average (1 min) during the session | ${s.loadAverage.min.toFixed(2)} to ${s.loadAverage.max.toFixed(2)}, mean ${s.loadAverage.mean.toFixed(2)} |`,
  );
  for (const [k, v] of Object.entries(s.versions)) L.push(`| ${k} | ${v} |`);
  L.push(
    `| settings | ${Object.entries(s.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
  );
  L.push('');
  L.push('### Targets');
  L.push('');
  L.push('| target | where we stand | met |');
  L.push('|---|---|---|');
  for (const t of targets(s)) L.push(`| ${t.target} | ${t.value} | ${t.met} |`);
  for (const c of s.cases) {
    const runs = s.results.filter((r) => r.caseId === c.id && r.round < 99);
    L.push('');
    L.push(`### ${c.id}`);
    L.push('');
    L.push(
      `${c.scenario}, profile ${c.profile}, transport ${c.transport}, ${c.scenario === 'sampling' ? `${c.spans.toLocaleString('en-US')} spans pre-filled` : c.scenario === 'e2e' ? `${c.seconds} s at a fixed offered rate` : `up to ${c.spans.toLocaleString('en-US')} spans / ${c.seconds} s as fast as accepted`}; ${runs.filter((r) => r.ok).length}/${runs.length} runs ok, medians.`,
    );
    L.push('');
    L.push('| figure | ours | peer | ours/peer | |');
    L.push('|---|---:|---:|---:|---|');
    for (const row of caseRows(s.results, c.id, c.scenario))
      L.push(`| ${row.label} | ${row.ours} | ${row.peer} | ${row.ratio} | ${row.note} |`);
    const notes = runs.filter((r) => !r.ok || r.notes.length);
    if (notes.length) {
      L.push('');
      for (const r of notes)
        L.push(`- ${r.system} round ${r.round + 1}: ${r.ok ? r.notes.join('; ') : `FAILED: ${r.error}`}`);
    }
  }
  L.push('');
  L.push('### Every run (in the order they ran)');
  L.push('');
  L.push(
    '| case | system | round | spans | spans/s | CPU-s/M spans | peak RSS MB | B/buffered span (RSS) | Redis cmds/span | lag mean own / p99 e2e, s | load avg | busy cores |',
  );
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of s.results) {
    if (!r.ok) {
      L.push(`| ${r.caseId} | ${r.system} | ${r.round + 1} | FAILED | | | | | | | ${r.loadAvg1.toFixed(2)} | |`);
      continue;
    }
    L.push(
      `| ${r.caseId}${r.round === 99 ? ' (cpu-prof)' : ''} | ${r.system} | ${r.round === 99 ? '-' : r.round + 1} | ${r.spans.toLocaleString('en-US')} | ${fmt(r.spansPerS, 0)} | ${fmt(r.cpuSPerMSpans, 1)} | ${fmt(r.peakRssMB, 0)} | ${fmt(r.rssBytesPerBufferedSpan, 0)} | ${fmt(r.system === 'ours' ? r.redisCmdsPerSpan : undefined, 4)} | ${fmt(r.lagMeanS, 2)} / ${fmt(r.e2eLagP99S, 2)} | ${r.loadAvg1.toFixed(2)} | ${fmt(r.machineBusyCores, 2)} |`,
    );
  }
  if (s.profile) {
    L.push('');
    L.push(
      `### CPU profile (ours, ${s.profile.caseId}, \`node --cpu-prof\`; busy ${s.profile.busyMs} ms of ${s.profile.totalMs} ms)`,
    );
    L.push('');
    L.push('| self time, % of busy | area |');
    L.push('|---:|---|');
    for (const a of s.profile.areas.slice(0, 12)) L.push(`| ${a.pctBusy.toFixed(1)} | ${a.area} |`);
    L.push('');
    L.push('| self time, % of busy | function | where |');
    L.push('|---:|---|---|');
    for (const f of s.profile.topFunctions.slice(0, 20))
      L.push(`| ${f.pctBusy.toFixed(1)} | \`${f.name}\` | ${f.where} |`);
  }
  L.push('');
  L.push(END);
  return L.join('\n');
}

/** writeBenchmarksMd replaces the generated block of BENCHMARKS.md (or appends it / creates the file). */
export function writeBenchmarksMd(file: string, s: Session): void {
  const block = renderMarkdown(s);
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, `# Benchmarks\n\n${block}\n`);
    return;
  }
  const text = fs.readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  fs.writeFileSync(
    file,
    a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n${block}\n`,
  );
}
