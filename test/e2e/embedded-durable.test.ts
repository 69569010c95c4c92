// The embedded default is crash-safe: traces that the real OpenTelemetry SDK got acknowledged survive a
// kill -9 of the collector right after the client finished, and reach the real Jaeger complete once it
// restarts on the same state directory (replayed from the write-ahead log). A state directory that cannot
// be used stops the collector at start with a clear error and a non-zero exit.

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchMetrics, sumMetric } from '../helpers/admin';
import { freePort } from '../helpers/ports';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient, sendTrace } from '../helpers/sdk-client';
import { waitForTrace } from '../helpers/jaeger';

const EMBEDDED = path.join(REPO_ROOT, 'config', 'embedded.tsk');
const TRACES = 200;
const ERROR_EVERY = 10; // 20 error traces of 4 spans each

describe('e2e: the embedded default survives kill -9 (write-ahead log)', function () {
  this.timeout(180_000);
  let collector: CollectorProcess | undefined;
  let stateDir: string;
  before(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-durable-'));
  });
  after(async () => {
    await collector?.stop('SIGKILL');
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('delivers every acknowledged error trace after a kill -9 and a restart', async () => {
    const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
    const env = {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      TUSK_STATE_DIR: stateDir,
      KEEP_PERCENT: '0',
      DECISION_WAIT: '30s',
    };
    collector = await startCollector(EMBEDDED, [], env);
    const service = `durable-${process.pid}-${Date.now()}`;
    const client = createProtoClient(service, `http://127.0.0.1:${http}/v1/traces`);
    const errorTraces: string[] = [];
    for (let i = 0; i < TRACES; i++) {
      const isError = i % ERROR_EVERY === 0;
      const id = sendTrace(client.tracer, {
        rootName: 'POST /order',
        durationMs: 20,
        children: 3,
        errorChild: isError ? 1 : undefined,
      });
      if (isError) errorTraces.push(id);
    }
    await client.flush(); // every export answered: acknowledged
    const exit = await collector.stop('SIGKILL', 5_000);
    expect(exit).to.equal('SIGKILL');
    const segments = fs.readdirSync(stateDir).filter((f) => f.endsWith('.wal'));
    expect(segments.length, 'the log holds what was not settled at the kill').to.be.greaterThan(0);

    collector = await startCollector(EMBEDDED, [], env);
    const missing: string[] = [];
    let duplicates = 0;
    for (const id of errorTraces) {
      const found = await waitForTrace(id, 4, 60_000);
      if (!found || found.spans.length < 4) missing.push(id);
      else duplicates += found.spans.length - new Set(found.spans.map((s) => s.spanID)).size;
    }
    expect(missing, 'acknowledged error traces missing in Jaeger').to.deep.equal([]);
    const replayed = sumMetric((await fetchMetrics(admin)) ?? [], 'tusk_wal_replayed_chunks_total');
    expect(replayed).to.be.greaterThan(0);
    console.log(
      `      ${errorTraces.length} error traces complete; ${replayed} chunks replayed; ${duplicates} duplicate spans`,
    );
    await client.shutdown();
    await collector.stop('SIGTERM');
  });

  it('exits non-zero with a clear error when the state directory cannot be used', () => {
    const blocker = path.join(stateDir, 'a-file');
    fs.writeFileSync(blocker, '');
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'tusk-collector.js'), 'run', EMBEDDED], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TUSK_STATE_DIR: path.join(blocker, 'wal'),
        TUSK_ADMIN_ENDPOINT: '127.0.0.1:0',
        OTLP_HTTP_ENDPOINT: '127.0.0.1:0',
        OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).to.not.equal(0);
    expect(`${run.stdout}${run.stderr}`).to.contain(`write-ahead log directory ${path.join(blocker, 'wal')}`);
  });
});
