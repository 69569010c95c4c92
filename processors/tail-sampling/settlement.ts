// The promise of one consumeTraces/consumeLogs call, settled from its chunks' waiters. A batch of a few
// hundred chunks used to cost a Promise with two resolving functions and a waiter object per chunk, plus
// Promise.allSettled's two closures and result object per chunk, all alive for the seconds a trace is held
// (so promoted by the GC, then collected by major GCs): now one small waiter per chunk and one promise per
// batch. The outcome is the same: resolved when every chunk was settled without an error; otherwise
// rejected, with a retriable error when any chunk failed retriably (the batch must be redelivered), else
// with a permanent one.
// A batch may also carry an early per-chunk notice (`onChunkSettled`, see pipeline/sdk/trace-batch.ts): each
// waiter created for a chunk with its index reports that chunk when it resolves, so the Kafka receiver can
// settle the offset of a message whose trace was decided while a slower trace of the same fetch still waits.

import { isPermanent } from '../../pipeline/sdk/errors';
import type { ChunkSettledHook } from '../../pipeline/sdk/trace-batch';
import type { Waiter } from './trace-buffer';

/** BatchSettlement counts a batch's unsettled chunks; `promise` settles once the batch is sealed and the count is 0. */
export class BatchSettlement {
  readonly promise: Promise<void>;
  private _resolve!: () => void;
  private _reject!: (err: unknown) => void;
  private _pending = 0;
  private _sealed = false;
  private _failed = false;
  private _retriable: unknown;
  private _permanent: unknown;

  /** @param _notice the batch's early per-chunk notice, if it has one. */
  constructor(private readonly _notice?: ChunkSettledHook) {
    this.promise = new Promise<void>((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
  }

  /**
   * waiter returns the settle handle of one more chunk (each handle counts once, however often it is
   * called). Given the chunk's index in the batch, resolving it also sends the batch's early notice.
   */
  waiter(index = -1): Waiter {
    this._pending++;
    return new ChunkWaiter(this, index);
  }

  /** follow settles one more chunk with `p`: resolved or rejected as `p` is. */
  follow(p: Promise<void>): void {
    const w = this.waiter();
    p.then(
      () => w.resolve(),
      (err: unknown) => w.reject(err),
    );
  }

  /** settledNow reports a chunk that needed no holding (nothing to keep, or late to a dropped trace) as settled. */
  settledNow(index: number): void {
    this.chunkSettled(false, undefined, index, false);
  }

  /** fail settles one more chunk as failed with `err` now (e.g. a malformed chunk). */
  fail(err: unknown): void {
    this.waiter().reject(err);
  }

  /** seal says every chunk has its waiter; returns the batch's promise. */
  seal(): Promise<void> {
    this._sealed = true;
    this._settleIfDone();
    return this.promise;
  }

  /** @internal Called once per waiter by ChunkWaiter. */
  chunkSettled(failed: boolean, err: unknown, index: number, counted = true): void {
    if (!failed && index >= 0 && this._notice) {
      try {
        this._notice(index);
      } catch {
        // The sender's bookkeeping failed: the chunk still settles with the batch's promise.
      }
    }
    if (failed) {
      this._failed = true;
      if (isPermanent(err)) this._permanent ??= err;
      else this._retriable ??= err;
    }
    if (!counted) return;
    this._pending--;
    this._settleIfDone();
  }

  private _settleIfDone(): void {
    if (!this._sealed || this._pending > 0) return;
    if (!this._failed) this._resolve();
    else this._reject(this._retriable ?? this._permanent);
  }
}

/** ChunkWaiter is one chunk's handle: the first resolve or reject counts, later calls are ignored (like a promise's). */
class ChunkWaiter implements Waiter {
  private _done = false;

  constructor(
    private readonly _batch: BatchSettlement,
    private readonly _index: number,
  ) {}

  resolve(): void {
    if (this._done) return;
    this._done = true;
    this._batch.chunkSettled(false, undefined, this._index);
  }

  reject(err: unknown): void {
    if (this._done) return;
    this._done = true;
    this._batch.chunkSettled(true, err, this._index);
  }
}
