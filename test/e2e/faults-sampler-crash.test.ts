// Fault test (issue 5, crash test): three sampler processes (`--pipeline sample`, one consumer group, a
// 6-partition topic) and one ingest process, all the real binary. A bounded stream of traces (600 over
// 15 s, 5 % with an ERROR span, in the last child sent before the root) is sent with each trace's spans in
// separate OTLP requests spread over 2 s, so traces are mid-buffer when one sampler is killed with SIGKILL. The survivors take over after the
// rebalance and replay from the committed offsets. Asserted: every acknowledged trace has a decision in
// the ledger; every error trace is kept by the `errors` policy; every kept trace is in Jaeger with all its
// spans; dropped traces are not in Jaeger. Duplicate deliveries are counted by a proxy in front of Jaeger
// (its query API collapses repeated span ids) and printed.

import { expect } from 'chai';
import path from 'node:path';
import { planTraces, runLoad, statusSummary, type PlannedTrace } from '../helpers/otlp-load';
import { fetchDecision, fetchMetrics, mapLimit, sumMetric, waitUntil, type DecisionAnswer } from '../helpers/admin';
import { checkTraces, describeIncomplete } from '../helpers/jaeger-check';
import { getTrace } from '../helpers/jaeger';
import { deleteGroups, deleteTopics } from '../helpers/kafka-topic';
import { requireStack, stackPid } from '../helpers/stack';
import { duplicateDeliveries, startJaegerProxy, type JaegerProxy } from '../helpers/jaeger-proxy';
import { runNames, startTier, stopAll, waitGroupStable, type Tier } from '../helpers/tiers';
import { deletePrefix } from '../helpers/redis-keys';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'faults-cluster.tsk');
const PARTITIONS = 6;

describe('faults: SIGKILL of one of three samplers mid-stream', function () {
  this.timeout(240_000);
  const run = runNames('crash');
  let ingest: Tier | undefined;
  const samplers: Tier[] = [];
  let jaegerPid: number | undefined;
  let proxy: JaegerProxy | undefined;

  before(async () => {
    await requireStack(['kafka', 'redis', 'jaeger']);
    jaegerPid = stackPid('jaeger');
    // Jaeger's query API collapses repeated span ids, so deliveries are counted on the way in.
    proxy = await startJaegerProxy();
    ingest = await startTier('ingest', FIXTURE, 'ingest', run, { KEEP_PERCENT: '10' });
    for (let i = 0; i < 3; i++)
      samplers.push(
        await startTier(`sampler-${i}`, FIXTURE, 'sample', run, {
          KEEP_PERCENT: '10',
          JAEGER_ENDPOINT: proxy.endpoint,
        }),
      );
    await waitGroupStable(run.group, run.topic, 3, PARTITIONS, 60_000);
  });

  after(async () => {
    await stopAll([ingest, ...samplers]);
    await deleteTopics([run.topic]);
    await deleteGroups([run.group]);
    await deletePrefix(run.redisPrefix);
    await proxy?.close();
  });

  it('survivors take over: every error trace complete in Jaeger, nothing acknowledged lost', async () => {
    const plan: PlannedTrace[] = planTraces({
      service: run.service,
      rootName: 'GET /crash',
      count: 600,
      durationMs: 15_000,
      children: 3,
      errorEvery: 20,
      errorChild: 'last',
      spreadMs: 2000,
    });
    const victim = samplers[0];
    const survivors = samplers.slice(1);
    const before = await Promise.all(survivors.map((s) => fetchMetrics(s.admin)));
    const rebalancesBefore = before.map((m) => sumMetric(m ?? [], 'tusk_kafka_rebalances_total'));

    const loadStarted = Date.now();
    const load = runLoad(plan, { url: ingest!.url, tickMs: 100, maxInFlight: 8 });
    // Kill mid-stream: about half the traces are sent, many are mid-buffer (spans spread over 2 s).
    await new Promise((r) => setTimeout(r, 7500));
    const killedAt = Date.now();
    const killCode = await victim.proc.stop('SIGKILL');
    console.log(
      `      SIGKILL sampler-0 at ${((killedAt - loadStarted) / 1000).toFixed(1)} s into the load (exit: ${killCode})`,
    );

    const rebalanceSeen = await waitUntil(
      async () => {
        const ms = await Promise.all(survivors.map((s) => fetchMetrics(s.admin)));
        return ms.every((m, i) => m && sumMetric(m, 'tusk_kafka_rebalances_total') > rebalancesBefore[i])
          ? Date.now()
          : undefined;
      },
      60_000,
      200,
    );
    const stable = await waitGroupStable(run.group, run.topic, 2, PARTITIONS, 60_000);
    const stableAt = Date.now();
    console.log(
      `      rebalance seen by both survivors ${rebalanceSeen ? ((rebalanceSeen - killedAt) / 1000).toFixed(1) : '?'} s after the kill; group stable (2 members, partitions ${stable.assigned.join(',')}) after ${((stableAt - killedAt) / 1000).toFixed(1)} s`,
    );

    const result = await load;
    console.log(
      `      load: ${plan.length} traces, ${result.acked.size} spans acked in ${result.requests} requests (${statusSummary(result.statuses)}), ${(result.elapsedMs / 1000).toFixed(1)} s`,
    );
    expect(rebalanceSeen, 'both survivors saw a rebalance').to.not.equal(undefined);
    expect(result.failed.size + result.unsent.size, 'spans the ingest tier did not acknowledge').to.equal(0);

    // Every acknowledged trace reaches a decision (the ledger in Redis answers for the killed owner's traces too).
    const decisions = new Map<string, DecisionAnswer>();
    const decided = await waitUntil(
      async () => {
        const open = plan.filter((t) => !decisions.has(t.traceId));
        const answers = await mapLimit(open, 16, (t) => fetchDecision(survivors[decisions.size % 2].admin, t.traceId));
        answers.forEach((a, i) => {
          if (a) decisions.set(open[i].traceId, a);
        });
        return decisions.size === plan.length ? true : undefined;
      },
      90_000,
      1000,
    );
    const undecided = plan.filter((t) => !decisions.has(t.traceId));
    expect(
      decided,
      `traces without a decision (lost): ${undecided.length}, e.g. ${undecided
        .slice(0, 5)
        .map((t) => t.traceId)
        .join(', ')}`,
    ).to.equal(true);

    const triggers = new Map<string, number>();
    for (const d of decisions.values())
      triggers.set(String(d.inputs?.trigger), (triggers.get(String(d.inputs?.trigger)) ?? 0) + 1);
    const partial = plan.filter((t) => Number(decisions.get(t.traceId)!.inputs?.spans) < t.spans.length);
    console.log(
      `      decisions by trigger: ${[...triggers].map(([k, n]) => `${k}=${n}`).join(' ')}; decided on a partial trace: ${partial.length} ` +
        `(${partial.filter((t) => t.error).length} error traces)`,
    );
    const errors = plan.filter((t) => t.error);
    const wrongErrors = errors.filter(
      (t) => decisions.get(t.traceId)?.decision !== 'sampled' || decisions.get(t.traceId)?.policy !== 'errors',
    );
    expect(
      wrongErrors.map((t) => `${t.traceId}: ${JSON.stringify(decisions.get(t.traceId))}`),
      'error traces not kept by the errors policy',
    ).to.deep.equal([]);

    const kept = plan.filter((t) => decisions.get(t.traceId)!.decision === 'sampled');
    const dropped = plan.filter((t) => decisions.get(t.traceId)!.decision !== 'sampled');
    const report = await checkTraces(new Map(kept.map((t) => [t.traceId, t.spans.map((s) => s.spanId)])), 120_000);
    const errorIds = new Set(errors.map((t) => t.traceId));
    const incompleteErrors = report.incomplete.filter((c) => errorIds.has(c.traceId));
    console.log(
      `      kept ${kept.length} traces (${errors.length} errors, ${kept.length - errors.length} probabilistic); complete in Jaeger: ${report.complete}/${kept.length} after ${(report.waitedMs / 1000).toFixed(1)} s`,
    );
    const keptSpanIds = kept.flatMap((t) => t.spans.map((s) => s.spanId));
    const dup = duplicateDeliveries(proxy!, keptSpanIds);
    const neverDelivered = keptSpanIds.filter((id) => !proxy!.deliveries.has(id));
    console.log(
      `      DUPLICATES: ${dup.spans} of ${keptSpanIds.length} kept spans were delivered to Jaeger more than once (${dup.extra} extra copies); ` +
        `Jaeger's query API shows ${report.duplicateSpans} repeated span ids (it deduplicates identical spans)`,
    );

    const m = await Promise.all(survivors.map((s) => fetchMetrics(s.admin)));
    const sum = (name: string, match: Record<string, string> = {}) =>
      m.reduce((n, x) => n + sumMetric(x ?? [], name, match), 0);
    console.log(
      `      survivors: ledger-followed decisions ${sum('tusk_sampler_decision_triggers_total', { trigger: 'ledger' })}, late spans ${sum('tusk_sampler_late_spans_total')}, ledger conflicts ${sum('tusk_sampler_ledger_conflicts_total')}`,
    );

    expect(
      stackPid('jaeger'),
      'Jaeger was restarted by someone else during the test (its memory store was lost)',
    ).to.equal(jaegerPid);
    expect(
      incompleteErrors.length,
      `error traces incomplete in Jaeger: ${describeIncomplete({ ...report, incomplete: incompleteErrors })}`,
    ).to.equal(0);
    expect(report.incomplete.length, `kept traces incomplete in Jaeger: ${describeIncomplete(report)}`).to.equal(0);
    expect(neverDelivered, 'kept spans Jaeger never accepted (per the proxy)').to.deep.equal([]);

    // Dropped traces must stay out of Jaeger (a replay must follow the first decision, not keep it anyway).
    const sample = dropped.filter((_t, i) => i % 10 === 0);
    const leaked = (
      await mapLimit(sample, 8, async (t) => ((await getTrace(t.traceId)) ? t.traceId : undefined))
    ).filter((x) => x !== undefined);
    expect(leaked, 'dropped traces found in Jaeger').to.deep.equal([]);
  });
});
