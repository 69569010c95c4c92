// A processor under test: fake clock, manual ticks, fake state, and a scriptable next consumer that
// records every batch and can be told to resolve, reject or hold each call.

import type { Host, ProcessorNext } from '../../../../pipeline/sdk/component';
import type { LogBatch, TraceBatch } from '../../../../pipeline/sdk/trace-batch';
import { indexTraceChunk } from '../../../../pipeline/sdk/otlp/index';
import { configSchema, type TailSamplingConfig } from '../../../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../../../processors/tail-sampling/processor';
import type { LedgerRecord } from '../../../../processors/tail-sampling/state/types';
import { FakeSamplingState } from './fake-state';
import { settings } from './fixtures';

/** Behaviour of one call of the fake next consumer. */
export type NextStep = 'ok' | Error | { hold: Promise<void> };

/** FakeNext records what reaches the next consumer. */
export class FakeNext implements ProcessorNext {
  readonly capabilities = { mutatesData: false };
  readonly traceBatches: TraceBatch[] = [];
  readonly logBatches: LogBatch[] = [];
  /** Steps consumed one per call; when empty, calls succeed. */
  readonly steps: NextStep[] = [];
  calls = 0;

  async consumeTraces(batch: TraceBatch): Promise<void> {
    this.calls++;
    const step = this.steps.shift() ?? 'ok';
    if (step instanceof Error) throw step;
    if (step !== 'ok') await step.hold;
    this.traceBatches.push(batch);
  }

  async consumeLogs(batch: LogBatch): Promise<void> {
    this.logBatches.push(batch);
  }

  /** Trace ids of every chunk exported so far. */
  exportedTraceIds(): string[] {
    return this.traceBatches.flatMap((b) => b.chunks.map((c) => c.traceId));
  }

  /** Spans exported so far, indexed, with the sampling attributes. */
  exportedSpans() {
    return this.traceBatches.flatMap((b) =>
      b.chunks.flatMap((c) => indexTraceChunk(c.data, new Set(['sampling.policy', 'sampling.adjusted_count']))),
    );
  }
}

export const HOST: Host = { reportFatalError: () => undefined };

/** Harness bundles a started processor with its clock, state and next consumer. */
export interface Harness {
  p: TailSamplingProcessor;
  state: FakeSamplingState;
  next: FakeNext;
  config: TailSamplingConfig;
  settings: ReturnType<typeof settings>;
  clock: { now: number };
  /** Moves the clock and runs one tick. */
  advance(ms: number): Promise<void>;
}

/** harness builds and starts a processor from raw (file-like) config. */
export async function harness(
  raw: Record<string, unknown> = {},
  opts: { ledger?: Map<string, LedgerRecord>; start?: number; replicaId?: string } = {},
): Promise<Harness> {
  const clock = { now: opts.start ?? 1_700_000_000_000 };
  const state = new FakeSamplingState(opts.ledger, opts.replicaId);
  const next = new FakeNext();
  const config = configSchema.parse({
    policies: [{ name: 'all', type: 'always_sample' }],
    retry_on_failure: { initial_interval: '1ms', max_interval: '5ms', max_elapsed_time: '200ms' },
    ...raw,
  });
  const s = settings();
  const p = new TailSamplingProcessor(s, config, next, { state, now: () => clock.now, autoTick: false });
  await p.start(HOST);
  return {
    p,
    state,
    next,
    config,
    settings: s,
    clock,
    async advance(ms: number) {
      clock.now += ms;
      await p.tick();
    },
  };
}

/** status tells whether a promise settled (and how) after letting pending callbacks and timers run for `waitMs`. */
export async function status(promise: Promise<unknown>, waitMs = 5): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  await new Promise((r) => setTimeout(r, waitMs));
  return s;
}
