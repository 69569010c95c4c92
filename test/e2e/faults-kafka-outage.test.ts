// Fault test (issue 4, broker outage at the ingest tier): an ingest process (the real binary) receives a
// steady OTLP/HTTP load from a client that, like the OTel SDKs, retries refused requests after Retry-After.
// The Kafka broker is stopped mid-load (scripts/stack/down.sh kafka) and started again (up.sh). Asserted:
// while the broker is away clients get retryable answers (503 with Retry-After), never a non-retryable
// error; the ingest's /readyz reports it; after the broker is back the ingest accepts again; and every span
// the client got a 200 for is in Kafka (the topic is read back and every message decoded).

import { expect } from 'chai';
import path from 'node:path';
import { planTraces, runLoad, statusSummary } from '../helpers/otlp-load';
import { fetchReadyz, waitUntil, type Readiness } from '../helpers/admin';
import { deleteTopics, readTopic } from '../helpers/kafka-topic';
import { portOpen, requireStack, restoreStack, stackDown, stackUp } from '../helpers/stack';
import { runNames, startTier, stopAll, type Tier } from '../helpers/tiers';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'faults-cluster.tsk');
const OUTAGE_MS = 10_000;

interface Answer {
  at: number;
  status: number;
}

describe('faults: Kafka broker stopped under load at the ingest tier', function () {
  this.timeout(240_000);
  const run = runNames('kafka');
  let ingest: Tier | undefined;

  before(async () => {
    await requireStack(['kafka']);
    ingest = await startTier('ingest', FIXTURE, 'ingest', run, { TUSK_PRODUCE_TIMEOUT: '5s' });
    const ok = await waitUntil(async () => (await fetchReadyz(ingest!.admin)).ready, 30_000);
    expect(ok, 'ingest ready (topic created)').to.equal(true);
  });

  after(async () => {
    await restoreStack(['kafka']);
    await stopAll([ingest]);
    await deleteTopics([run.topic]);
  });

  it('answers 503 while the broker is down, and every acknowledged span is in Kafka afterwards', async () => {
    const plan = planTraces({
      service: run.service,
      rootName: 'GET /kafka',
      count: 1600,
      durationMs: 40_000,
      children: 2,
      errorEvery: 0,
      spreadMs: 0,
    });
    const answers: Answer[] = [];
    const started = Date.now();
    const load = runLoad(plan, {
      url: ingest!.url,
      tickMs: 100,
      maxInFlight: 8,
      maxSpansPerRequest: 60,
      maxAttempts: 40,
      drainMs: 90_000,
      requestTimeoutMs: 30_000,
      onAnswer: (r) => answers.push({ at: Date.now(), status: r.status }),
    });

    await new Promise((r) => setTimeout(r, 8000));
    const downStart = Date.now();
    const downMs = await stackDown('kafka');
    const downAt = Date.now();
    console.log(
      `      kafka stopping at ${((downStart - started) / 1000).toFixed(1)} s into the load; down.sh took ${downMs} ms`,
    );
    const ready: Array<Readiness & { at: number }> = [];
    let reopened = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      ready.push({ ...(await fetchReadyz(ingest!.admin)), at: Date.now() });
      if (await portOpen(9092)) reopened++;
      await new Promise((r) => setTimeout(r, 500));
    }
    const upStart = Date.now();
    const upMs = await stackUp('kafka');
    const upAt = Date.now();
    console.log(
      `      kafka down for ${((upStart - downAt) / 1000).toFixed(1)} s; up.sh took ${(upMs / 1000).toFixed(1)} s`,
    );
    const readyAgain = await waitUntil(
      async () => ((await fetchReadyz(ingest!.admin)).ready ? Date.now() : undefined),
      60_000,
      250,
    );
    const result = await load;

    const inOutage = answers.filter((a) => a.at > downAt + 1000 && a.at < upStart);
    const okInOutage = inOutage.filter((a) => a.status === 200).length;
    const firstOkAfter = answers.find((a) => a.at > upAt && a.status === 200);
    const unready = ready.filter((r) => !r.ready);
    const exporterRow = unready[0]?.components.find((c) => c.id.startsWith('exporters.'));
    console.log(
      `      answers: ${statusSummary(result.statuses)} (${result.retryAfterSeen} 503s with Retry-After); while down: ${inOutage.length} answers, ${okInOutage} of them 200`,
    );
    console.log(
      `      /readyz while down: ${unready.length}/${ready.length} probes not ready${exporterRow ? ` (${exporterRow.id}: "${exporterRow.detail}")` : ''}; ready again ${readyAgain ? ((readyAgain - upAt) / 1000).toFixed(1) + ' s' : 'NEVER'} after up.sh returned; first 200 ${firstOkAfter ? ((firstOkAfter.at - upAt) / 1000).toFixed(1) + ' s' : 'NEVER'} after`,
    );
    console.log(
      `      load: ${result.acked.size} spans acked, ${result.failed.size} given up by the client, ${result.unsent.size} unsent, ${(result.elapsedMs / 1000).toFixed(1)} s`,
    );

    expect(reopened, 'probes that found the broker started again by someone else during the outage').to.equal(0);
    expect([...result.nonRetryable.entries()], 'non-retryable answers (status, count)').to.deep.equal([]);
    expect(result.statuses.get(503) ?? 0, '503 answers while the broker was away').to.be.greaterThan(0);
    expect(result.retryAfterSeen, '503 answers carrying Retry-After').to.equal(result.statuses.get(503) ?? 0);
    expect(firstOkAfter, 'a request accepted after the broker returned').to.not.equal(undefined);
    expect(unready.length, '/readyz probes reporting not ready while the broker was down').to.be.greaterThan(0);
    expect(readyAgain, '/readyz ready again after the broker returned').to.not.equal(undefined);

    // Every acknowledged span is in Kafka.
    const messages = await readTopic(run.topic, 90_000);
    const inKafka = new Map<string, number>();
    for (const m of messages) for (const id of m.spanIds) inKafka.set(id, (inKafka.get(id) ?? 0) + 1);
    const missing = [...result.acked].filter((id) => !inKafka.has(id));
    const twice = [...inKafka.values()].filter((n) => n > 1).length;
    console.log(
      `      kafka: ${messages.length} messages, ${inKafka.size} distinct spans, ${twice} written more than once (retried after a refused answer); acked spans missing: ${missing.length}`,
    );
    expect(
      missing.slice(0, 5),
      `acknowledged spans missing from Kafka (${missing.length} of ${result.acked.size})`,
    ).to.deep.equal([]);
    expect(result.acked.size, 'spans acknowledged overall (the load went on after the outage)').to.be.greaterThan(
      plan.length * 3 * 0.5,
    );
  });
});
