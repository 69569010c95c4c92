// Fault test (issue 6, outage test): Jaeger is stopped for 20 s (scripts/stack/down.sh jaeger) while
// traffic flows through an ingest and a sampler process (the real binary), then started again (up.sh).
// Jaeger's storage is in memory, so only traces sent after the stop are checked. Asserted: while Jaeger is
// down, the sampler group's committed Kafka offsets stay at or below the first message of every kept trace
// that is waiting for export (read with kafkajs admin.fetchOffsets, message positions from a tap consumer),
// so those partitions' committed offset is below their end; after Jaeger returns, every kept trace sent
// during or after the outage (per the decision ledger) is in Jaeger with all its spans, and the group's
// committed offsets catch up with the end of the topic.

import { expect } from 'chai';
import path from 'node:path';
import { planTraces, runLoad, statusSummary, traceAcked, type PlannedTrace } from '../helpers/otlp-load';
import { fetchDecision, fetchMetrics, mapLimit, sumMetric, waitUntil, type DecisionAnswer } from '../helpers/admin';
import { checkTraces, describeIncomplete } from '../helpers/jaeger-check';
import {
  committedOffsets,
  deleteGroups,
  deleteTopics,
  endOffsets,
  tapTopic,
  type TopicTap,
} from '../helpers/kafka-topic';
import { portOpen, requireStack, restoreStack, stackDown, stackPid, stackUp } from '../helpers/stack';
import { runNames, startTier, stopAll, waitGroupStable, type Tier } from '../helpers/tiers';
import { deletePrefix } from '../helpers/redis-keys';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'faults-cluster.tsk');
const OUTAGE_MS = 20_000;

interface OffsetCheck {
  atOutageMs: number;
  pendingTraces: number;
  rows: Array<{ partition: number; committed: number; end: number; firstPending?: number }>;
}

describe('faults: Jaeger stopped for 20 s while traffic flows', function () {
  this.timeout(240_000);
  const run = runNames('jaeger');
  let ingest: Tier | undefined;
  let sampler: Tier | undefined;
  let tap: TopicTap | undefined;

  before(async () => {
    await requireStack(['kafka', 'redis', 'jaeger']);
    ingest = await startTier('ingest', FIXTURE, 'ingest', run, { KEEP_PERCENT: '10' });
    sampler = await startTier('sampler', FIXTURE, 'sample', run, { KEEP_PERCENT: '10' });
    await waitGroupStable(run.group, run.topic, 1, 6, 60_000);
    tap = await tapTopic(run.topic);
  });

  after(async () => {
    await restoreStack(['jaeger']);
    await tap?.stop();
    await stopAll([ingest, sampler]);
    await deleteTopics([run.topic]);
    await deleteGroups([run.group]);
    await deletePrefix(run.redisPrefix);
  });

  it('holds offsets while kept traces wait for Jaeger, and delivers all of them when it returns', async () => {
    const plan = planTraces({
      service: run.service,
      rootName: 'GET /jaeger',
      count: 1400,
      durationMs: 35_000,
      children: 2,
      errorEvery: 20,
      spreadMs: 1000,
    });
    const started = Date.now();
    const load = runLoad(plan, { url: ingest!.url, tickMs: 100, maxInFlight: 8 });

    await new Promise((r) => setTimeout(r, 5000));
    const downMs = await stackDown('jaeger');
    const downAt = Date.now();
    console.log(
      `      jaeger stopped at ${((downAt - started) / 1000).toFixed(1)} s into the load (down.sh took ${downMs} ms)`,
    );
    const m0 = await fetchMetrics(sampler!.admin);

    // While Jaeger is down: error traces that started after the stop and were fully acked are kept and pending.
    const checks: OffsetCheck[] = [];
    for (const at of [12_000, 18_000]) {
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + at - Date.now())));
      const now = Date.now();
      const pending = plan.filter((t) => t.error && started + t.startMs > downAt && started + t.endMs < now - 7000);
      const [committed, ends] = await Promise.all([committedOffsets(run.group, run.topic), endOffsets(run.topic)]);
      const firstPending = new Map<number, number>();
      for (const t of pending) {
        for (const pos of tap!.positions.get(t.traceId) ?? []) {
          firstPending.set(pos.partition, Math.min(firstPending.get(pos.partition) ?? Infinity, pos.offset));
        }
      }
      checks.push({
        atOutageMs: now - downAt,
        pendingTraces: pending.length,
        rows: [...ends.keys()]
          .sort((a, b) => a - b)
          .map((p) => ({
            partition: p,
            committed: committed.get(p) ?? -1,
            end: ends.get(p)!,
            firstPending: firstPending.get(p),
          })),
      });
    }
    const m1 = await fetchMetrics(sampler!.admin);
    // Someone else's test may start the shared stack's Jaeger (up.sh); the outage must have lasted.
    const reopened = await portOpen(14268);
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
    const upMs = await stackUp('jaeger');
    const upAt = Date.now();
    const jaegerPid = stackPid('jaeger');
    console.log(
      `      jaeger started again after ${((upAt - downAt) / 1000).toFixed(1)} s down (up.sh took ${upMs} ms)`,
    );
    for (const c of checks) {
      console.log(
        `      offsets at +${(c.atOutageMs / 1000).toFixed(1)} s of outage (${c.pendingTraces} error traces pending): ` +
          c.rows
            .map(
              (r) => `p${r.partition} committed ${r.committed} / first pending ${r.firstPending ?? '-'} / end ${r.end}`,
            )
            .join('; '),
      );
    }
    const exportFailures =
      sumMetric(m1 ?? [], 'tusk_exporter_failed_spans_total') -
      sumMetric(m0 ?? [], 'tusk_exporter_failed_spans_total') +
      sumMetric(m1 ?? [], 'tusk_exporter_retries_total') -
      sumMetric(m0 ?? [], 'tusk_exporter_retries_total');
    console.log(
      `      sampler during the outage: exporter retries+failed spans ${exportFailures}, bytes exporting ${sumMetric(m1 ?? [], 'tusk_sampler_bytes_exporting')}`,
    );

    expect(reopened, 'Jaeger was started again by someone else during the outage').to.equal(false);
    const result = await load;
    console.log(
      `      load: ${plan.length} traces, ${result.acked.size} spans acked (${statusSummary(result.statuses)}) in ${(result.elapsedMs / 1000).toFixed(1)} s`,
    );
    expect(result.failed.size + result.unsent.size, 'spans not acknowledged by the ingest tier').to.equal(0);

    // Offsets did not move past unexported data.
    for (const c of checks) {
      expect(c.pendingTraces, 'error traces pending export at the check').to.be.greaterThan(3);
      for (const r of c.rows) {
        if (r.firstPending === undefined) continue;
        expect(
          r.committed,
          `partition ${r.partition}: committed offset vs first message of a pending kept trace (${(c.atOutageMs / 1000).toFixed(1)} s into the outage)`,
        ).to.be.at.most(r.firstPending);
        expect(r.committed, `partition ${r.partition}: committed below the end while traces are pending`).to.be.below(
          r.end,
        );
      }
      expect(
        c.rows.filter((r) => r.firstPending !== undefined).length,
        'partitions holding pending kept traces',
      ).to.be.greaterThan(0);
    }

    // After Jaeger returns: every kept trace sent during or after the outage is there, complete.
    const after = plan.filter((t) => started + t.startMs > downAt && traceAcked(t, result.acked));
    const decisions = new Map<string, DecisionAnswer>();
    await waitUntil(
      async () => {
        const open = after.filter((t) => !decisions.has(t.traceId));
        const answers = await mapLimit(open, 16, (t) => fetchDecision(sampler!.admin, t.traceId));
        answers.forEach((a, i) => {
          if (a) decisions.set(open[i].traceId, a);
        });
        return decisions.size === after.length ? true : undefined;
      },
      60_000,
      1000,
    );
    expect(decisions.size, 'traces sent after the stop with a decision').to.equal(after.length);
    const kept: PlannedTrace[] = after.filter((t) => decisions.get(t.traceId)!.decision === 'sampled');
    const errorsNotKept = after.filter((t) => t.error && decisions.get(t.traceId)!.decision !== 'sampled');
    expect(errorsNotKept.length, 'error traces not kept').to.equal(0);
    const report = await checkTraces(new Map(kept.map((t) => [t.traceId, t.spans.map((s) => s.spanId)])), 120_000);
    const sentInOutage = kept.filter((t) => started + t.startMs < upAt).length;
    console.log(
      `      kept traces sent after the stop: ${kept.length} (${sentInOutage} started while Jaeger was down); complete in Jaeger ${report.complete}/${kept.length}, all visible ${((Date.now() - upAt) / 1000).toFixed(1)} s after Jaeger was back`,
    );
    expect(
      stackPid('jaeger'),
      'Jaeger was restarted by someone else during the test (its memory store was lost)',
    ).to.equal(jaegerPid);
    expect(sentInOutage, 'kept traces sent while Jaeger was down').to.be.greaterThan(10);
    expect(report.incomplete.length, `kept traces incomplete in Jaeger: ${describeIncomplete(report)}`).to.equal(0);

    // And the group catches up: committed offsets reach the end of every partition.
    const caughtUp = await waitUntil(
      async () => {
        const [committed, ends] = await Promise.all([committedOffsets(run.group, run.topic), endOffsets(run.topic)]);
        return [...ends].every(([p, end]) => (committed.get(p) ?? -1) === end) ? Date.now() : undefined;
      },
      60_000,
      500,
    );
    console.log(
      `      committed offsets reached the end of the topic ${caughtUp ? ((caughtUp - upAt) / 1000).toFixed(1) + ' s after Jaeger was back' : 'NEVER'}`,
    );
    expect(caughtUp, 'committed offsets caught up with the topic end').to.not.equal(undefined);
  });
});
