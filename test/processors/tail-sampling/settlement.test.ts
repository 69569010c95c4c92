// BatchSettlement (settlement.ts): the promise of one consumeTraces/consumeLogs call resolves once every
// chunk's waiter resolved, rejects (retriable error first, else permanent) once all settled and any failed,
// and counts each waiter once however often it is settled; the batch's early per-chunk notice is sent for
// each chunk that resolves, never for one that fails.

import { expect } from 'chai';
import { PermanentError } from '../../../pipeline/sdk/errors';
import { BatchSettlement } from '../../../processors/tail-sampling/settlement';
import { status } from './helpers/harness';

describe('tail_sampling BatchSettlement', () => {
  it('resolves at seal when no chunk waits, and only after the last waiter otherwise', async () => {
    expect(await status(new BatchSettlement().seal())).to.equal('resolved');
    const s = new BatchSettlement();
    const a = s.waiter();
    const b = s.waiter();
    const p = s.seal();
    a.resolve();
    a.resolve(); // counted once
    expect(await status(p)).to.equal('pending');
    b.resolve();
    expect(await status(p)).to.equal('resolved');
  });

  it('rejects with a retriable error when any chunk failed retriably, whatever the order, after all settled', async () => {
    const permanent = new PermanentError('ERR_TEST_BAD_CHUNK', 'bad chunk');
    const retriable = new Error('jaeger down');
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const s = new BatchSettlement();
      const ws = [s.waiter(), s.waiter(), s.waiter()];
      const p = s.seal();
      p.catch(() => undefined);
      const outcomes = [() => ws[0].reject(permanent), () => ws[1].reject(retriable), () => ws[2].resolve()];
      for (const i of order.slice(0, 2)) outcomes[i]();
      expect(await status(p), `order ${order}`).to.equal('pending');
      outcomes[order[2]]();
      const caught = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(caught, `order ${order}`).to.equal(retriable);
    }
  });

  it('rejects with the permanent error when only permanent failures happened; a settled waiter cannot be failed later', async () => {
    const permanent = new PermanentError('ERR_TEST_BAD_CHUNK', 'bad chunk');
    const s = new BatchSettlement();
    s.fail(permanent); // before seal: waits for the seal
    const w = s.waiter();
    w.resolve();
    w.reject(new Error('too late'));
    const caught = await s.seal().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(caught).to.equal(permanent);
  });

  it('sends the early notice with the index of each waiter that resolves, once, and never for a failure', async () => {
    const told: number[] = [];
    const s = new BatchSettlement((i) => told.push(i));
    const a = s.waiter(0);
    const b = s.waiter(1);
    const anonymous = s.waiter();
    const p = s.seal();
    b.resolve();
    b.resolve();
    a.reject(new Error('jaeger down'));
    a.resolve();
    s.settledNow(2);
    expect(told).to.deep.equal([1, 2]);
    expect(await status(p)).to.equal('pending', 'settledNow does not count as a waiter');
    anonymous.resolve();
    expect(told).to.have.length(2, 'a waiter made without an index sends no notice');
    expect(
      await p.then(
        () => 'resolved',
        () => 'rejected',
      ),
    ).to.equal('rejected');
  });

  it('a throwing notice does not stop the batch from settling', async () => {
    const s = new BatchSettlement(() => {
      throw new Error('sender bookkeeping broke');
    });
    const w = s.waiter(0);
    const p = s.seal();
    w.resolve();
    expect(await status(p)).to.equal('resolved');
  });

  it('follows a promise as one more chunk', async () => {
    const s = new BatchSettlement();
    let release!: () => void;
    s.follow(new Promise<void>((r) => (release = r)));
    const p = s.seal();
    expect(await status(p)).to.equal('pending');
    release();
    expect(await status(p)).to.equal('resolved');
    const f = new BatchSettlement();
    const err = new Error('logs exporter down');
    f.follow(Promise.reject(err));
    expect(
      await f.seal().then(
        () => undefined,
        (e: unknown) => e,
      ),
    ).to.equal(err);
  });
});
