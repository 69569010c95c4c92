// The exporter with the broker really stopped (scripts/stack/down.sh kafka): a call is rejected retriably
// within produce_timeout (never a false success), and once the broker is started again
// (scripts/stack/up.sh kafka) producing succeeds and the records are on the topic. The broker is always
// started again in an after hook. This test stops the SHARED local broker: run it alone, not beside other
// Kafka tests of another process.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import type { Exporter } from '../../pipeline/sdk/component';
import { isRetriable, type PipelineError } from '../../pipeline/sdk/errors';
import { KafkaErrorCode } from '../../pipeline/sdk/kafka/errors';
import { splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import type { TraceBatch } from '../../pipeline/sdk/trace-batch';
import { factory as exporterFactory } from '../../exporters/kafka/factory';
import { traceIdOf, traceRequest } from '../exporters/kafka/otlp-fixtures';
import {
  deleteTopics,
  rawKafka,
  requireKafka,
  settingsFor,
  TestHost,
  uniqueGroup,
  uniqueName,
  waitFor,
  deleteCreatedGroups,
} from './kafka-helpers';

const REPO = path.resolve(__dirname, '..', '..');
const PRODUCE_TIMEOUT_MS = 3000;

function stack(script: 'up' | 'down' | 'status'): boolean {
  try {
    execFileSync('bash', [path.join(REPO, 'scripts', 'stack', `${script}.sh`), 'kafka'], {
      cwd: REPO,
      stdio: 'pipe',
      timeout: 75_000,
    });
    return true;
  } catch {
    return false;
  }
}

function batchOf(n: number): TraceBatch {
  return { chunks: splitTracesByTraceId(traceRequest({ traceIds: [traceIdOf(n, 0x99)], spansPerTrace: 3 })).chunks };
}

describe('kafka exporter with the broker down (real broker stopped and started)', function () {
  this.timeout(90_000);
  const topic = uniqueName('t-down');
  let exporter: Exporter | undefined;
  let stoppedByUs = false;

  before(async () => {
    await requireKafka();
    // down.sh stops only the broker its pid file names; a broker started some other way would stay up and
    // this test would prove nothing. Fail loudly rather than pass or skip.
    if (!stack('status')) {
      throw new Error(
        'the broker on 127.0.0.1:9092 was not started by scripts/stack/up.sh (status.sh kafka says so): this test needs to stop and start it',
      );
    }
  });

  after(async function () {
    this.timeout(120_000);
    await exporter?.shutdown();
    if (stoppedByUs && !stack('status')) stack('up');
    await deleteCreatedGroups();
    await deleteTopics([topic]);
  });

  it('rejects retriably within produce_timeout while Kafka is down, and produces again once it is back', async () => {
    const started = Date.now();
    exporter = exporterFactory.create(
      settingsFor('exporters.kafka'),
      exporterFactory.configSchema.parse({ topic, partitions: 2, produce_timeout: `${PRODUCE_TIMEOUT_MS}ms` }),
    );
    await exporter.start(new TestHost());
    await exporter.consumeTraces(batchOf(1));
    expect(exporter.health?.().ready).to.equal(true);

    stoppedByUs = true;
    expect(stack('down')).to.equal(true, 'scripts/stack/down.sh kafka failed');
    expect(stack('status')).to.equal(false, 'the broker is still up after down.sh');
    const t0 = Date.now();
    const outcome = await exporter.consumeTraces(batchOf(2)).then(
      () => 'resolved' as const,
      (err: unknown) => err as PipelineError,
    );
    const took = Date.now() - t0;
    expect(outcome).to.not.equal('resolved', 'a call must never succeed while the broker is down');
    const err = outcome as PipelineError;
    expect(isRetriable(err)).to.equal(true);
    expect([KafkaErrorCode.PRODUCE, KafkaErrorCode.PRODUCE_TIMEOUT]).to.include(err.code);
    expect(took).to.be.at.most(PRODUCE_TIMEOUT_MS + 1500);
    expect(exporter.health?.().ready).to.equal(false);

    expect(stack('up')).to.equal(true, 'scripts/stack/up.sh kafka failed');
    let attempts = 0;
    await waitFor(
      'a produce succeeds after the restart',
      async () => {
        attempts++;
        try {
          await (exporter as Exporter).consumeTraces(batchOf(3));
          return true;
        } catch {
          return false;
        }
      },
      40_000,
      250,
    );
    expect(exporter.health?.().ready).to.equal(true);

    // The acknowledged record is really on the topic.
    const want = batchOf(3).chunks[0].traceId;
    const consumer = rawKafka().consumer({ groupId: uniqueGroup('g-down-check'), maxWaitTimeInMs: 100 });
    const keys = new Set<string>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void keys.add(String(message.key)) });
    try {
      await waitFor('the record produced after the restart is readable', () => keys.has(want), 20_000);
    } finally {
      await consumer.disconnect();
    }
    expect(keys.has(batchOf(1).chunks[0].traceId)).to.equal(true);
    expect(Date.now() - started).to.be.below(90_000);
    expect(attempts).to.be.at.least(1);
  });
});
