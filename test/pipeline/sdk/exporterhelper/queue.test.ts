// Unit tests of pipeline/sdk/exporterhelper/queue.ts: bounded concurrency, bounded waiting room by count and bytes
// (BackpressureError, never a drop), outcomes passed through, close and drain with a deadline.

import { expect } from 'chai';
import { BackpressureError, ShutdownError } from '../../../../pipeline/sdk/errors';
import { SendingQueue } from '../../../../pipeline/sdk/exporterhelper/queue';

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(e: unknown): void;
}
function gate(): Gate {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('pipeline/sdk/exporterhelper/queue', () => {
  it('runs at most num_consumers tasks at once and settles each with its own outcome', async () => {
    const q = new SendingQueue({ component: 't', numConsumers: 2, maxItems: 10, maxBytes: 0, retryAfterMs: 100 });
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 5 }, gate);
    const results = gates.map((g, i) =>
      q
        .submit(1, async () => {
          running++;
          peak = Math.max(peak, running);
          try {
            await g.promise;
          } finally {
            running--;
          }
          if (i === 3) throw new Error('task 3 failed');
        })
        .then(
          () => 'ok',
          (e: Error) => e.message,
        ),
    );
    await tick();
    expect(q.running).to.equal(2);
    expect(q.waiting).to.equal(3);
    gates.forEach((g) => g.open());
    expect(await Promise.all(results)).to.deep.equal(['ok', 'ok', 'ok', 'task 3 failed', 'ok']);
    expect(peak).to.equal(2);
    expect(q.waiting).to.equal(0);
  });

  it('rejects with BackpressureError (retriable, with a delay) when queue_size batches wait', async () => {
    const changes: number[] = [];
    const q = new SendingQueue({
      component: 'exporters.x',
      numConsumers: 1,
      maxItems: 2,
      maxBytes: 0,
      retryAfterMs: 750,
      onChange: (n) => changes.push(n),
    });
    const g = gate();
    const accepted = [q.submit(1, () => g.promise), q.submit(1, () => g.promise), q.submit(1, () => g.promise)];
    const err = await q.submit(1, async () => {}).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackpressureError);
    expect((err as BackpressureError).retriable).to.equal(true);
    expect((err as BackpressureError).retryAfterMs).to.equal(750);
    expect((err as BackpressureError).code).to.equal('ERR_PIPELINE_BACKPRESSURE');
    expect(q.waiting).to.equal(2);
    g.open();
    await Promise.all(accepted);
    expect(changes).to.include(2);
    expect(changes[changes.length - 1]).to.equal(0);
    // Room again once drained.
    await q.submit(1, async () => {});
  });

  it('bounds the waiting bytes by queue_bytes, but always admits one task into an empty waiting room', async () => {
    const q = new SendingQueue({ component: 't', numConsumers: 1, maxItems: 0, maxBytes: 100, retryAfterMs: 1 });
    const g = gate();
    const running = q.submit(500, () => g.promise);
    const big = q.submit(500, () => Promise.resolve());
    expect(q.waitingBytes).to.equal(500);
    const err = await q.submit(1, async () => {}).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BackpressureError);
    g.open();
    await Promise.all([running, big]);
    expect(q.waitingBytes).to.equal(0);
  });

  it('rejects new tasks with ShutdownError after close, while accepted ones finish', async () => {
    const q = new SendingQueue({
      component: 'exporters.y',
      numConsumers: 1,
      maxItems: 5,
      maxBytes: 0,
      retryAfterMs: 1,
    });
    const g = gate();
    const first = q.submit(1, () => g.promise);
    const second = q.submit(1, async () => {});
    q.close();
    const err = await q.submit(1, async () => {}).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ShutdownError);
    expect((err as ShutdownError).retriable).to.equal(true);
    g.open();
    await Promise.all([first, second]);
  });

  it('drain waits for running and waiting tasks and returns 0 when all finished', async () => {
    const q = new SendingQueue({ component: 't', numConsumers: 1, maxItems: 5, maxBytes: 0, retryAfterMs: 1 });
    const done: number[] = [];
    const all = [1, 2, 3].map((i) =>
      q.submit(1, async () => {
        await new Promise((r) => setTimeout(r, 20));
        done.push(i);
      }),
    );
    expect(await q.drain(2000)).to.equal(0);
    expect(done).to.deep.equal([1, 2, 3]);
    await Promise.all(all);
    expect(await q.drain(10)).to.equal(0);
  });

  it('drain gives up at its deadline: waiting tasks reject with ShutdownError and never run', async () => {
    const q = new SendingQueue({ component: 't', numConsumers: 1, maxItems: 5, maxBytes: 0, retryAfterMs: 1 });
    const g = gate();
    let secondRan = false;
    const first = q.submit(1, () => g.promise);
    const second = q
      .submit(1, async () => {
        secondRan = true;
      })
      .catch((e: unknown) => e);
    const started = Date.now();
    expect(await q.drain(50)).to.equal(2);
    expect(Date.now() - started).to.be.below(500);
    expect(await second).to.be.instanceOf(ShutdownError);
    g.open();
    await first;
    expect(secondRan).to.equal(false);
  });

  it('passes a synchronous throw of a task on as a rejection', async () => {
    const q = new SendingQueue({ component: 't', numConsumers: 1, maxItems: 1, maxBytes: 0, retryAfterMs: 1 });
    const err = await q
      .submit(1, () => {
        throw new Error('sync');
      })
      .catch((e: Error) => e.message);
    expect(err).to.equal('sync');
    expect(q.running).to.equal(0);
  });
});
