// The rehearsal cluster's drills (issue 19): two ingest and three sampler processes of the real binary, each in its
// own network namespace, a bounded stream of SDK-made traces (5 % with an ERROR span, each trace's spans spread over
// 2 s in separate OTLP requests) sent to both ingest processes, and one fault injected mid-stream: kill -9 of the
// broker leading most of the topic's partitions (restarted later), kill -9 of a sampler, kill -9 of a Redis Cluster
// master (its replica is promoted; the old master rejoins as a replica), a rolling restart of every sampler (SIGTERM
// one at a time), scaling the samplers 3 -> 5 -> 2, or a network fault made by scripts/cluster/fault.sh: one sampler
// cut off from Redis or from every broker, or every sampler's link to Redis slowed (+200 ms round trip, 1 % loss).
// Each drill also reports the decisions forced by max_decision_wait and each sampler's longest stretch without
// consuming while the load ran (its /metrics, polled every second). Each drill reports acknowledged / decided / kept
// / complete in Jaeger / duplicate deliveries (counted by a proxy in front of Jaeger), and fails on any acknowledged
// trace without a decision, any acknowledged error trace not kept or incomplete in Jaeger, any kept trace
// incomplete, or a dropped trace found in Jaeger. The logs-follow drill injects no fault: the traces go with their
// log records (made by the OTel logs SDK inside each span's context, sent with their spans, plus one a second after
// the root) to a logs_topic co-partitioned with the trace topic, the samplers export the kept traces' logs to an
// OTLP/HTTP sink the drill runs, and it fails unless every log record of a kept trace reaches the sink (none of a
// dropped one) within a few seconds of its trace's decision, under a decision_wait of 20 s.

import fs from 'node:fs';
import path from 'node:path';
import {
  fetchDecision,
  fetchMetrics,
  fetchReadyz,
  mapLimit,
  sumMetric,
  waitUntil,
  type DecisionAnswer,
  type MetricSample,
} from '../helpers/admin';
import { checkTraces } from '../helpers/jaeger-check';
import { getTrace } from '../helpers/jaeger';
import { duplicateDeliveries, startJaegerProxy } from '../helpers/jaeger-proxy';
import { encodeLogRecords, planLogs, startLogsSink, type LogsSink, type PlannedLog } from '../helpers/otlp-logs';
import {
  planTraces,
  runLoad,
  runPlannedLoad,
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
export type DrillKind =
  | 'broker-kill'
  | 'sampler-kill'
  | 'redis-master-kill'
  | 'rolling-restart'
  | 'scale'
  | 'redis-partition'
  | 'kafka-partition'
  | 'redis-slow'
  | 'logs-follow';

/** The drills that need per-host network faults (namespace mode). */
export const NETWORK_DRILLS: readonly DrillKind[] = ['redis-partition', 'kafka-partition', 'redis-slow'];

/** How big a drill is. */
export interface DrillOptions {
  kind: DrillKind;
  /** Traces sent (bounded). */
  traces: number;
  /** Traces start evenly over this many ms. */
  loadMs: number;
  /** When the fault is injected (ms after the load starts). */
  faultAtMs: number;
  /** broker-kill: how long the broker stays down; network drills: how long the fault lasts (ms). */
  downMs: number;
  /**
   * broker-kill: kill the broker leading most partitions among those that are not the group's coordinator (then no
   * coordinator error makes a consumer refresh its metadata: kafkajs' crash case, docs/deployment.md).
   */
  spareCoordinator?: boolean;
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
  /** Decisions forced by max_decision_wait (samplers alive at the end). */
  maxWaitDecisions: number;
  /** The longest time one sampler consumed nothing while the load ran (ms), and which. */
  longestStallMs: number;
  longestStallHost: string;
  /** Drill-specific figures (readiness seen, Redis round trips per span, decision lag, ...). */
  observed: string[];
  replicationFactor: number;
  elapsedMs: number;
  failures: string[];
}

const PARTITIONS = 6;
/** Spans per planned trace (a root and its children). */
const SPANS_PER_TRACE = 4;
/** redis-slow: added round trip (split over both directions) and loss per direction. */
const SLOW_DELAY_MS = 200;
const SLOW_LOSS_PCT = 1;
/** logs-follow: decision_wait (unless the drill's vars set one), so that waiting for it would show. */
const LOGS_DECISION_WAIT = '20s';
/** logs-follow: a log record of a kept trace must reach the sink within this long after its trace's decision. */
const LOGS_AFTER_DECISION_MS = 5000;

/** runDrill runs one drill against the rehearsal cluster described by env; never leaves processes behind. */
export async function runDrill(env: ClusterEnv, o: DrillOptions): Promise<DrillReport> {
  const log = o.log ?? ((s: string) => console.log(s));
  const started = Date.now();
  const id = `${o.kind}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const names = { topic: `drill-${id}`, group: `drill-${id}`, prefix: `drill:${id}:`, service: `drill-${id}` };
  const proxy = await startJaegerProxy('http://127.0.0.1:14268/api/traces', env.hostIp);
  const sink: LogsSink | undefined = o.kind === 'logs-follow' ? await startLogsSink(env.hostIp) : undefined;
  const logsTopic = `${names.topic}-logs`;
  const vars = {
    TUSK_SPANS_TOPIC: names.topic,
    TUSK_SAMPLER_GROUP: names.group,
    TUSK_REDIS_PREFIX: names.prefix,
    JAEGER_ENDPOINT: proxy.endpoint,
    KEEP_PERCENT: '10',
    ...(sink
      ? { TUSK_LOGS_TOPIC: logsTopic, LOGS_SINK_ENDPOINT: sink.endpoint, DECISION_WAIT: LOGS_DECISION_WAIT }
      : {}),
    ...o.vars,
  };
  const samplerPipeline = sink ? 'sample_logs' : 'sample';
  const procs: HostProcess[] = [];
  const failures: string[] = [];
  let fault: string;
  let restore: (() => Promise<void>) | undefined;
  let watch: ConsumptionWatch | undefined;
  try {
    // TUSK_DRILL_LOGS_PARTITIONS=N (logs-follow) creates the logs topic with N partitions first: not co-partitioned
    // with the trace topic when N is not 6, which shows what the drill catches.
    const logsPartitions = Number(process.env.TUSK_DRILL_LOGS_PARTITIONS ?? '0');
    if (sink && logsPartitions > 0)
      await withAdmin(env, (admin) =>
        admin.createTopics({
          topics: [{ topic: logsTopic, numPartitions: logsPartitions, replicationFactor: 3 }],
          waitForLeaders: true,
        }),
      );
    const ingest = await Promise.all(['i1', 'i2'].map((h) => startOnHost(env, h, 'ingest', vars)));
    procs.push(...ingest);
    const samplers = await Promise.all(['s1', 's2', 's3'].map((h) => startOnHost(env, h, samplerPipeline, vars)));
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
      children: SPANS_PER_TRACE - 1,
      errorEvery: sink ? 10 : 20,
      errorChild: 'last',
      spreadMs: 2000,
    });
    let live = (): readonly HostProcess[] => samplers;
    watch = new ConsumptionWatch(() => live());
    const atLoadStart = await scrape([...samplers, ...ingest]);
    const loadStart = Date.now();
    watch.start();
    const loads = ingest.map((t, i) =>
      runLoad(plan.filter((p) => p.index % 2 === i).slice(), {
        url: t.url,
        tickMs: 100,
        maxInFlight: 4,
        drainMs: 60_000,
        maxAttempts: 20,
      }),
    );
    // logs-follow: each trace's log records go to the ingest process of its spans, at their spans' times.
    const logPlan = sink ? planLogs(plan, { service: names.service, lateMs: 1000 }) : [];
    const ingestOf = new Map(plan.map((p) => [p.traceId, p.index % 2]));
    const logLoads = ingest.map((t, i) =>
      runPlannedLoad(
        logPlan.filter((l) => ingestOf.get(l.traceId) === i),
        (l) => l.id,
        (batch) => encodeLogRecords(batch.map((l) => l.record)),
        { url: t.logsUrl, tickMs: 100, maxInFlight: 4, drainMs: 60_000, maxAttempts: 20 },
      ),
    );

    await sleep(Math.max(0, o.faultAtMs - (Date.now() - loadStart)));
    const at = () => `${((Date.now() - loadStart) / 1000).toFixed(1)} s`;
    let victims = samplers;
    const observed: string[] = [];
    const heal = async () => {
      const r = await runScript('fault.sh', ['heal'], 30_000);
      if (r.code !== 0) throw new Error(`fault.sh heal failed:\n${r.output}`);
    };
    const inject = async (args: string[]) => {
      restore = heal;
      const r = await runScript('fault.sh', args, 30_000);
      if (r.code !== 0) throw new Error(`fault.sh ${args.join(' ')} failed:\n${r.output}`);
    };
    if (NETWORK_DRILLS.includes(o.kind) && env.mode !== 'netns')
      throw new Error(`drill ${o.kind} needs network namespaces (the cluster runs in ${env.mode} mode)`);
    if (o.kind === 'redis-partition') {
      // One sampler cut off from every Redis node: it must go on deciding from local state, say so on /readyz
      // (the tail sampler's component: not ready, degraded, Redis unreachable) and resync once healed.
      const victim = samplers[0];
      const before = await scrape([victim]);
      await inject(['partition', victim.host, 'r']);
      const t0 = Date.now();
      fault = `${victim.host} cut off from Redis at ${at()} for ${o.downMs / 1000} s`;
      log(`    [${o.kind}] ${fault}`);
      let seen: { status: number; detail: string; afterMs: number } | undefined;
      while (Date.now() - t0 < o.downMs) {
        const r = await fetchReadyz(victim.admin, 2000);
        const c = r.components.find((x) => x.degraded && /redis/.test(x.detail ?? ''));
        if (c && !seen) seen = { status: r.status, detail: shortDetail(c.detail), afterMs: Date.now() - t0 };
        await sleep(Math.max(0, Math.min(500, o.downMs - (Date.now() - t0))));
      }
      const during = await scrape([victim]);
      await heal();
      restore = undefined;
      const healedAt = Date.now();
      fault += `, healed at ${at()}`;
      const resynced = await waitUntil(async () => (await fetchReadyz(victim.admin, 2000)).ready, 60_000, 250);
      const decided = delta(before, during, 'tusk_sampler_decisions_total');
      if (seen) observed.push(`/readyz ${seen.status} after ${(seen.afterMs / 1000).toFixed(1)} s: "${seen.detail}"`);
      else failures.push(`${victim.host}: /readyz never reported Redis unreachable during the partition`);
      observed.push(`${decided} decisions from local state during the partition`);
      if (decided === 0) failures.push(`${victim.host} decided nothing while cut off from Redis`);
      if (resynced) observed.push(`ready again ${((Date.now() - healedAt) / 1000).toFixed(1)} s after healing`);
      else failures.push(`${victim.host} not ready 60 s after the partition healed`);
      log(`    [${o.kind}] ${fault}; ${observed.join('; ')}`);
    } else if (o.kind === 'kafka-partition') {
      // One sampler cut off from every broker: its partitions move to the others (the group evicts it after
      // session_timeout); when it returns it rejoins. What it decides meanwhile for traces it no longer owns
      // shows as duplicate deliveries (the ledger's first decision wins, so never as a different decision).
      const victim = samplers[0];
      const before = await scrape([victim]);
      await inject(['partition', victim.host, 'k1', 'k2', 'k3']);
      const t0 = Date.now();
      fault = `${victim.host} cut off from the 3 brokers at ${at()} for ${o.downMs / 1000} s`;
      log(`    [${o.kind}] ${fault}`);
      const movedAfter = waitGroupStable(env, names.group, names.topic, 2, PARTITIONS, o.downMs).then(
        () => Date.now() - t0,
        () => undefined,
      );
      let seen: { status: number; detail: string; afterMs: number } | undefined;
      while (Date.now() - t0 < o.downMs) {
        const r = await fetchReadyz(victim.admin, 2000);
        const c = r.components.find((x) => !x.ready && /group/.test(x.detail ?? ''));
        if (c && !seen) seen = { status: r.status, detail: shortDetail(c.detail), afterMs: Date.now() - t0 };
        await sleep(Math.max(0, Math.min(500, o.downMs - (Date.now() - t0))));
      }
      const moved = await movedAfter;
      const during = await scrape([victim]);
      await heal();
      restore = undefined;
      const healedAt = Date.now();
      fault += `, healed at ${at()}`;
      const rejoined = await waitGroupStable(env, names.group, names.topic, 3, PARTITIONS, 90_000).then(
        () => Date.now() - healedAt,
        () => undefined,
      );
      if (moved !== undefined)
        observed.push(`its partitions moved to the other 2 after ${(moved / 1000).toFixed(1)} s`);
      else failures.push(`the group did not settle on the other 2 samplers within ${o.downMs / 1000} s`);
      if (seen)
        observed.push(`its /readyz ${seen.status} after ${(seen.afterMs / 1000).toFixed(1)} s: "${seen.detail}"`);
      else failures.push(`${victim.host}: /readyz never reported the lost group membership during the partition`);
      observed.push(
        `it decided ${delta(before, during, 'tusk_sampler_decisions_total')} traces while cut off ` +
          `(${delta(before, during, 'tusk_sampler_decision_triggers_total', { trigger: 'max_decision_wait' })} ` +
          `by max_decision_wait)`,
      );
      if (rejoined !== undefined) observed.push(`group of 3 again ${(rejoined / 1000).toFixed(1)} s after healing`);
      else failures.push(`${victim.host} did not rejoin the group within 90 s of healing`);
      log(`    [${o.kind}] ${fault}; ${observed.join('; ')}`);
    } else if (o.kind === 'redis-slow') {
      // Every sampler's link to Redis gets +200 ms round trip and 1 % loss per direction for downMs.
      const before = await scrape([...samplers, ...ingest]);
      for (const sp of samplers) await inject(['slow', sp.host, 'r', String(SLOW_DELAY_MS), String(SLOW_LOSS_PCT)]);
      const t0 = Date.now();
      fault =
        `samplers <-> Redis +${SLOW_DELAY_MS} ms round trip, ${SLOW_LOSS_PCT} % loss per direction ` +
        `from ${at()} for ${o.downMs / 1000} s`;
      log(`    [${o.kind}] ${fault}`);
      await sleep(Math.max(0, o.downMs - (Date.now() - t0)));
      const during = await scrape([...samplers, ...ingest]);
      await heal();
      restore = undefined;
      fault += `, healed at ${at()}`;
      const base = windowFigures(atLoadStart, before);
      const slow = windowFigures(before, during);
      observed.push(`before: ${base.text}`, `during: ${slow.text}`);
      const bound = 3 * decisionWaitSeconds(o.vars);
      if (slow.lagP99 > bound) failures.push(`decision lag p99 ${slow.lagP99} s during the fault (bound ${bound} s)`);
      if (slow.opsPerSpan > Math.max(2 * base.opsPerSpan, base.opsPerSpan + 0.5))
        failures.push(
          `Redis round trips per span ${slow.opsPerSpan.toFixed(2)} (before: ${base.opsPerSpan.toFixed(2)})`,
        );
      log(`    [${o.kind}] ${fault}; ${observed.join('; ')}`);
    } else if (o.kind === 'broker-kill') {
      const now = await topicPartitions(env, names.topic);
      const counts = new Map<number, number>();
      for (const p of now) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
      const coordinator = o.spareCoordinator ? await groupCoordinator(env, names.group) : undefined;
      const candidates = [...counts].filter(([n]) => n !== coordinator);
      if (candidates.length === 0) throw new Error(`every partition is led by the coordinator ${coordinator}`);
      const [node, led] = candidates.sort((a, b) => b[1] - a[1])[0];
      const pid = readPid(`kafka-${node}`);
      if (pid === undefined) throw new Error(`no live pid for broker ${node}`);
      await killPid(pid);
      fault = `kill -9 broker ${node} (leader of ${led}/${PARTITIONS} partitions) at ${at()}`;
      if (coordinator !== undefined) fault = fault.replace(')', `, not the group coordinator ${coordinator})`);
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
      live = () => [...samplers, ...added];
      await Promise.all(samplers.map((s) => s.proc.stop('SIGTERM', 30_000)));
      victims = added;
      live = () => added;
      await waitGroupStable(env, names.group, names.topic, 2, PARTITIONS, 60_000);
      fault = `samplers 3 -> 5 (from ${from}, stable at ${five}) -> 2 (SIGTERM s1-s3, stable at ${at()})`;
      log(`    [${o.kind}] ${fault}`);
    } else if (o.kind === 'logs-follow') {
      fault = `none: logs with their traces on ${logsTopic}, decision_wait ${decisionWaitSeconds(vars)} s`;
    } else if (o.kind === 'sampler-kill') {
      const victim = samplers[0];
      await victim.proc.stop('SIGKILL');
      victims = samplers.slice(1);
      live = () => victims;
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
    const logResults: LoadResult[] = await Promise.all(logLoads);
    watch.stop();
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
    if (sink) {
      const f = await checkLogs(sink, logPlan, logResults, decisions, decisionWaitSeconds(vars) * 1000);
      observed.push(...f.observed);
      failures.push(...f.failures);
      log(`    [${o.kind}] ${f.observed.join('; ')}`);
    }
    const atEnd = await scrape(victims);
    const maxWait = atEnd.reduce(
      (n, m) => n + sumMetric(m, 'tusk_sampler_decision_triggers_total', { trigger: 'max_decision_wait' }),
      0,
    );
    const [stallHost, stallMs] = [...watch.longest].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
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
      maxWaitDecisions: maxWait,
      longestStallMs: stallMs,
      longestStallHost: stallHost,
      observed,
      replicationFactor: rf,
      elapsedMs: Date.now() - started,
      failures,
    };
  } finally {
    watch?.stop();
    if (restore) await restore().catch((err: unknown) => log(`    [${o.kind}] restore failed: ${String(err)}`));
    await Promise.all(procs.map((p) => p.proc.stop('SIGTERM', 20_000).catch(() => undefined)));
    const logDir = path.join(CLUSTER_STATE, 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    for (const p of procs)
      fs.writeFileSync(path.join(logDir, `${o.kind}-${p.name.replace('@', '-')}.log`), p.proc.output());
    await proxy.close();
    await sink?.close();
    // TUSK_DRILL_KEEP_TOPIC=1 keeps the topic and group for inspection (e.g. where a missing span landed).
    if (process.env.TUSK_DRILL_KEEP_TOPIC === '1') log(`    [${o.kind}] kept topic and group ${names.topic}`);
    else
      await withAdmin(env, async (admin) => {
        const topics = sink ? [names.topic, logsTopic] : [names.topic];
        await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
        await admin.deleteGroups([names.group]).catch(() => undefined);
      }).catch(() => undefined);
  }
}

/**
 * groupCoordinator: the broker leading the group's __consumer_offsets partition (Kafka's rule: Java
 * String#hashCode of the group id, Utils.abs of it, modulo the topic's partition count).
 */
async function groupCoordinator(env: ClusterEnv, group: string): Promise<number> {
  let hash = 0;
  for (let i = 0; i < group.length; i++) hash = (Math.imul(hash, 31) + group.charCodeAt(i)) | 0;
  const parts = await topicPartitions(env, '__consumer_offsets');
  return parts[(hash === -0x80000000 ? 0 : Math.abs(hash)) % parts.length].leader;
}

/** scrape reads every process's /metrics (an empty list for one that does not answer). */
function scrape(procs: readonly HostProcess[]): Promise<MetricSample[][]> {
  return Promise.all(procs.map(async (p) => (await fetchMetrics(p.admin, 5000)) ?? []));
}

/** delta is how much `name` (summed over the processes) grew between two scrapes. */
function delta(
  a: readonly MetricSample[][],
  b: readonly MetricSample[][],
  name: string,
  match: Record<string, string> = {},
): number {
  const sum = (ms: readonly MetricSample[][]) => ms.reduce((n, m) => n + sumMetric(m, name, match), 0);
  return sum(b) - sum(a);
}

/** What the samplers did between two scrapes of samplers and ingest processes. */
interface WindowFigures {
  opsPerSpan: number;
  lagMean: number;
  /** Upper bound of the histogram bucket holding the 99th percentile (s). */
  lagP99: number;
  text: string;
}

/** windowFigures: Redis round trips per span accepted by the ingest tier, and the decision lag, in a window. */
function windowFigures(a: readonly MetricSample[][], b: readonly MetricSample[][]): WindowFigures {
  const spans = delta(a, b, 'tusk_receiver_spans_total', { outcome: 'accepted' });
  const trips = delta(a, b, 'tusk_state_redis_round_trips_total');
  const errors = delta(a, b, 'tusk_state_redis_errors_total');
  const count = delta(a, b, 'tusk_sampler_decision_lag_seconds_count');
  const lagMean = count > 0 ? delta(a, b, 'tusk_sampler_decision_lag_seconds_sum') / count : 0;
  const bucket = 'tusk_sampler_decision_lag_seconds_bucket';
  const les = [...new Set(b.flat().flatMap((m) => (m.name === bucket ? [m.labels.le] : [])))];
  const p99 = les
    .map((le) => ({ le, bound: le === '+Inf' ? Infinity : Number(le) }))
    .sort((x, y) => x.bound - y.bound)
    .find(({ le }) => delta(a, b, bucket, { le }) >= 0.99 * count);
  const lagP99 = p99?.bound ?? Infinity;
  const opsPerSpan = spans > 0 ? trips / spans : 0;
  const text =
    `${trips} Redis round trips for ${spans} spans (${opsPerSpan.toFixed(2)}/span, ${errors} errors), ` +
    `${count} decisions, lag mean ${lagMean.toFixed(1)} s, p99 <= ${lagP99} s`;
  return { opsPerSpan, lagMean, lagP99, text };
}

/** shortDetail is a /readyz detail fit for a table cell: node lists and timestamps left out. */
function shortDetail(detail: string | undefined): string {
  return (detail ?? '')
    .replace(/[\d.]+:\d+(,[\d.]+:\d+)+/g, '<nodes>')
    .replace(/; last sync [^;]*$/, '')
    .replace(/\|/g, '/');
}

/** decisionWaitSeconds reads DECISION_WAIT ("6s", "1500ms") from the drill's variables (default 6 s). */
function decisionWaitSeconds(vars: Record<string, string> | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(vars?.DECISION_WAIT ?? '6s');
  if (!m) return 6;
  return m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** What checkLogs found: figures for the report and failures. */
interface LogsFigures {
  observed: string[];
  failures: string[];
}

/**
 * checkLogs (logs-follow) waits, bounded, until every acknowledged log record of a kept trace has reached the sink,
 * then until decision_wait (plus 3 s) has passed since the last record was sent, so that a record held until
 * decision_wait would have shown; it compares what arrived with the traces' decisions and measures each kept record's
 * time from its first send to its arrival, and from its trace's decision to its arrival.
 */
async function checkLogs(
  sink: LogsSink,
  plan: readonly PlannedLog[],
  results: readonly LoadResult[],
  decisions: ReadonlyMap<string, DecisionAnswer>,
  decisionWaitMs: number,
): Promise<LogsFigures> {
  const sentAt = new Map<string, number>();
  for (const r of results) for (const id of r.acked) sentAt.set(id, r.sentAt.get(id)!);
  const traceOf = new Map(plan.map((l) => [l.id, l.traceId]));
  const decided = plan.filter((l) => sentAt.has(l.id) && decisions.has(l.traceId));
  const kept = decided.filter((l) => decisions.get(l.traceId)?.decision === 'sampled');
  const dropped = decided.filter((l) => decisions.get(l.traceId)?.decision !== 'sampled');
  const arrived = () => new Set(sink.logs.map((l) => l.id));
  await waitUntil(async () => kept.every((l) => arrived().has(l.id)), 30_000, 200);
  const lastSent = Math.max(0, ...sentAt.values());
  await sleep(Math.max(0, lastSent + decisionWaitMs + 3000 - Date.now()));

  const first = new Map<string, number>();
  for (const l of sink.logs) if (!first.has(l.id)) first.set(l.id, l.atMs);
  const missing = kept.filter((l) => !first.has(l.id));
  const leaked = dropped.filter((l) => first.has(l.id));
  const wrongTrace = sink.logs.filter((l) => traceOf.get(l.id) !== l.traceId).length;
  const sendToSink = kept.flatMap((l) => (first.has(l.id) ? [first.get(l.id)! - sentAt.get(l.id)!] : []));
  const afterDecision = kept.flatMap((l) =>
    first.has(l.id) ? [first.get(l.id)! - Number(decisions.get(l.traceId)?.decidedAt)] : [],
  );
  const p50 = quantile(sendToSink, 0.5);
  const max = Math.max(0, ...sendToSink);
  const maxAfter = Math.max(0, ...afterDecision);
  const sec = (ms: number) => (ms / 1000).toFixed(1);
  const keptTraces = new Set(kept.map((l) => l.traceId)).size;
  const observed = [
    `${sentAt.size}/${plan.length} log records acknowledged (${kept.length} of ${keptTraces} kept traces, ` +
      `${dropped.length} of dropped ones)`,
    `at the sink: ${kept.length - missing.length}/${kept.length} of kept traces, ${leaked.length} of dropped ones, ` +
      `${sink.logs.length - first.size} duplicates`,
    `send -> sink p50 ${sec(p50)} s, max ${sec(max)} s; at most ${sec(maxAfter)} s after the trace's decision ` +
      `(decision_wait ${sec(decisionWaitMs)} s)`,
  ];
  const failures: string[] = [];
  if (missing.length > 0)
    failures.push(`${missing.length} log records of kept traces not at the sink: ${missing[0].id} ...`);
  if (leaked.length > 0) failures.push(`${leaked.length} log records of dropped traces at the sink: ${leaked[0].id}`);
  if (wrongTrace > 0) failures.push(`${wrongTrace} log records at the sink with another trace id than sent`);
  if (maxAfter > LOGS_AFTER_DECISION_MS)
    failures.push(`a kept log record arrived ${sec(maxAfter)} s after its trace's decision`);
  if (max >= decisionWaitMs / 2) failures.push(`a kept log record took ${sec(max)} s from send to sink`);
  return { observed, failures };
}

/** quantile of the values (nearest rank; 0 when empty). */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * ConsumptionWatch polls each live sampler's consumed-messages counter every second and keeps, per host, the
 * longest stretch without an increase (about 1 s at best: watermark records arrive twice a second per partition
 * while the ingest tier runs, so anything longer means the consumer read nothing).
 */
class ConsumptionWatch {
  /** Host -> longest stretch without consuming (ms). */
  readonly longest = new Map<string, number>();
  private readonly _last = new Map<string, { value: number; since: number }>();
  private _timer?: NodeJS.Timeout;
  private _polling = false;

  constructor(private readonly _live: () => readonly HostProcess[]) {}

  start(): void {
    this._timer = setInterval(() => void this._poll(), 1000);
  }

  stop(): void {
    clearInterval(this._timer);
  }

  private async _poll(): Promise<void> {
    if (this._polling) return;
    this._polling = true;
    try {
      await Promise.all(
        this._live().map(async (h) => {
          const m = await fetchMetrics(h.admin, 900);
          const now = Date.now();
          const value = m ? sumMetric(m, 'tusk_kafka_consumed_messages_total') : undefined;
          const prev = this._last.get(h.host);
          if (prev) this.longest.set(h.host, Math.max(this.longest.get(h.host) ?? 0, now - prev.since));
          if (value !== undefined && value !== prev?.value) this._last.set(h.host, { value, since: now });
        }),
      );
    } finally {
      this._polling = false;
    }
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

/** reportRow is one line of the drill table (the Fault cell also holds what the drill observed). */
export function reportRow(r: DrillReport): string {
  const figures = [
    ...r.observed,
    `${r.maxWaitDecisions} decided by max_decision_wait`,
    `longest consumer stall ${(r.longestStallMs / 1000).toFixed(1)} s (${r.longestStallHost})`,
  ];
  return (
    `| ${r.kind} | ${r.fault}; ${figures.join('; ')} | ` +
    `${r.ackedTraces}/${r.planned} (${r.ackedSpans}) | ${r.decided} | ` +
    `${r.kept} (${r.keptErrors}/${r.ackedErrors}) | ${r.completeInJaeger}/${r.kept} | ` +
    `${r.duplicateSpans} spans (${r.duplicateCopies} extra copies) | ${r.lost + r.errorTracesLost} | ` +
    `${r.failures.length === 0 ? 'pass' : 'FAIL'} |`
  );
}
