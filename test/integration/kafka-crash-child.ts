// Child process of kafka-crash-replay.test.ts: runs the `kafka` receiver with a fake downstream that settles
// every call at once except calls holding a trace id listed in HOLD, which it never settles. It reports on
// stdout, one JSON object per line: {event:'pid'}, {event:'joined'}, {event:'got', traceIds, held}.
// Env: TOPIC, GROUP, HOLD (comma-separated trace ids). SIGTERM shuts the receiver down cleanly.

import pino from 'pino';
import { Registry } from 'prom-client';
import type { TracesConsumer } from '../../pipeline/sdk/component';
import type { TraceBatch } from '../../pipeline/sdk/trace-batch';
import { factory } from '../../receivers/kafka/factory';
import { receiverConfig } from './kafka-helpers';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const topic = process.env.TOPIC ?? '';
  const group = process.env.GROUP ?? '';
  const hold = new Set((process.env.HOLD ?? '').split(',').filter((s) => s !== ''));
  emit({ event: 'pid', pid: process.pid });
  const downstream: TracesConsumer = {
    capabilities: { mutatesData: false },
    consumeTraces(batch: TraceBatch): Promise<void> {
      const traceIds = batch.chunks.map((c) => c.traceId);
      const held = traceIds.some((id) => hold.has(id));
      emit({ event: 'got', traceIds, held });
      return held ? new Promise<void>(() => undefined) : Promise.resolve();
    },
  };
  const receiver = factory.create(
    {
      id: 'receivers.kafka',
      name: 'kafka',
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
      metrics: new Registry(),
    },
    factory.configSchema.parse(receiverConfig(topic, group, 1, { shutdown_drain_timeout: '0s' })),
    { traces: downstream },
  );
  await receiver.start({ reportFatalError: (err) => emit({ event: 'fatal', message: err.message }) });
  const deadline = Date.now() + 60_000;
  while (!receiver.health?.().ready) {
    if (Date.now() > deadline) throw new Error('never joined the group');
    await new Promise((r) => setTimeout(r, 20));
  }
  emit({ event: 'joined' });
  const keepAlive = setInterval(() => undefined, 1000);
  process.on('SIGTERM', () => {
    clearInterval(keepAlive);
    void receiver.shutdown().then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  emit({ event: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
