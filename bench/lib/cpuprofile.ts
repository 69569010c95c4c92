// Summary of a V8 .cpuprofile (node --cpu-prof): self time per function and per area (our source
// folders, each npm package, Node internals, GC, idle), so the hot path can be read without DevTools.
// Also usable alone: npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [top]

import fs from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Busy = total minus (idle), (program) and start-up (module loading, compiling). */
  busyMs: number;
  startupMs: number;
  /** Self time per function; node/V8 internals name their nearest caller in our code or a package. */
  topFunctions: Array<{ name: string; where: string; area: string; selfMs: number; pctBusy: number; caller?: string }>;
  areas: Array<{ area: string; selfMs: number; pctBusy: number }>;
  /** Inclusive (total) time of our own functions, the hot path read top-down. */
  topInclusive: Array<{ name: string; where: string; totalMs: number; pctBusy: number }>;
}

const STARTUP = new Set([
  'wrapSafe',
  'compileFunction',
  'Module._compile',
  'loadESMFromCJS',
  'compileForInternalLoader',
]);

/** areaOf names where a function lives: a source folder of ours (pipeline/sdk/otlp, receivers/kafka, ...), an npm package, node, or V8. */
export function areaOf(cf: CallFrame): string {
  const n = cf.functionName;
  if (n === '(garbage collector)') return 'V8 GC';
  if (n === '(idle)' || n === '(program)' || n === '(root)') return n;
  const url = cf.url.replace(/^file:\/\//, '');
  if (url === '') return 'V8 / native';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const parts = url.slice(dist + '/dist/'.length).split('/');
    return `ours ${parts.slice(0, Math.min(2, parts.length - 1)).join('/')}`;
  }
  return `other ${path.basename(url)}`;
}

function shortWhere(cf: CallFrame): string {
  const url = cf.url.replace(/^file:\/\//, '');
  const short = url.includes('/dist/')
    ? url.slice(url.indexOf('/dist/') + 6)
    : url.includes('node_modules/')
      ? url.slice(url.lastIndexOf('node_modules/') + 13)
      : url;
  return short ? `${short}:${cf.lineNumber + 1}` : '';
}

/** summarizeCpuProfile reads a .cpuprofile and returns the self-time summary (start-up excluded). */
export function summarizeCpuProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const ancestors = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) out.push(byId.get(x)!);
    return out;
  };
  const fn = new Map<
    string,
    { name: string; where: string; area: string; selfMs: number; callers: Map<string, number> }
  >();
  const incl = new Map<string, { name: string; where: string; totalMs: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let notBusy = 0;
  let startup = 0;
  for (const [id, ms] of self) {
    const cf = byId.get(id)!.callFrame;
    total += ms;
    const area = areaOf(cf);
    if (area === '(idle)' || area === '(program)') {
      notBusy += ms;
      continue;
    }
    const chain = ancestors(id);
    if (chain.some((n) => STARTUP.has(n.callFrame.functionName))) {
      startup += ms;
      continue;
    }
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = shortWhere(cf);
    const key = `${cf.functionName}@${where}`;
    const e = fn.get(key) ?? { name: cf.functionName || '(anonymous)', where, area, selfMs: 0, callers: new Map() };
    e.selfMs += ms;
    if (!area.startsWith('ours') && !area.startsWith('npm')) {
      const caller = chain.slice(1).find((n) => {
        const a = areaOf(n.callFrame);
        return a.startsWith('ours') || a.startsWith('npm');
      });
      if (caller) {
        const ck = `${caller.callFrame.functionName || '(anonymous)'} ${shortWhere(caller.callFrame)}`;
        e.callers.set(ck, (e.callers.get(ck) ?? 0) + ms);
      }
    }
    fn.set(key, e);
    const seen = new Set<string>();
    for (const n of chain) {
      if (!areaOf(n.callFrame).startsWith('ours')) continue;
      const w = shortWhere(n.callFrame);
      const k = `${n.callFrame.functionName}@${w}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const x = incl.get(k) ?? { name: n.callFrame.functionName || '(anonymous)', where: w, totalMs: 0 };
      x.totalMs += ms;
      incl.set(k, x);
    }
  }
  const busy = total - notBusy - startup;
  const pct = (ms: number) => Number(((100 * ms) / Math.max(1e-9, busy)).toFixed(1));
  return {
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    startupMs: Math.round(startup),
    topFunctions: [...fn.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => {
        const best = [...f.callers.entries()].sort((a, b) => b[1] - a[1])[0];
        return {
          name: f.name,
          where: f.where,
          area: f.area,
          selfMs: Math.round(f.selfMs),
          pctBusy: pct(f.selfMs),
          ...(best ? { caller: `${best[0]} (${Math.round((100 * best[1]) / f.selfMs)}%)` } : {}),
        };
      }),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([area, ms]) => ({ area, selfMs: Math.round(ms), pctBusy: pct(ms) })),
    topInclusive: [...incl.values()]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top)
      .map((x) => ({ ...x, totalMs: Math.round(x.totalMs), pctBusy: pct(x.totalMs) })),
  };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  const s = summarizeCpuProfile(file, Number(process.argv[3] ?? 30));
  process.stdout.write(
    `total ${s.totalMs} ms, busy ${s.busyMs} ms (start-up ${s.startupMs} ms excluded)\n\nby area (self time, % of busy):\n`,
  );
  for (const a of s.areas)
    process.stdout.write(`  ${a.pctBusy.toFixed(1).padStart(5)}%  ${String(a.selfMs).padStart(7)} ms  ${a.area}\n`);
  process.stdout.write('\ntop functions (self time):\n');
  for (const f of s.topFunctions)
    process.stdout.write(
      `  ${f.pctBusy.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}  ${f.where}${f.caller ? `  <- ${f.caller}` : ''}\n`,
    );
  process.stdout.write('\nour functions, inclusive time:\n');
  for (const f of s.topInclusive)
    process.stdout.write(
      `  ${f.pctBusy.toFixed(1).padStart(5)}%  ${String(f.totalMs).padStart(7)} ms  ${f.name}  ${f.where}\n`,
    );
}
