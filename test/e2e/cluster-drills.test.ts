// CI version of the rehearsal-cluster drills (issue 19; the full run is `npm run cluster:drills`): brings up
// 3 KRaft brokers (RF 3, min ISR 2) and a 3+3 Redis Cluster with scripts/cluster/up.sh, runs two short
// drills of test/cluster/drills.ts under bounded load (kill -9 of the broker leading most partitions other than
// the group coordinator, restarted later; kill -9 of one of three samplers) and tears the cluster down with
// down.sh. Each drill
// fails on an acknowledged trace without a decision, an acknowledged error trace not kept or incomplete in
// Jaeger, or a kept trace incomplete. Skipped (with the reason) only when the cluster cannot start for a
// reason outside the project (no cached Kafka jars, no java, no redis-server) and CI is not set; on CI
// that is a failure. Needs the compiled collector (built here when dist/ is missing) and the shared Jaeger.
//   TUSK_STACK_STATE=... npx mocha --config .mocharc.integration.json test/e2e/cluster-drills.test.ts

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/collector-process';
import { REPORT_HEADER, reportRow, runDrill, type DrillReport } from '../cluster/drills';
import { readClusterEnv, runScript, type ClusterEnv } from '../cluster/rehearsal';

const OUTSIDE = /jars are not cached|java not found|redis-server not installed|cannot be made here/;

describe('cluster drills (rehearsal cluster: 3 brokers, Redis Cluster 3+3, one namespace per host)', function () {
  this.timeout(180_000);
  let env: ClusterEnv | undefined;
  const reports: DrillReport[] = [];

  before(async function () {
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'pipeline', 'runtime', 'cli', 'main.js'))) {
      console.log('      building the collector (dist/ missing): npx tsc -p tsconfig.json');
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 170_000 });
    }
    const t = Date.now();
    const up = await runScript('up.sh', [], 170_000);
    if (up.code !== 0) {
      if (OUTSIDE.test(up.output) && !process.env.CI) {
        console.log(`      SKIP: the rehearsal cluster cannot start on this machine:\n${up.output}`);
        this.skip();
      }
      throw new Error(`scripts/cluster/up.sh failed (${up.code}):\n${up.output}`);
    }
    env = readClusterEnv();
    console.log(
      `      rehearsal cluster up in ${((Date.now() - t) / 1000).toFixed(1)} s (${env.mode}): ` +
        `Kafka ${env.kafkaBrokers.join(',')}, Redis ${env.redisNodes.length} nodes`,
    );
  });

  after(async function () {
    this.timeout(120_000);
    if (reports.length > 0) console.log(`\n${[...REPORT_HEADER, ...reports.map(reportRow)].join('\n')}\n`);
    if (process.env.TUSK_CLUSTER_KEEP === '1') return;
    const down = await runScript('down.sh', [], 110_000);
    if (down.code !== 0) console.error(`      scripts/cluster/down.sh failed (${down.code}):\n${down.output}`);
  });

  const drill = async (kind: 'broker-kill' | 'sampler-kill', vars?: Record<string, string>) => {
    const r = await runDrill(env!, {
      kind,
      vars,
      traces: 300,
      loadMs: 12_000,
      faultAtMs: 4000,
      downMs: 8000,
      spareCoordinator: kind === 'broker-kill',
      log: (s) => console.log(`  ${s}`),
    });
    reports.push(r);
    console.log(`      ${reportRow(r)}`);
    expect(r.replicationFactor, 'topic replication factor').to.equal(3);
    // A drill proves something only if the cluster took the load: most traces must have been acknowledged.
    expect(r.ackedTraces, `${kind}: acknowledged traces`).to.be.at.least(Math.floor(r.planned * 0.5));
    expect(r.ackedErrors, `${kind}: acknowledged error traces`).to.be.greaterThan(0);
    expect(r.failures, `${kind}: ${r.failures.join('; ')}`).to.deep.equal([]);
  };

  // A killed leader's partitions are unavailable until the controller fences the broker (Kafka's
  // broker.session.timeout.ms, 9 s by default): the ingest tier writes the spans accepted meanwhile ~10 s late.
  // The samplers wait decision_wait (6 s here, shorter than that) on their partitions' event-time clocks, which
  // stop while the ingest tier cannot write (docs/deployment.md, "Cluster drills"), so they decide with them.
  // The group coordinator is spared: then no coordinator error refreshes a consumer's metadata, the case in which
  // kafkajs by itself crashed every consumer (fixed in pipeline/sdk/kafka/kafkajs-fixes.ts).
  it('kill -9 of the partition-leader broker, restarted: nothing acknowledged lost', () => drill('broker-kill'));

  it('kill -9 of one of three samplers: nothing acknowledged lost', () => drill('sampler-kill'));
});
