// The in-flight byte budget of the otlp receiver: request bytes held from arrival until the answer,
// shared by the HTTP and gRPC transports, so memory stays bounded when downstream is slow.

import type { Gauge } from 'prom-client';

/** InflightBudget is a counter with a ceiling; a limit of 0 means no ceiling (still counted). */
export class InflightBudget {
  private _used = 0;

  constructor(
    private readonly _limit: number,
    private readonly _gauge?: Gauge<string>,
    private readonly _labels: Record<string, string> = {},
  ) {}

  /** used is the number of bytes held now. */
  get used(): number {
    return this._used;
  }

  /** tryAcquire takes `n` bytes if they fit under the limit and tells whether it did. */
  tryAcquire(n: number): boolean {
    if (n <= 0) return true;
    if (this._limit > 0 && this._used + n > this._limit) return false;
    this._used += n;
    this._gauge?.set(this._labels, this._used);
    return true;
  }

  /** release gives back `n` bytes taken with tryAcquire. */
  release(n: number): void {
    if (n <= 0) return;
    this._used = Math.max(0, this._used - n);
    this._gauge?.set(this._labels, this._used);
  }
}
