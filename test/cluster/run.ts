// `npm run cluster:drills`: brings the rehearsal cluster up (scripts/cluster/up.sh, idempotent), runs every drill of
// test/cluster/drills.ts one after the other (the network ones only in namespace mode), prints the report table (the
// one docs/deployment.md shows) and exits non-zero when a drill failed. The cluster is left up unless --down is
// given. The logs-follow drill sends 200 traces over 15 s with their logs and runs at decision_wait 20 s.
//   npm run cluster:drills [-- --only broker-kill,sampler-kill] [--down] [--decision-wait 15s] [--spare-coordinator]
// (--spare-coordinator: the broker kill spares the group coordinator, see drills.ts)
// Needs the compiled collector (the npm script runs `tsc -p tsconfig.json` first) and the shared Jaeger.

import { NETWORK_DRILLS, REPORT_HEADER, reportRow, runDrill, type DrillKind, type DrillReport } from './drills';
import { readClusterEnv, runScript } from './rehearsal';

const ALL: DrillKind[] = [
  'broker-kill',
  'sampler-kill',
  'redis-master-kill',
  'rolling-restart',
  'scale',
  'redis-partition',
  'kafka-partition',
  'redis-slow',
  'logs-follow',
];
/** How long each network drill's fault lasts (ms); the load covers it, at the same rate as the others. */
const FAULT_MS: Partial<Record<DrillKind, number>> = {
  'redis-partition': 20_000,
  'kafka-partition': 30_000,
  'redis-slow': 60_000,
};
const TRACES = 800;
const LOAD_MS = 24_000;
/** Drills with their own size (traces over ms). */
const SIZE: Partial<Record<DrillKind, { traces: number; loadMs: number }>> = {
  'logs-follow': { traces: 200, loadMs: 15_000 },
};
const FAULT_AT_MS = 8000;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const kinds = onlyAt >= 0 ? ((args[onlyAt + 1] ?? '').split(',') as DrillKind[]) : ALL;
  const unknown = kinds.filter((k) => !ALL.includes(k));
  if (unknown.length > 0) {
    console.error(`unknown drill(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
    return 2;
  }
  console.log('cluster drills: bringing the rehearsal cluster up (scripts/cluster/up.sh)');
  const up = await runScript('up.sh', [], 300_000);
  process.stdout.write(up.output);
  if (up.code !== 0) {
    console.error('cluster drills: the rehearsal cluster did not start');
    return 1;
  }
  const env = readClusterEnv();
  const reports: DrillReport[] = [];
  const waitAt = args.indexOf('--decision-wait');
  const vars: Record<string, string> = waitAt >= 0 ? { DECISION_WAIT: args[waitAt + 1] ?? '' } : {};
  for (const kind of kinds) {
    console.log(`\ndrill ${kind}:`);
    if (NETWORK_DRILLS.includes(kind) && env.mode !== 'netns') {
      console.log(`  skipped: needs network namespaces (the cluster runs in ${env.mode} mode)`);
      continue;
    }
    const faultMs = FAULT_MS[kind];
    const loadMs = SIZE[kind]?.loadMs ?? (faultMs === undefined ? LOAD_MS : FAULT_AT_MS + faultMs + 8000);
    const traces = SIZE[kind]?.traces ?? Math.round((TRACES * loadMs) / LOAD_MS);
    try {
      const downMs = faultMs ?? 15_000;
      const spareCoordinator = args.includes('--spare-coordinator');
      const r = await runDrill(env, { kind, traces, loadMs, faultAtMs: FAULT_AT_MS, downMs, spareCoordinator, vars });
      reports.push(r);
      console.log(
        `  ${r.failures.length === 0 ? 'pass' : 'FAIL'} in ${(r.elapsedMs / 1000).toFixed(1)} s` +
          `${r.failures.map((f) => `\n    - ${f}`).join('')}`,
      );
    } catch (err) {
      console.error(`  drill ${kind} could not run: ${err instanceof Error ? err.stack : String(err)}`);
      return 1;
    }
  }
  console.log(`\n${[...REPORT_HEADER, ...reports.map(reportRow)].join('\n')}`);
  if (args.includes('--down')) process.stdout.write((await runScript('down.sh', [], 120_000)).output);
  return reports.every((r) => r.failures.length === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
