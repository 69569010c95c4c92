// Tests of the Kafka receiver's Dispatcher with fake downstream consumers: settlement only on success,
// out-of-order settlement, retries with backoff (partition paused meanwhile), narrowing a permanent
// rejection down to the one bad message, dead-lettering, stop/revoke, and early per-message settlement
// from the downstream's per-chunk notice, and detaching messages that stay unsettled from their fetch.

import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { TracesConsumer } from '../../../pipeline/sdk/component';
import { BackpressureError, PermanentError, PipelineError } from '../../../pipeline/sdk/errors';
import type { BackoffPolicy } from '../../../pipeline/sdk/retry';
import type { TraceBatch } from '../../../pipeline/sdk/trace-batch';
import {
  Dispatcher,
  REDELIVERY_BACKOFF,
  type DeliveryEntry,
  type DispatcherHooks,
} from '../../../receivers/kafka/dispatcher';
import { KafkaReceiverMetrics } from '../../../receivers/kafka/metrics';
import { PartitionState } from '../../../receivers/kafka/partition';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** gcSoon runs a full garbage collection (V8's gc, exposed on demand) after the current tasks. */
async function gcSoon(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await sleep(0);
  gc();
  await sleep(0);
  gc();
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

interface Held {
  readonly batch: TraceBatch;
  resolve(): void;
  reject(err: unknown): void;
}

/** Downstream is a fake TracesConsumer: it records every call and lets the test settle or reject each. */
class Downstream implements TracesConsumer {
  readonly capabilities = { mutatesData: false };
  readonly calls: Held[] = [];
  policy?: (batch: TraceBatch, attempt: number) => 'hold' | 'ok' | Error;
  private readonly _attempts = new Map<string, number>();

  consumeTraces(batch: TraceBatch): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const id = batch.chunks.map((c) => c.traceId).join(',');
      const attempt = this._attempts.get(id) ?? 0;
      this._attempts.set(id, attempt + 1);
      this.calls.push({ batch, resolve, reject });
      const outcome = this.policy ? this.policy(batch, attempt) : 'hold';
      if (outcome === 'ok') resolve();
      else if (outcome instanceof Error) reject(outcome);
    });
  }
}

function entry(offset: number): DeliveryEntry {
  const traceId = offset.toString(16).padStart(32, '0');
  return {
    offset,
    key: Buffer.from(traceId),
    value: Buffer.from([offset & 0xff]),
    traces: [{ traceId, data: new Uint8Array([offset & 0xff]), spanCount: 1 }],
  };
}

/** keyless is a message split into chunks of several traces (as the receiver does for a keyless value). */
function keyless(offset: number, traces: number): DeliveryEntry {
  const chunks = Array.from({ length: traces }, (_, i) => ({
    traceId: `${offset.toString(16)}-${i}`.padStart(32, '0'),
    data: new Uint8Array([i]),
    spanCount: 1,
  }));
  return { offset, key: null, value: Buffer.from([offset & 0xff]), traces: chunks };
}

/** notice sends the batch's early notice for its chunk `i` (as the tail sampler does when the chunk settled). */
function notice(batch: TraceBatch, i: number): void {
  expect(batch.onChunkSettled, 'the dispatcher passes a per-chunk notice').to.be.a('function');
  batch.onChunkSettled?.(i);
}

interface SetupOptions {
  detachAfterMs?: number;
  clock?: { now: number };
  retry?: BackoffPolicy;
}

function setup(hooks: Partial<DispatcherHooks> = {}, opts: SetupOptions = {}) {
  const down = new Downstream();
  const part = new PartitionState('t', 0, 'traces');
  const reg = new Registry();
  const events: string[] = [];
  const d = new Dispatcher(
    down,
    undefined,
    {
      settled: () => events.push('settled'),
      retryStateChanged: (p) => events.push(`retrying=${p.retrying}`),
      ...hooks,
    },
    {
      retry: opts.retry ?? { ...REDELIVERY_BACKOFF, initialIntervalMs: 10, maxIntervalMs: 40 },
      detachAfterMs: opts.detachAfterMs ?? 0,
      now: opts.clock ? () => opts.clock!.now : undefined,
    },
    pino({ level: 'silent' }),
    new KafkaReceiverMetrics(reg, 'receivers.test'),
  );
  const track = (...offsets: number[]): DeliveryEntry[] =>
    offsets.map((o) => {
      part.watermark.track(o, 1);
      return entry(o);
    });
  return { down, part, reg, events, d, track };
}

async function metric(reg: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await reg.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))?.value ?? 0;
}

describe('kafka receiver: Dispatcher', () => {
  it('hands a batch downstream in one call without waiting, and settles it only when the call resolves', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0, 1, 2));
    expect(down.calls).to.have.length(1);
    expect(down.calls[0].batch.chunks).to.have.length(3);
    await sleep(10);
    expect(part.watermark.commitOffset).to.equal(0, 'nothing settled while downstream holds it');
    down.calls[0].resolve();
    await sleep(1);
    expect(part.watermark.commitOffset).to.equal(3);
  });

  it('keeps the commit at the first batch still held when a later batch settles first', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0, 1));
    d.dispatch(part, track(2, 3));
    d.dispatch(part, track(4));
    down.calls[2].resolve();
    down.calls[0].resolve();
    await sleep(1);
    expect(part.watermark.commitOffset).to.equal(2);
    down.calls[1].resolve();
    await sleep(1);
    expect(part.watermark.commitOffset).to.equal(5);
    expect(d.inFlight).to.equal(0);
  });

  it('retries a retriable rejection with backoff (honouring retryAfterMs), flags the partition as retrying, then settles', async () => {
    const { down, part, d, events, reg, track } = setup();
    down.policy = (_b, attempt) => (attempt < 2 ? new BackpressureError('busy', attempt === 0 ? 60 : 1) : 'ok');
    const t0 = Date.now();
    d.dispatch(part, track(0, 1));
    await waitFor(() => part.watermark.commitOffset === 2);
    expect(down.calls).to.have.length(3);
    expect(Date.now() - t0).to.be.at.least(60);
    expect(events).to.include('retrying=1');
    expect(events[events.length - 1]).to.equal('retrying=0');
    expect(part.retrying).to.equal(0);
    expect(await metric(reg, 'tusk_kafka_delivery_retries_total')).to.equal(2);
  });

  it('redelivers by the backoff policy it is given, with no time limit; default 200ms doubling to 10s', async () => {
    expect(REDELIVERY_BACKOFF).to.deep.equal({
      enabled: true,
      initialIntervalMs: 200,
      randomizationFactor: 0.5,
      multiplier: 2,
      maxIntervalMs: 10_000,
      maxElapsedTimeMs: 0,
    });
    const retry = { ...REDELIVERY_BACKOFF, initialIntervalMs: 25, maxIntervalMs: 25, randomizationFactor: 0 };
    const { down, part, d, reg, track } = setup({}, { retry });
    down.policy = (_b, attempt) => (attempt < 3 ? new Error('down') : 'ok');
    const t0 = Date.now();
    d.dispatch(part, track(0));
    await waitFor(() => part.watermark.commitOffset === 1);
    expect(down.calls).to.have.length(4);
    expect(Date.now() - t0).to.be.at.least(74, 'three waits of 25ms (no jitter)');
    expect(await metric(reg, 'tusk_kafka_delivery_retries_total')).to.equal(3);
  });

  it('treats an unknown error as retriable (never drops it)', async () => {
    const { down, part, d, track } = setup();
    down.policy = (_b, attempt) => (attempt === 0 ? new Error('socket hang up') : 'ok');
    d.dispatch(part, track(0));
    await waitFor(() => part.watermark.commitOffset === 1);
    expect(down.calls).to.have.length(2);
  });

  it('narrows a permanent rejection down to the one bad message: only it is skipped, the rest delivered', async () => {
    const { down, part, d, reg, track } = setup();
    const bad = entry(5).traces?.[0].traceId;
    down.policy = (b) =>
      b.chunks.some((c) => c.traceId === bad) ? new PermanentError('ERR_TEST_BAD', 'bad span') : 'ok';
    d.dispatch(part, track(0, 1, 2, 3, 4, 5, 6, 7));
    await waitFor(() => part.watermark.commitOffset === 8);
    const delivered = down.calls
      .filter((c) => !c.batch.chunks.some((ch) => ch.traceId === bad))
      .flatMap((c) => c.batch.chunks.map((ch) => ch.traceId));
    expect(new Set(delivered).size).to.equal(7);
    expect(down.calls.length).to.be.at.most(1 + 2 * 3, 'halving: at most 2 calls per level');
    expect(await metric(reg, 'tusk_kafka_skipped_messages_total', { reason: 'permanent' })).to.equal(1);
  });

  it('dead-letters a permanently rejected message before settling it, retrying the dead-letter write', async () => {
    const written: number[] = [];
    let failOnce = true;
    const { down, part, d, reg, track } = setup({
      deadLetter: async (_p, e) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('broker down');
        }
        written.push(e.offset);
      },
    });
    down.policy = () => new PermanentError('ERR_TEST_BAD', 'bad');
    d.dispatch(part, track(0));
    await sleep(3);
    expect(part.watermark.commitOffset).to.equal(0, 'not settled before the dead-letter write succeeded');
    await waitFor(() => part.watermark.commitOffset === 1);
    expect(written).to.deep.equal([0]);
    expect(await metric(reg, 'tusk_kafka_dead_lettered_messages_total')).to.equal(1);
  });

  it('skips a poison message directly (no downstream call)', async () => {
    const { down, part, d, reg, track } = setup();
    const [e] = track(0);
    d.skip(part, e, 'poison', new PipelineError('ERR_OTLP_DECODE', 'garbage', { retriable: false }));
    expect(down.calls).to.have.length(0);
    expect(part.watermark.commitOffset).to.equal(1);
    expect(await metric(reg, 'tusk_kafka_skipped_messages_total', { reason: 'poison' })).to.equal(1);
  });

  it('stop cancels pending retries and leaves their messages unsettled (replayed later)', async () => {
    const { down, part, d, track } = setup();
    down.policy = () => new BackpressureError('busy', 50);
    d.dispatch(part, track(0));
    await sleep(5);
    d.stop();
    await sleep(80);
    expect(down.calls).to.have.length(1);
    expect(part.watermark.commitOffset).to.equal(0);
    expect(part.retrying).to.equal(0);
  });

  it('settles each message as soon as the downstream reports all its chunks settled, before the batch promise', async () => {
    const { down, part, d, events, track } = setup();
    d.dispatch(part, track(0, 1, 2));
    const { batch } = down.calls[0];
    notice(batch, 0);
    notice(batch, 2);
    expect(part.watermark.commitOffset).to.equal(1, 'offset 0 settled at once; 1 still held');
    expect(part.watermark.unsettledCount).to.equal(
      1,
      'offset 2 settled too: only the slow message counts as in flight',
    );
    expect(part.watermark.unsettledWeight).to.equal(1);
    expect(events.filter((e) => e === 'settled')).to.have.length(0, 'the settled hook is coalesced into a microtask');
    await Promise.resolve();
    expect(events.filter((e) => e === 'settled')).to.have.length(1, 'one hook call for both messages');
    down.calls[0].resolve();
    await sleep(1);
    expect(part.watermark.commitOffset).to.equal(3);
  });

  it('settles a keyless message early only when every one of its chunks was reported, each counted once', async () => {
    const { down, part, d } = setup();
    part.watermark.track(0, 1);
    part.watermark.track(1, 1);
    d.dispatch(part, [keyless(0, 3), entry(1)]);
    const { batch } = down.calls[0];
    expect(batch.chunks).to.have.length(4);
    notice(batch, 0);
    notice(batch, 0);
    notice(batch, 1);
    expect(part.watermark.commitOffset).to.equal(
      0,
      'chunk 2 of message 0 is still held (a repeated notice does not count twice)',
    );
    notice(batch, 2);
    expect(part.watermark.commitOffset).to.equal(1);
  });

  it('ignores notices for indexes it did not deliver; a spread copy of the batch does not carry the notice', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0, 1));
    const { batch } = down.calls[0];
    for (const i of [-1, 2, 7, 0.5, Number.NaN]) batch.onChunkSettled?.(i);
    expect(part.watermark.unsettledCount).to.equal(2);
    const respread: TraceBatch = { ...batch, chunks: [...batch.chunks].reverse() };
    expect(respread.onChunkSettled).to.equal(
      undefined,
      'non-enumerable: a middleman building a new batch cannot settle by the wrong index',
    );
    expect(Object.keys(batch)).to.deep.equal(['chunks']);
  });

  it('after a retriable rejection, redelivers only the messages not settled early', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0, 1, 2));
    const first = down.calls[0];
    notice(first.batch, 1);
    first.reject(new BackpressureError('export timed out', 1));
    await waitFor(() => down.calls.length === 2);
    const retried = down.calls[1].batch.chunks.map((c) => c.traceId);
    expect(retried).to.deep.equal([entry(0), entry(2)].map((e) => e.traces?.[0].traceId));
    first.batch.onChunkSettled?.(0);
    expect(part.watermark.unsettledCount).to.equal(2, 'a notice of the failed attempt no longer counts');
    notice(down.calls[1].batch, 1);
    expect(part.watermark.commitOffset).to.equal(0, 'offset 2 settled by the retry; 0 still held');
    down.calls[1].resolve();
    await waitFor(() => part.watermark.commitOffset === 3);
  });

  it('narrows a permanent rejection among the messages not settled early', async () => {
    const { down, part, d, reg, track } = setup();
    const bad = entry(3).traces?.[0].traceId;
    d.dispatch(part, track(0, 1, 2, 3));
    const first = down.calls[0];
    for (const i of [0, 1, 2]) notice(first.batch, i);
    down.policy = (b) =>
      b.chunks.some((c) => c.traceId === bad) ? new PermanentError('ERR_TEST_BAD', 'bad span') : 'ok';
    first.reject(new PermanentError('ERR_TEST_BAD', 'bad span'));
    await waitFor(() => part.watermark.commitOffset === 4);
    expect(down.calls).to.have.length(1, 'the only message left is the culprit: skipped without another call');
    expect(await metric(reg, 'tusk_kafka_skipped_messages_total', { reason: 'permanent' })).to.equal(1);
  });

  it('ignores early notices after the partition was revoked', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0));
    part.revoked = true;
    notice(down.calls[0].batch, 0);
    expect(part.watermark.commitOffset).to.equal(0);
  });

  it('detaches messages still unsettled after detachAfterMs from their fetch, so the fetch can be freed', async () => {
    const clock = { now: 1_000 };
    const { down, part, d, reg } = setup({}, { detachAfterMs: 5_000, clock });
    // A "fetch response": three messages are views of one large buffer, as kafkajs decodes them.
    let fetch: Buffer | undefined = Buffer.alloc(1 << 20, 7);
    const fetchRef = new WeakRef(fetch.buffer);
    const entries: DeliveryEntry[] = [0, 1, 2].map((o) => {
      const value = fetch!.subarray(o * 100, o * 100 + 100);
      part.watermark.track(o, value.length);
      return {
        offset: o,
        key: fetch!.subarray(900_000 + o * 32, 900_000 + o * 32 + 32),
        value,
        traces: [{ traceId: o.toString(16).padStart(32, '0'), data: value, spanCount: 1 }],
      };
    });
    fetch = undefined;
    d.dispatch(part, entries);
    entries.length = 0;
    const hook = down.calls[0].batch.onChunkSettled;
    expect(hook).to.be.a('function');
    hook?.(1);
    down.calls.length = 0; // the fake downstream lets go of the batch, as the tail sampler does (it keeps its own copies and the notice)
    d.detachOld();
    expect(await metric(reg, 'tusk_kafka_detached_messages_total')).to.equal(0, 'too young');
    clock.now += 5_000;
    d.detachOld();
    d.detachOld();
    expect(await metric(reg, 'tusk_kafka_detached_messages_total')).to.equal(
      2,
      'offsets 0 and 2, once; offset 1 settled already',
    );
    expect(await metric(reg, 'tusk_kafka_detached_bytes_total')).to.equal(2 * (100 + 32));
    await gcSoon();
    expect(fetchRef.deref(), 'nothing of the dispatcher pins the fetch any more').to.equal(undefined);
    expect(part.watermark.commitOffset).to.equal(0);
    hook?.(0);
    hook?.(2);
    expect(part.watermark.commitOffset).to.equal(3, 'the notice still settles the detached messages');
  });

  it('a retry after detaching redelivers the copied bytes', async () => {
    const clock = { now: 1_000 };
    const { down, part, d } = setup({}, { detachAfterMs: 1_000, clock });
    const fetch = Buffer.from('xxxxHELLO-TRACEyyyy');
    part.watermark.track(0, 11);
    const value = fetch.subarray(4, 15);
    d.dispatch(part, [
      { offset: 0, key: null, value, traces: [{ traceId: 'a'.repeat(32), data: value, spanCount: 1 }] },
    ]);
    clock.now += 1_000;
    d.detachOld();
    fetch.fill(0); // the fetch's memory is reused: the copy must not see it
    down.policy = () => 'ok';
    down.calls[0].reject(new BackpressureError('busy', 1));
    await waitFor(() => part.watermark.commitOffset === 1);
    expect(Buffer.from(down.calls[1].batch.chunks[0].data).toString()).to.equal('HELLO-TRACE');
  });

  it('ignores settlements of a revoked partition', async () => {
    const { down, part, d, track } = setup();
    d.dispatch(part, track(0));
    part.revoked = true;
    down.calls[0].resolve();
    await sleep(1);
    expect(part.watermark.commitOffset).to.equal(0);
  });

  it('holds the partition clock at the oldest accept time of messages waiting for a redelivery', async () => {
    const { down, part, d } = setup();
    part.clock.observe({ writer: 'w', watermark: 5_000 }, Date.now());
    const e = entry(0);
    part.watermark.track(0, 1);
    const clock = part.clock;
    const chunks = (e.traces ?? []).map((c) => ({ ...c, eventTime: { clock, acceptedAt: 1_000 } }));
    let release: (() => void) | undefined;
    const second = new Promise<void>((r) => (release = r));
    down.policy = (_b, attempt) => (attempt === 0 ? new BackpressureError('busy', 30) : 'hold');
    d.dispatch(part, [{ ...e, traces: chunks }]);
    await waitFor(() => part.retrying === 1);
    expect(clock.watermark(Date.now())).to.equal(1_000, 'held while the message waits');
    await waitFor(() => down.calls.length === 2);
    down.calls[1].resolve();
    release?.();
    await second;
    await waitFor(() => part.retrying === 0);
    expect(clock.watermark(Date.now())).to.equal(5_000, 'released once delivered');
  });
});
