// Unit tests of the wal processor with a scriptable next component: answered once durable, settled
// records free the log, retriable refusals are redelivered, permanent ones dropped and counted, and a new
// processor on the same directory replays what the last one did not settle.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ComponentSettings, ProcessorNext } from '../../../pipeline/sdk/component';
import { PermanentError, PipelineError } from '../../../pipeline/sdk/errors';
import type { LogBatch, TraceBatch, TraceChunk } from '../../../pipeline/sdk/trace-batch';
import { configSchema } from '../../../processors/wal/config';
import { resolveWalDir, WalProcessor } from '../../../processors/wal/processor';

type Step = 'ok' | Error | 'hold';

/** ScriptedNext answers each consumeTraces call by the next step; 'hold' never settles. */
class ScriptedNext implements ProcessorNext {
  readonly capabilities = { mutatesData: false };
  readonly steps: Step[] = [];
  readonly delivered: string[] = [];
  readonly logs: LogBatch[] = [];
  calls = 0;

  async consumeTraces(batch: TraceBatch): Promise<void> {
    this.calls++;
    const step = this.steps.shift() ?? 'ok';
    if (step === 'hold') return new Promise<void>(() => undefined);
    if (step instanceof Error) throw step;
    this.delivered.push(...batch.chunks.map((c) => c.traceId));
  }

  async consumeLogs(batch: LogBatch): Promise<void> {
    this.logs.push(batch);
  }
}

function chunk(n: number, spans = 2): TraceChunk {
  return { traceId: n.toString(16).padStart(32, '0'), data: Buffer.alloc(64, n), spanCount: spans };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('processors/wal processor', () => {
  let dir: string;
  let registry: Registry;
  const settings = (): ComponentSettings => ({
    id: 'processors.wal',
    name: 'wal',
    logger: pino({ level: 'silent' }),
    metrics: registry,
  });
  const make = (next: ProcessorNext, raw: Record<string, unknown> = {}): WalProcessor =>
    new WalProcessor(
      settings(),
      configSchema.parse({ retry_on_failure: { initial_interval: '5ms', max_interval: '10ms' }, ...raw }),
      next,
      dir,
    );
  const metric = async (name: string): Promise<number> => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).reduce((n, v) => n + Number(v.value), 0);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-walp-'));
    registry = new Registry();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers once the chunks are in the log, delivers them, and empties the log once settled', async () => {
    const next = new ScriptedNext();
    next.steps.push('hold');
    const wal = make(next);
    await wal.start();
    await wal.consumeTraces({ chunks: [chunk(1), chunk(2)] });
    // Answered although the next component has not settled anything yet.
    expect(wal.stats().bytes).to.be.greaterThan(128);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.wal'))).to.have.length(1);
    await wal.consumeTraces({ chunks: [chunk(3)] });
    await until(() => next.delivered.includes(chunk(3).traceId));
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.wal'))).to.have.length(1);
    await wal.shutdown();
  });

  it('redelivers what the next component refused retriably', async () => {
    const next = new ScriptedNext();
    next.steps.push(new PipelineError('ERR_TEST', 'backend down', { retriable: true }), 'ok');
    const wal = make(next);
    await wal.start();
    await wal.consumeTraces({ chunks: [chunk(1), chunk(2)] });
    await until(() => next.delivered.length === 2);
    expect(next.calls).to.equal(2);
    await until(() => wal.stats().bytes === 0);
    expect(await metric('tusk_wal_redeliveries_total')).to.equal(1);
    await wal.shutdown();
  });

  it('drops and counts what the next component rejects for good, and frees the log', async () => {
    const next = new ScriptedNext();
    next.steps.push(new PermanentError('ERR_TEST', 'malformed'));
    const wal = make(next);
    await wal.start();
    await wal.consumeTraces({ chunks: [chunk(1), chunk(2), chunk(3)] });
    await until(() => wal.stats().bytes === 0);
    expect(next.delivered).to.deep.equal([]);
    expect(await metric('tusk_wal_dropped_chunks_total')).to.equal(3);
    await wal.shutdown();
  });

  it('settles chunk by chunk when the next component reports early settlement', async () => {
    const settledEarly: ProcessorNext = {
      capabilities: { mutatesData: false },
      consumeTraces: (batch) => {
        batch.onChunkSettled?.(0);
        return new Promise<void>(() => undefined);
      },
    };
    const wal = make(settledEarly, { segment_size: '64KiB' });
    await wal.start();
    await wal.consumeTraces({ chunks: [chunk(1)] });
    await until(() => wal.stats().bytes === 0);
    await wal.shutdown();
  });

  it('replays at start what the previous run did not settle, and refuses nothing meanwhile', async () => {
    const stuck = new ScriptedNext();
    stuck.steps.push('hold', 'hold');
    const first = make(stuck);
    await first.start();
    await first.consumeTraces({ chunks: [chunk(1), chunk(2)] });
    await first.consumeTraces({ chunks: [chunk(3)] });
    await first.shutdown(); // as after kill -9: nothing was settled

    const next = new ScriptedNext();
    const second = make(next);
    await second.start();
    await until(() => next.delivered.length === 3);
    expect([...next.delivered].sort()).to.deep.equal([chunk(1), chunk(2), chunk(3)].map((c) => c.traceId));
    expect(await metric('tusk_wal_replayed_chunks_total')).to.equal(3);
    await until(() => second.stats().bytes === 0 && second.stats().segments === 0);
    await second.shutdown();
  });

  it('refuses with backpressure when the log is full: the sender is not acknowledged', async () => {
    const next = new ScriptedNext();
    for (let i = 0; i < 100; i++) next.steps.push('hold');
    const wal = make(next, { max_size: '1MiB', segment_size: '256KiB' });
    await wal.start();
    const big = (n: number): TraceChunk => ({ ...chunk(n), data: Buffer.alloc(200 * 1024, n) });
    let refused: unknown;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      await wal.consumeTraces({ chunks: [big(i)] }).catch((e: unknown) => (refused = e));
    }
    expect((refused as PipelineError | undefined)?.code).to.equal('ERR_PIPELINE_BACKPRESSURE');
    expect(await metric('tusk_wal_refused_chunks_total')).to.equal(1);
    await wal.shutdown();
  });

  it('resolves the default directory from XDG_STATE_HOME or the working directory', () => {
    expect(resolveWalDir('', 'wal', { XDG_STATE_HOME: '/state' }, '/work')).to.equal('/state/tusk-collector/wal/wal');
    expect(resolveWalDir('', 'durable', {}, '/work')).to.equal('/work/.tusk-state/wal/durable');
    expect(resolveWalDir('data/wal', 'wal', {}, '/work')).to.equal('/work/data/wal');
  });
});
