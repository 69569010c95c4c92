// The rehearsal cluster's drills (issue 19): two ingest and three sampler processes of the real binary,
// each in its own network namespace, a bounded stream of SDK-made traces (5 % with an ERROR span, each
// trace's spans spread over 2 s in separate OTLP requests) sent to both ingest processes, and one fault
// injected mid-stream: kill -9 of the broker leading most of the topic's partitions (restarted later),
// kill -9 of a sampler, kill -9 of a Redis Cluster master (its replica is promoted; the old master
// rejoins as a replica), a rolling restart of every sampler (SIGTERM one at a time), or scaling the
// samplers 3 -> 5 -> 2. Each drill reports acknowledged / decided / kept / complete in Jaeger / duplicate
// deliveries (counted by a proxy in front of Jaeger), and fails on any acknowledged trace without a
// decision, any acknowledged error trace not kept or incomplete in Jaeger, any kept trace incomplete, or a
// dropped trace found in Jaeger.

import fs from 'node:fs';
import path from 'node:path';
import { fetchDecision, mapLimit, waitUntil, type DecisionAnswer } from '../helpers/admin';
import { checkTraces } from '../helpers/jaeger-check';
import { getTrace } from '../helpers/jaeger';
import { duplicateDeliveries, startJaegerProxy } from '../helpers/jaeger-proxy';
import {
  planTraces,
  runLoad,
  statusSummary,
  traceAcked,
  type LoadResult,
  type PlannedTrace,
} from '../helpers/otlp-load';
import {
  CLUSTER_STATE,
  clusterBrokersUp,
  killPid,
  readPid,
  redisNodes,
  runScript,
  sleep,
  startOnHost,
  topicPartitions,
  waitGroupStable,
  withAdmin,
  type ClusterEnv,
  type HostProcess,
} from './rehearsal';

/** The faults a drill can inject. */
export type DrillKind = 'broker-kill' | 'sampler-kill' | 'redis-master-kill' | 'rolling-restart' | 'scale';

/** How big a drill is. */
export interface DrillOptions {
  kind: DrillKind;
  /** Traces sent (bounded). */
  traces: number;
  /** Traces start evenly over this many ms. */
  loadMs: number;
  /** When the fault is injected (ms after the load starts). */
  faultAtMs: number;
  /** broker-kill: how long the broker stays down (ms). */
  downMs: number;
  /** Extra environment of every collector process (e.g. DECISION_WAIT for an experiment). */
  vars?: Record<string, string>;
  /** Progress lines go here. */
  log?: (line: string) => void;
}

/** A drill's figures. */
export interface DrillReport {
  kind: DrillKind;
  service: string;
  planned: number;
  ackedTraces: number;
  ackedSpans: number;
  unackedSpans: number;
  decided: number;
  kept: number;
  keptErrors: number;
  ackedErrors: number;
  completeInJaeger: number;
  /** Spans delivered to Jaeger more than once / extra copies. */
  duplicateSpans: number;
  duplicateCopies: number;
  /** Acknowledged traces without a decision. */
  lost: number;
  /** Acknowledged error traces not kept, or kept but incomplete in Jaeger. */
  errorTracesLost: number;
  incompleteKept: number;
  leakedDropped: number;
  /** What was done and when. */
  fault: string;
  replicationFactor: number;
  elapsedMs: number;
  failures: string[];
}

const PARTITIONS = 6;

/** runDrill runs one drill against the rehearsal cluster described by env; never leaves processes behind. */
export async function runDrill(env: ClusterEnv, o: DrillOptions): Promise<DrillReport> {
  const log = o.log ?? ((s: string) => console.log(s));
  const started = Date.now();
  const id = `${o.kind}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const names = { topic: `drill-${id}`, group: `drill-${id}`, prefix: `drill:${id}:`, service: `drill-${id}` };
  const proxy = await startJaegerProxy('http://127.0.0.1:14268/api/traces', env.hostIp);
  const vars = {
    TUSK_SPANS_TOPIC: names.topic,
    TUSK_SAMPLER_GROUP: names.group,
    TUSK_REDIS_PREFIX: names.prefix,
    JAEGER_ENDPOINT: proxy.endpoint,
    KEEP_PERCENT: '10',
    ...o.vars,
  };
  const procs: HostProcess[] = [];
  const failures: string[] = [];
  let fault: string;
  let restore: (() => Promise<void>) | undefined;
  try {
    const ingest = await Promise.all(['i1', 'i2'].map((h) => startOnHost(env, h, 'ingest', vars)));
    procs.push(...ingest);
    const samplers = await Promise.all(['s1', 's2', 's3'].map((h) => startOnHost(env, h, 'sample', vars)));
    procs.push(...samplers);
    await waitGroupStable(env, names.group, names.topic, 3, PARTITIONS, 60_000);
    const placement = await topicPartitions(env, names.topic);
    const rf = Math.min(...placement.map((p) => p.replicas.length));
    log(
      `    [${o.kind}] 2 ingest + 3 samplers up, group stable; topic ${names.topic}: ${placement.length} partitions, ` +
        `RF ${rf}, leaders ${placement.map((p) => p.leader).join(',')} ` +
        `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );

    const plan = planTraces({
      service: names.service,
      rootName: `GET /${o.kind}`,
      count: o.traces,
      durationMs: o.loadMs,
      children: 3,
      errorEvery: 20,
      errorChild: 'last',
      spreadMs: 2000,
    });
    const loadStart = Date.now();
    const loads = ingest.map((t, i) =>
      runLoad(plan.filter((p) => p.index % 2 === i).slice(), {
        url: t.url,
        tickMs: 100,
        maxInFlight: 4,
        drainMs: 60_000,
        maxAttempts: 20,
      }),
    );

    await sleep(Math.max(0, o.faultAtMs - (Date.now() - loadStart)));
    const at = () => `${((Date.now() - loadStart) / 1000).toFixed(1)} s`;
    let victims = samplers;
    if (o.kind === 'broker-kill') {
      const now = await topicPartitions(env, names.topic);
      const counts = new Map<number, number>();
      for (const p of now) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
      const [node, led] = [...counts].sort((a, b) => b[1] - a[1])[0];
      const pid = readPid(`kafka-${node}`);
      if (pid === undefined) throw new Error(`no live pid for broker ${node}`);
      await killPid(pid);
      fault = `kill -9 broker ${node} (leader of ${led}/${PARTITIONS} partitions) at ${at()}`;
      log(`    [${o.kind}] ${fault}`);
      restore = async () => {
        const r = await runScript('up.sh', ['kafka-start', String(node)], 60_000);
        if (r.code !== 0) throw new Error(`restart of broker ${node} failed:\n${r.output}`);
        if (!(await waitUntil(() => clusterBrokersUp(env, 3), 120_000, 500)))
          throw new Error(`broker ${node} not back`);
      };
      await sleep(o.downMs);
      await restore();
      restore = undefined;
      fault += `, restarted at ${at()} (back in the cluster)`;
      log(`    [${o.kind}] broker ${node} back at ${at()}`);
    } else if (o.kind === 'rolling-restart') {
      // A Deployment rollout with maxUnavailable 1: each sampler in turn gets SIGTERM (it drains, commits and
      // leaves the group), its replacement starts on the same host, and the next waits for the group to be stable.
      const from = at();
      for (let i = 0; i < samplers.length; i++) {
        const old = samplers[i];
        await old.proc.stop('SIGTERM', 30_000);
        const fresh = await startOnHost(env, old.host, 'sample', vars);
        procs.push({ ...fresh, name: `${fresh.name}-new` });
        samplers[i] = fresh;
        await waitGroupStable(env, names.group, names.topic, 3, PARTITIONS, 60_000);
        log(`    [${o.kind}] sampler on ${old.host} replaced, group stable at ${at()}`);
      }
      fault = `SIGTERM each sampler in turn, replaced on its host, group stable before the next: ${from} to ${at()}`;
    } else if (o.kind === 'scale') {
      // Scale out to 5 (s4, s5 join), then in to 2 (s1, s2, s3 get SIGTERM together, as a scale-down does).
      const from = at();
      const added = await Promise.all(['s4', 's5'].map((h) => startOnHost(env, h, 'sample', vars)));
      procs.push(...added);
      await waitGroupStable(env, names.group, names.topic, 5, PARTITIONS, 60_000);
      const five = at();
      log(`    [${o.kind}] 5 samplers, group stable at ${five}`);
      await Promise.all(samplers.map((s) => s.proc.stop('SIGTERM', 30_000)));
      victims = added;
      await waitGroupStable(env, names.group, names.topic, 2, PARTITIONS, 60_000);
      fault = `samplers 3 -> 5 (from ${from}, stable at ${five}) -> 2 (SIGTERM s1-s3, stable at ${at()})`;
      log(`    [${o.kind}] ${fault}`);
    } else if (o.kind === 'sampler-kill') {
      const victim = samplers[0];
      await victim.proc.stop('SIGKILL');
      victims = samplers.slice(1);
      fault = `kill -9 sampler on ${victim.host} at ${at()}`;
      log(`    [${o.kind}] ${fault}`);
    } else {
      const nodes = await redisNodes(env);
      const master = nodes.find((n) => n.master && !n.failed && n.slots.length > 0);
      if (master === undefined) throw new Error('no Redis master found');
      const port = master.addr.split(':')[1];
      const pid = readPid(`redis-${port}`);
      if (pid === undefined) throw new Error(`no live pid for redis ${master.addr}`);
      const t0 = Date.now();
      await killPid(pid);
      fault = `kill -9 Redis master ${master.addr} at ${at()}`;
      log(`    [${o.kind}] ${fault}`);
      const promoted = await waitUntil(
        async () => {
          const now = await redisNodes(env, new Set([master.addr]));
          const p = now.find(
            (n) => n.master && !n.failed && n.slots.join() === master.slots.join() && n.id !== master.id,
          );
          return p?.addr;
        },
        60_000,
        200,
      );
      if (promoted === undefined) throw new Error(`no replica of ${master.addr} was promoted`);
      fault += `, replica ${promoted} promoted after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      const r = await runScript('up.sh', ['redis-start', port], 30_000);
      if (r.code !== 0) failures.push(`restart of redis ${port} failed: ${r.output}`);
      else fault += `, old master rejoined as replica`;
      log(`    [${o.kind}] ${fault}`);
    }

    const results: LoadResult[] = await Promise.all(loads);
    const acked = new Set<string>();
    let unacked = 0;
    for (const r of results) {
      r.acked.forEach((s) => acked.add(s));
      unacked += r.failed.size + r.unsent.size;
    }
    log(`    [${o.kind}] load done at ${at()}: ${results.map((r) => statusSummary(r.statuses)).join(' | ')}`);
    const ackedPlan = plan.filter((t) => traceAcked(t, acked));

    const decisions = new Map<string, DecisionAnswer>();
    await waitUntil(
      async () => {
        const open = ackedPlan.filter((t) => !decisions.has(t.traceId));
        const answers = await mapLimit(open, 16, (t, i) => fetchDecision(victims[i % victims.length].admin, t.traceId));
        answers.forEach((a, i) => {
          if (a) decisions.set(open[i].traceId, a);
        });
        return decisions.size === ackedPlan.length ? true : undefined;
      },
      90_000,
      1000,
    );
    const lost = ackedPlan.filter((t) => !decisions.has(t.traceId));
    const kept = ackedPlan.filter((t) => decisions.get(t.traceId)?.decision === 'sampled');
    const dropped = ackedPlan.filter(
      (t) => decisions.has(t.traceId) && decisions.get(t.traceId)?.decision !== 'sampled',
    );
    const errors = ackedPlan.filter((t) => t.error);
    const report = await checkTraces(new Map(kept.map((t) => [t.traceId, t.spans.map((s) => s.spanId)])), 90_000);
    const incomplete = new Set(report.incomplete.map((c) => c.traceId));
    const errorsLost = errors.filter(
      (t) => decisions.get(t.traceId)?.decision !== 'sampled' || incomplete.has(t.traceId),
    );
    const dup = duplicateDeliveries(
      proxy,
      kept.flatMap((t) => t.spans.map((s) => s.spanId)),
    );
    const sample = dropped.filter((_t, i) => i % 10 === 0);
    const leaked = (
      await mapLimit(sample, 8, async (t) => ((await getTrace(t.traceId)) ? t.traceId : undefined))
    ).filter((x): x is string => x !== undefined);

    if (unacked > 0) log(`    [${o.kind}] note: ${unacked} spans were not acknowledged (not counted as lost)`);
    if (lost.length > 0) failures.push(`${lost.length} acknowledged traces without a decision: ${ids(lost)}`);
    if (errorsLost.length > 0)
      failures.push(`${errorsLost.length} acknowledged error traces lost/incomplete: ${ids(errorsLost)}`);
    for (const t of [...errorsLost, ...kept.filter((k) => incomplete.has(k.traceId))].slice(0, 8)) {
      const c = report.checks.find((x) => x.traceId === t.traceId);
      const d = decisions.get(t.traceId);
      const missing = (c?.missing ?? []).map(
        (m) => `${m}${m === t.rootSpanId ? '(root)' : ''}` + ` proxy-delivered ${proxy.deliveries.get(m) ?? 0}x`,
      );
      log(
        `    [${o.kind}] ${t.traceId} (error ${t.error}, sent ${t.startMs}-${t.endMs} ms): ${d?.decision} by ` +
          `${d?.policy} (${JSON.stringify(d?.inputs)}, by ${String(d?.decidedBy)} ` +
          `at +${d ? Number(d.decidedAt) - loadStart : '?'}` +
          ` ms); in Jaeger ${c ? `${c.found}/${c.expected} missing ${missing.join(' ')}` : 'not checked'}`,
      );
    }
    if (report.incomplete.length > 0) failures.push(`${report.incomplete.length} kept traces incomplete in Jaeger`);
    if (leaked.length > 0)
      failures.push(`${leaked.length} dropped traces found in Jaeger: ${leaked.slice(0, 5).join(',')}`);
    if (rf !== 3) failures.push(`topic replication factor ${rf}, expected 3`);
    return {
      kind: o.kind,
      service: names.service,
      planned: plan.length,
      ackedTraces: ackedPlan.length,
      ackedSpans: acked.size,
      unackedSpans: unacked,
      decided: decisions.size,
      kept: kept.length,
      keptErrors: errors.filter((t) => decisions.get(t.traceId)?.decision === 'sampled').length,
      ackedErrors: errors.length,
      completeInJaeger: report.complete,
      duplicateSpans: dup.spans,
      duplicateCopies: dup.extra,
      lost: lost.length,
      errorTracesLost: errorsLost.length,
      incompleteKept: report.incomplete.length,
      leakedDropped: leaked.length,
      fault,
      replicationFactor: rf,
      elapsedMs: Date.now() - started,
      failures,
    };
  } finally {
    if (restore) await restore().catch((err: unknown) => log(`    [${o.kind}] restore failed: ${String(err)}`));
    await Promise.all(procs.map((p) => p.proc.stop('SIGTERM', 20_000).catch(() => undefined)));
    const logDir = path.join(CLUSTER_STATE, 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    for (const p of procs)
      fs.writeFileSync(path.join(logDir, `${o.kind}-${p.name.replace('@', '-')}.log`), p.proc.output());
    await proxy.close();
    // TUSK_DRILL_KEEP_TOPIC=1 keeps the topic and group for inspection (e.g. where a missing span landed).
    if (process.env.TUSK_DRILL_KEEP_TOPIC === '1') log(`    [${o.kind}] kept topic and group ${names.topic}`);
    else
      await withAdmin(env, async (admin) => {
        await admin.deleteTopics({ topics: [names.topic], timeout: 10_000 }).catch(() => undefined);
        await admin.deleteGroups([names.group]).catch(() => undefined);
      }).catch(() => undefined);
  }
}

function ids(ts: readonly PlannedTrace[]): string {
  return ts
    .slice(0, 5)
    .map((t) => t.traceId)
    .join(',');
}

/** REPORT_HEADER and reportRow format the drill table (Markdown) of docs/deployment.md. */
export const REPORT_HEADER = [
  '| Drill | Fault | Acked traces (spans) | Decided | Kept (errors) | Complete in Jaeger | Duplicates | Lost ' +
    '| Result |',
  '|---|---|---|---|---|---|---|---|---|',
];

/** reportRow is one line of the drill table. */
export function reportRow(r: DrillReport): string {
  return (
    `| ${r.kind} | ${r.fault} | ${r.ackedTraces}/${r.planned} (${r.ackedSpans}) | ${r.decided} | ` +
    `${r.kept} (${r.keptErrors}/${r.ackedErrors}) | ${r.completeInJaeger}/${r.kept} | ` +
    `${r.duplicateSpans} spans (${r.duplicateCopies} extra copies) | ${r.lost + r.errorTracesLost} | ` +
    `${r.failures.length === 0 ? 'pass' : 'FAIL'} |`
  );
}
