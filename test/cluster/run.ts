// `npm run cluster:drills`: brings the rehearsal cluster up (scripts/cluster/up.sh, idempotent), runs every
// drill of test/cluster/drills.ts one after the other, prints the report table (the one docs/deployment.md
// shows) and exits non-zero when a drill failed. The cluster is left up unless --down is given.
//   npm run cluster:drills [-- --only broker-kill,sampler-kill] [--down] [--decision-wait 15s]
// Needs the compiled collector (the npm script runs `tsc -p tsconfig.json` first) and the shared Jaeger.

import { REPORT_HEADER, reportRow, runDrill, type DrillKind, type DrillReport } from './drills';
import { readClusterEnv, runScript } from './rehearsal';

const ALL: DrillKind[] = ['broker-kill', 'sampler-kill', 'redis-master-kill', 'rolling-restart', 'scale'];

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
    try {
      const r = await runDrill(env, { kind, traces: 800, loadMs: 24_000, faultAtMs: 8000, downMs: 15_000, vars });
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
