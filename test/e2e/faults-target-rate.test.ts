// Fault/system test (issue 5): the cluster-wide throughput target. Two sampler processes (the real binary,
// `--pipeline sample`, one consumer group) share Redis state; their policy is `adaptive` with
// target_traces_per_sec: 20 on one (service, operation) key. An ingest process receives a steady 150
// traces/s for 30 s. After a 12 s warm-up (the cluster rate window is 10 s), the traces kept per second by
// both processes together (from each process's tusk_sampler_decisions_total{decision="sampled"}) must be
// within 15 % of 20/s, not 2 x 20.

import { expect } from 'chai';
import path from 'node:path';
import { planTraces, runLoad, statusSummary } from '../helpers/otlp-load';
import { fetchMetrics, sumMetric } from '../helpers/admin';
import { deleteGroups, deleteTopics } from '../helpers/kafka-topic';
import { requireStack } from '../helpers/stack';
import { runNames, startTier, stopAll, waitGroupStable, type Tier } from '../helpers/tiers';
import { deletePrefix } from '../helpers/redis-keys';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'faults-target-rate.tsk');
const TARGET = 20;
const OFFERED_TPS = 150;
const LOAD_S = 30;
const WARMUP_S = 12;

interface Point {
  t: number;
  sampled: number;
  decided: number;
}

describe('faults: cluster-wide target of 20 kept traces/s across 2 samplers', function () {
  this.timeout(180_000);
  const run = runNames('target');
  let ingest: Tier | undefined;
  const samplers: Tier[] = [];

  before(async () => {
    await requireStack(['kafka', 'redis']);
    ingest = await startTier('ingest', FIXTURE, 'ingest', run, { TARGET_TPS: String(TARGET) });
    for (let i = 0; i < 2; i++)
      samplers.push(await startTier(`sampler-${i}`, FIXTURE, 'sample', run, { TARGET_TPS: String(TARGET) }));
    await waitGroupStable(run.group, run.topic, 2, 6, 60_000);
  });

  after(async () => {
    await stopAll([ingest, ...samplers]);
    await deleteTopics([run.topic]);
    await deleteGroups([run.group]);
    await deletePrefix(run.redisPrefix);
  });

  it(`keeps ${TARGET} traces/s (±15 %) in total under ${OFFERED_TPS} traces/s offered`, async () => {
    const plan = planTraces({
      service: run.service,
      rootName: 'GET /budget',
      count: OFFERED_TPS * LOAD_S,
      durationMs: LOAD_S * 1000,
      children: 1,
      errorEvery: 0,
      spreadMs: 0,
    });
    const points: Point[] = [];
    const perProcess: number[][] = [[], []];
    const started = Date.now();
    let loading = true;
    const poll = (async () => {
      for (let i = 0; loading && i < LOAD_S + 30; i++) {
        const ms = await Promise.all(samplers.map((s) => fetchMetrics(s.admin)));
        if (ms.every((m) => m !== undefined)) {
          const sampled = ms.map((m) => sumMetric(m!, 'tusk_sampler_decisions_total', { decision: 'sampled' }));
          ms.forEach((_m, k) => perProcess[k].push(sampled[k]));
          points.push({
            t: (Date.now() - started) / 1000,
            sampled: sampled[0] + sampled[1],
            decided: ms.reduce((n, m) => n + sumMetric(m!, 'tusk_sampler_decisions_total'), 0),
          });
        }
        await new Promise((r) => setTimeout(r, 1000 - ((Date.now() - started) % 1000)));
      }
    })();
    const result = await runLoad(plan, { url: ingest!.url, tickMs: 100, maxInFlight: 8, maxSpansPerRequest: 500 });
    loading = false;
    await poll;
    console.log(
      `      load: ${plan.length} traces in ${(result.elapsedMs / 1000).toFixed(1)} s, ${result.acked.size} spans acked (${statusSummary(result.statuses)})`,
    );
    expect(result.failed.size + result.unsent.size, 'spans not acknowledged by the ingest tier').to.equal(0);

    // Per-second kept rate, for the report.
    const series = points
      .slice(1)
      .map(
        (p, i) =>
          `${Math.round(p.t)}s:${(p.sampled - points[i].sampled).toFixed(0)}/${(p.decided - points[i].decided).toFixed(0)}`,
      );
    console.log(`      kept/decided per second (both samplers): ${series.join(' ')}`);
    const window = points.filter((p) => p.t >= WARMUP_S && p.t <= LOAD_S + 0.5);
    expect(window.length, 'metric samples in the measurement window').to.be.greaterThan(10);
    const a = window[0];
    const b = window[window.length - 1];
    const seconds = b.t - a.t;
    const keptRate = (b.sampled - a.sampled) / seconds;
    const decidedRate = (b.decided - a.decided) / seconds;
    const i0 = points.indexOf(a);
    const i1 = points.indexOf(b);
    const shares = perProcess.map((s) => ((s[i1] - s[i0]) / seconds).toFixed(1));
    console.log(
      `      MEASURED: ${keptRate.toFixed(2)} kept traces/s over ${seconds.toFixed(1)} s (target ${TARGET}; per process ${shares.join(' + ')}); decided ${decidedRate.toFixed(1)} traces/s (offered ${OFFERED_TPS})`,
    );
    expect(
      decidedRate,
      'the samplers decided about the offered rate (else the measurement is not under load)',
    ).to.be.within(OFFERED_TPS * 0.8, OFFERED_TPS * 1.2);
    expect(keptRate, `kept traces/s across both samplers (target ${TARGET} ±15 %)`).to.be.within(
      TARGET * 0.85,
      TARGET * 1.15,
    );
  });
});
