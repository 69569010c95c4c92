// The cost model of the benchmark (`bench/run.ts --scale`): the end-to-end case once per offered rate and
// number of sampler processes, for both systems; the table of what each point costs (cores, CPU per span,
// RSS, decision lag) and, per system and sampler count, the least-squares line cores = fixed + marginal x
// rate that users size a deployment with ("per 10k spans/s of small spans: N cores ingest, ...").

import type { CaseDef, RunResult } from './cases';
import { PARTITIONS } from './kafka';
import { fmt, med } from './report';
import type { SystemName } from './systems';
import type { Profile } from '../loadgen/model';

/** Partitions of the cost model's topic when sampler processes are given: 1, 2, 3 and 6 members divide it. */
export const SCALE_PARTITIONS = 6;
/** Seconds of load per point (`--scale-seconds`). */
export const DEFAULT_SCALE_SECONDS = 10;
/** Offered rates (spans/s) per profile when `--scale` gives none. */
export const DEFAULT_SCALE_RATES: Readonly<Record<Profile, readonly number[]>> = {
  small: [2000, 5000, 10_000, 20_000, 40_000],
  prod: [2000, 5000, 10_000],
};

/** What the cost model runs. */
export interface ScaleOptions {
  /** Offered rates, spans/s. */
  rates: readonly number[];
  profile: Profile;
  /** Sampler process counts, each run at every rate; absent: one process per tier, the peer in one process. */
  samplers?: readonly number[];
  /** Seconds of load per point. */
  seconds: number;
  rounds: number;
}

/** scaleTransport is the OTLP transport of a profile, as in the other cases: prod spans over gRPC, small over HTTP. */
export function scaleTransport(profile: Profile): 'http' | 'grpc' {
  return profile === 'prod' ? 'grpc' : 'http';
}

/** scaleCases are the cost model's points: one e2e case per rate and sampler count (rate outermost). */
export function scaleCases(o: ScaleOptions): CaseDef[] {
  const counts: Array<number | undefined> = o.samplers ? [...o.samplers] : [undefined];
  return o.rates.flatMap((rate) =>
    counts.map((n): CaseDef => ({
      id: `scale/${o.profile}/${rate}${n === undefined ? '' : `/x${n}`}`,
      scenario: 'e2e',
      profile: o.profile,
      transport: scaleTransport(o.profile),
      spans: 0,
      seconds: o.seconds,
      rate,
      concurrency: Math.max(8, Math.ceil(rate / 2500)),
      rounds: o.rounds,
      ...(n === undefined ? {} : { samplers: n, partitions: SCALE_PARTITIONS }),
    })),
  );
}

/** One point of the cost model for one system: medians over its rounds. */
export interface ScalePoint {
  caseId: string;
  system: SystemName;
  offered: number;
  /** Sampler processes (CaseDef.samplers); undefined: one process per tier, the peer in one process. */
  samplers?: number;
  runsOk: number;
  runs: number;
  accepted?: number;
  /** Steady CPU per span x accepted rate. */
  cores?: number;
  /** The same per role: ingest, sample (all sampler processes), redis, all (both tiers in one process). */
  coresByRole: Record<string, number>;
  cpuSPerMSpans?: number;
  /** Peak RSS of every process of the system (ours with its Redis), MB. */
  rssMB?: number;
  e2eLagP99S?: number;
  ownLagP99S?: number;
  /** Partitions per member of the sampling group at the start of the load (first run). */
  groupPartitions?: number[];
}

/** scalePoints reduces the cost model's runs to one point per case and system (failed runs left out). */
export function scalePoints(results: readonly RunResult[]): ScalePoint[] {
  const out: ScalePoint[] = [];
  const ids = [...new Set(results.map((r) => r.caseId))];
  for (const caseId of ids) {
    for (const system of ['ours', 'peer'] as const) {
      const all = results.filter((r) => r.caseId === caseId && r.system === system);
      if (all.length === 0) continue;
      const rs = all.filter((r) => r.ok);
      const accepted = med(rs.map((r) => r.spansPerS));
      const cpu = med(rs.map((r) => r.cpuSPerMSpans));
      const coresOf = (perM: number | undefined) =>
        perM !== undefined && accepted !== undefined ? (perM * accepted) / 1e6 : undefined;
      const coresByRole: Record<string, number> = {};
      for (const role of new Set(rs.flatMap((r) => Object.keys(r.cpuSPerMSpansByRole ?? {})))) {
        const c = coresOf(med(rs.map((r) => r.cpuSPerMSpansByRole?.[role])));
        if (c !== undefined) coresByRole[role] = c;
      }
      out.push({
        caseId,
        system,
        offered: all[0].offeredSpansPerS ?? 0,
        samplers: all[0].samplers,
        runsOk: rs.length,
        runs: all.length,
        accepted,
        cores: coresOf(cpu),
        coresByRole,
        cpuSPerMSpans: cpu,
        rssMB: med(rs.map((r) => r.peakRssMB + (r.redisPeakRssMB ?? 0))),
        e2eLagP99S: med(rs.map((r) => r.e2eLagP99S)),
        ownLagP99S: med(rs.map((r) => r.lagP99S)),
        groupPartitions: rs.find((r) => r.groupPartitions)?.groupPartitions,
      });
    }
  }
  return out;
}

/** A least-squares line y = fixed + marginal x. */
export interface Line {
  fixed: number;
  marginal: number;
}

/** fitLine is the least-squares line through (x, y) points; undefined with fewer than two distinct x. */
export function fitLine(points: ReadonlyArray<{ x: number; y: number }>): Line | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return undefined;
  const marginal = sxy / sxx;
  return { fixed: my - marginal * mx, marginal };
}

/** The fitted cost of one system at one sampler count, over the accepted rate (spans/s). */
export interface Sizing {
  system: SystemName;
  samplers?: number;
  /** Rates (points) the lines were fitted over. */
  points: number;
  cores?: Line;
  /** The ingest process; undefined when both tiers share one process. */
  ingest?: Line;
  /** The sampler processes and, for ours, Redis. */
  sampling?: Line;
  rssMB?: Line;
}

/** fitSizing fits, per system and sampler count, cores, ingest and sampling cores and RSS against the rate. */
export function fitSizing(points: readonly ScalePoint[]): Sizing[] {
  const out: Sizing[] = [];
  const keys = [...new Set(points.map((p) => `${p.system}|${p.samplers ?? ''}`))];
  for (const key of keys) {
    const ps = points.filter((p) => `${p.system}|${p.samplers ?? ''}` === key && p.accepted !== undefined);
    if (ps.length === 0) continue;
    const fit = (y: (p: ScalePoint) => number | undefined) =>
      fitLine(ps.flatMap((p) => (y(p) === undefined ? [] : [{ x: p.accepted!, y: y(p)! }])));
    const split = ps.every((p) => p.coresByRole.ingest !== undefined && p.coresByRole.sample !== undefined);
    out.push({
      system: ps[0].system,
      samplers: ps[0].samplers,
      points: ps.length,
      cores: fit((p) => p.cores),
      ingest: split ? fit((p) => p.coresByRole.ingest) : undefined,
      sampling: split ? fit((p) => p.coresByRole.sample + (p.coresByRole.redis ?? 0)) : undefined,
      rssMB: fit((p) => p.rssMB),
    });
  }
  return out;
}

/** topology names the processes of a point: one ingest plus N samplers, or the peer's single process. */
export function topology(system: SystemName, samplers: number | undefined): string {
  if (samplers === undefined && system === 'peer') return 'one process (both tiers)';
  const n = samplers ?? 1;
  return `ingest + ${n} sampler${n === 1 ? '' : 's'}`;
}

/** sizingText is the line users size with, from the fit: cores and MB per 10k spans/s plus the fixed part. */
export function sizingText(s: Sizing, profile: Profile): string {
  const per10k = (l: Line | undefined, d: number) => fmt(l === undefined ? undefined : l.marginal * 10_000, d);
  const head = `${s.system}, ${topology(s.system, s.samplers)} (${s.points} rate${s.points === 1 ? '' : 's'})`;
  if (!s.cores) return `${head}: fewer than two rates, no line`;
  const perRole =
    s.ingest && s.sampling
      ? `${per10k(s.ingest, 2)} cores ingest, ${per10k(s.sampling, 2)} cores sampling` +
        `${s.system === 'ours' ? ' (samplers + Redis)' : ''}`
      : `${per10k(s.cores, 2)} cores (both tiers in one process)`;
  return (
    `${head}: cores = ${fmt(s.cores.fixed, 2)} + ${fmt(s.cores.marginal * 1000, 3)} per 1k spans/s; ` +
    `RSS = ${fmt(s.rssMB?.fixed, 0)} MB + ${fmt(s.rssMB && s.rssMB.marginal * 1000, 1)} MB per 1k spans/s\n` +
    `     per 10k spans/s of ${profile} spans: ${perRole}, ${per10k(s.rssMB, 0)} MB; ` +
    `on top of a fixed ${fmt(s.cores.fixed, 2)} cores and ${fmt(s.rssMB?.fixed, 0)} MB for this topology`
  );
}

/** scaleTable renders the cost model: the table per point and system, notes and failures, then the lines. */
export function scaleTable(cases: readonly CaseDef[], results: readonly RunResult[]): string {
  const c = cases[0];
  if (!c) return '';
  const split = cases.some((x) => x.samplers !== undefined);
  const transport = c.transport === 'grpc' ? 'OTLP/gRPC' : 'OTLP/HTTP';
  const lines = [
    '',
    `== cost model (e2e, ${c.profile} spans over ${transport}, ${c.seconds} s of load per point, topic of ` +
      `${c.partitions ?? PARTITIONS} partitions; medians over rounds)`,
    split
      ? '   topology: ours = 1 ingest process + N sampler processes (one consumer group, one shared Redis state); ' +
        'peer = 1 ingest collector (otlp -> kafka) + N collectors (kafka -> tail_sampling -> batch -> otlphttp, ' +
        'one consumer group)'
      : '   topology: ours = 1 ingest process + 1 sampler process; peer = one collector holding both pipelines',
    '   cores = steady CPU per span x accepted spans/s (split: ingest / samplers / Redis); RSS = peak of all ' +
      "processes (ours with Redis); own decision lag: ours' decision_lag_seconds, the peer's " +
      'trace_removal_age (whole-second buckets)',
    '| offered spans/s | system | topology | accepted spans/s | cores (steady) | cores ingest / samplers / Redis ' +
      '| CPU-s per M spans | peak RSS, MB | sent -> in Jaeger p99, s | own decision lag p99, s ' +
      '| partitions per sampler | runs ok |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const points = scalePoints(results);
  const order = [...points].sort(
    (a, b) => (a.samplers ?? 0) - (b.samplers ?? 0) || a.offered - b.offered || a.system.localeCompare(b.system),
  );
  for (const p of order) {
    const r = p.coresByRole;
    const byRole =
      r.all !== undefined
        ? `${fmt(r.all, 2)} (one process)`
        : [r.ingest, r.sample, r.redis].map((x) => (x === undefined ? '-' : fmt(x, 2))).join(' / ');
    const cells = [
      fmt(p.offered, 0),
      p.system,
      topology(p.system, p.samplers),
      fmt(p.accepted, 0),
      fmt(p.cores, 2),
      byRole,
      fmt(p.cpuSPerMSpans, 1),
      fmt(p.rssMB, 0),
      fmt(p.e2eLagP99S, 2),
      fmt(p.ownLagP99S, 2),
      p.groupPartitions?.join('/') ?? '-',
      `${p.runsOk}/${p.runs}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  for (const r of results) {
    const where =
      `${fmt(r.offeredSpansPerS, 0)} spans/s, ${topology(r.system, r.samplers)}, ` + `${r.system} round ${r.round + 1}`;
    if (!r.ok) lines.push(`   FAILED ${where}: ${r.error}`);
    else if (r.notes.length) lines.push(`   note ${where}: ${r.notes.join('; ')}`);
  }
  lines.push('', `== sizing (least squares over the rates of one sampler count; x = accepted spans/s)`);
  for (const s of fitSizing(points)) lines.push(`   ${sizingText(s, c.profile)}`);
  return lines.join('\n') + '\n';
}
