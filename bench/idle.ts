// The fixed cost of each system: CPU and wake-ups of the end-to-end deployment with no load at all (ours: ingest
// tier, sampling tier, its Redis server; the peer: its one collector), measured in the same run, alternating.
// At 10k spans/s a process that burns 1 % of a core idle adds 1 CPU-s per million spans: this is the part of the
// bill that does not shrink with load.
//
//   npx tsx bench/idle.ts [--seconds S] [--rounds N] [--app-b DIR] [--node-flags "FLAGS"]
//
// --app-b DIR: A/B of our own code instead of ours/peer (DIR holds bin/ and dist/ of the B build).
// --node-flags: extra node flags for our processes (e.g. "--cpu-prof --cpu-prof-dir=DIR" to see what runs idle).
// Needs the stack (`bash scripts/stack/up.sh`) and a built dist/. Artifacts go to .scratch/bench/idle-<session>/.

import fs from 'node:fs';
import path from 'node:path';
import { BenchKafka } from './lib/kafka';
import { freePort } from './lib/ports';
import { readProc } from './lib/proc';
import { PrivateRedis } from './lib/redis';
import { med } from './lib/report';
import { REPO, snapshotCollector, startSystem, type RunningSystem, type SystemName } from './lib/systems';

interface Opts {
  seconds: number;
  rounds: number;
  appB?: string;
  nodeFlags: string[];
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = { seconds: 20, rounds: 2, nodeFlags: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--app-b') o.appB = path.resolve(val());
    else if (a === '--node-flags') o.nodeFlags = val().split(/\s+/).filter(Boolean);
    else throw new Error(`unknown option ${a} (see the header of bench/idle.ts)`);
  }
  if (!(o.seconds > 0) || !(o.rounds > 0)) throw new Error('--seconds and --rounds must be positive');
  return o;
}

/** wakeUps is the number of context switches of every thread of `pid` (voluntary + involuntary). */
function wakeUps(pid: number): number {
  let n = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) n += Number(m[1]);
    }
  } catch {
    // The process or a thread went away: count what was read.
  }
  return n;
}

/** IdleFigures are one process's CPU share of a core and wake-ups per second over the window. */
interface IdleFigures {
  role: string;
  cpuPercent: number;
  wakeUpsPerS: number;
  rssMB: number;
}

async function measure(pids: Array<{ role: string; pid: number }>, seconds: number): Promise<IdleFigures[]> {
  const before = pids.map((p) => ({ cpu: readProc(p.pid)?.cpuS ?? 0, wake: wakeUps(p.pid) }));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = (Date.now() - t0) / 1000;
  return pids.map((p, i) => {
    const now = readProc(p.pid);
    return {
      role: p.role,
      cpuPercent: (((now?.cpuS ?? 0) - before[i]!.cpu) / s) * 100,
      wakeUpsPerS: (wakeUps(p.pid) - before[i]!.wake) / s,
      rssMB: (now?.rssBytes ?? 0) / 1048576,
    };
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const session = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14) + `-${process.pid}`;
  const dir = path.join(REPO, '.scratch', 'bench', `idle-${session}`);
  fs.mkdirSync(dir, { recursive: true });
  snapshotCollector(path.join(dir, 'a'));
  const kafka = new BenchKafka();
  await kafka.connect();
  const redis = new PrivateRedis();
  await redis.start(path.join(dir, 'redis'));
  const sides: Array<{ label: string; system: SystemName; app?: string }> = o.appB
    ? [
        { label: 'A', system: 'ours' },
        { label: 'B', system: 'ours', app: o.appB },
      ]
    : [
        { label: 'ours', system: 'ours' },
        { label: 'peer', system: 'peer' },
      ];
  const rows = new Map<string, IdleFigures[]>();
  const topics: string[] = [];
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const side of round % 2 ? [...sides].reverse() : sides) {
        if (side.app) snapshotCollector(path.join(dir, 'b'), side.app);
        else snapshotCollector(path.join(dir, 'a'));
        const tag = `${side.label}-${round}`;
        const topic = `tusk-idle-${process.pid}-${tag}`;
        await kafka.createTopic(topic);
        topics.push(topic);
        const runDir = path.join(dir, tag);
        fs.mkdirSync(runDir, { recursive: true });
        let sys: RunningSystem | undefined;
        try {
          sys = await startSystem(side.system, {
            scenario: 'e2e',
            runId: tag,
            dir: runDir,
            topic,
            group: `${topic}-g`,
            redisUrl: redis.url,
            redisPrefix: `${topic}:`,
            decisionWaitS: 5,
            rootSettleS: 2,
            slowMs: 1000,
            exportEndpoint: `http://127.0.0.1:${await freePort()}`,
            nodeFlags: o.nodeFlags,
            tracesPerSec: 1000,
          });
          await new Promise((r) => setTimeout(r, 5000)); // start-up, group join, first syncs
          const pids = sys.procs.map((p) => ({ role: p.role, pid: p.child.pid! }));
          if (side.system === 'ours' && redis.pid !== undefined) pids.push({ role: 'redis', pid: redis.pid });
          const figures = await measure(pids, o.seconds);
          console.error(
            `[idle] ${tag}: ` +
              figures.map((f) => `${f.role} ${f.cpuPercent.toFixed(2)} % ${f.wakeUpsPerS.toFixed(0)}/s`).join(', '),
          );
          for (const f of figures) {
            const key = `${side.label}|${f.role}`;
            rows.set(key, [...(rows.get(key) ?? []), f]);
          }
        } finally {
          await sys?.stop();
        }
      }
    }
  } finally {
    await redis.stop();
    await kafka.cleanup(
      topics,
      topics.map((t) => `${t}-g`),
    );
    await kafka.close();
  }
  const median = (xs: number[]): number => med(xs) ?? NaN;
  const out = [
    `idle run ${path.basename(dir)}: ${o.rounds} round(s) of ${o.seconds} s, no load, medians`,
    '',
    '| system / process | CPU, % of a core | wake-ups per second | RSS, MB |',
    '|---|---|---|---|',
  ];
  const totals = new Map<string, number>();
  for (const [key, fs_] of rows) {
    const cpu = median(fs_.map((f) => f.cpuPercent));
    totals.set(key.split('|')[0]!, (totals.get(key.split('|')[0]!) ?? 0) + cpu);
    out.push(
      `| ${key.replace('|', ' / ')} | ${cpu.toFixed(2)} | ${median(fs_.map((f) => f.wakeUpsPerS)).toFixed(0)} | ` +
        `${median(fs_.map((f) => f.rssMB)).toFixed(0)} |`,
    );
  }
  for (const [label, cpu] of totals) out.push(`| **${label}, all processes** | **${cpu.toFixed(2)}** | | |`);
  const report = out.join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'report.md'), report);
  process.stdout.write(report);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
