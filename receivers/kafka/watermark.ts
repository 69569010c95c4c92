// SettledWatermark tracks, for ONE partition, which dispatched offsets have settled and so which offset
// may be committed: the first offset not yet settled (all before it are done), or the end of what was
// fetched when everything settled. Settlement may come in any order; offsets may have gaps (compaction,
// transaction markers); a message skipped on purpose (permanent error) is simply settled.
// Committing this offset is what makes a crash replay from the oldest unsettled message.

/** SettledWatermark is a pure per-partition tracker; it does no I/O. */
export class SettledWatermark {
  // Tracked offsets in increasing order from `_head`; entries before `_head` are settled and dropped.
  private _offsets: number[] = [];
  private _weights: number[] = [];
  private _settled: boolean[] = [];
  private _head = 0;
  private _end: number | undefined;
  private _unsettledCount = 0;
  private _unsettledWeight = 0;

  /** @param start the offset the partition is consumed from (the committed offset), when known. */
  constructor(start?: number) {
    this._end = start;
  }

  /** unsettledCount is the number of tracked offsets not yet settled. */
  get unsettledCount(): number {
    return this._unsettledCount;
  }

  /** unsettledWeight is the sum of the weights (bytes) of the offsets not yet settled. */
  get unsettledWeight(): number {
    return this._unsettledWeight;
  }

  /** nextOffset is the offset after everything tracked or skipped so far (where fetching continues); undefined before any. */
  get nextOffset(): number | undefined {
    return this._end;
  }

  /**
   * commitOffset is the offset to commit: the first unsettled tracked offset, or `nextOffset` when
   * everything tracked has settled; undefined when nothing was tracked and no start was given.
   */
  get commitOffset(): number | undefined {
    return this._head < this._offsets.length ? this._offsets[this._head] : this._end;
  }

  /**
   * track registers a dispatched offset (unsettled) with a weight (e.g. its bytes).
   * @throws RangeError when `offset` is not above everything tracked or skipped before (a duplicate).
   */
  track(offset: number, weight = 0): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
    if (this._end !== undefined && offset < this._end)
      throw new RangeError(`offset ${offset} is below the next expected offset ${this._end}`);
    this._offsets.push(offset);
    this._weights.push(weight);
    this._settled.push(false);
    this._end = offset + 1;
    this._unsettledCount++;
    this._unsettledWeight += weight;
  }

  /**
   * advance records that everything below `end` was fetched: offsets in the gap after the last tracked one
   * (filtered transaction markers, aborted records) need no settlement. It never moves backwards.
   */
  advance(end: number): void {
    if (this._end === undefined || end > this._end) this._end = end;
  }

  /** isTracked tells whether `offset` is tracked and not yet settled. */
  isUnsettled(offset: number): boolean {
    const i = this._indexOf(offset);
    return i >= 0 && !this._settled[i];
  }

  /**
   * settle marks a tracked offset settled (delivered, or skipped on purpose). Returns true if it was
   * unsettled; false for an offset already settled or never tracked (both harmless).
   */
  settle(offset: number): boolean {
    const i = this._indexOf(offset);
    if (i < 0 || this._settled[i]) return false;
    this._settled[i] = true;
    this._unsettledCount--;
    this._unsettledWeight -= this._weights[i];
    while (this._head < this._offsets.length && this._settled[this._head]) this._head++;
    this._compact();
    return true;
  }

  private _indexOf(offset: number): number {
    let lo = this._head;
    let hi = this._offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this._offsets[mid];
      if (v === offset) return mid;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private _compact(): void {
    if (this._head === this._offsets.length) {
      this._offsets = [];
      this._weights = [];
      this._settled = [];
      this._head = 0;
    } else if (this._head > 1024 && this._head * 2 > this._offsets.length) {
      this._offsets = this._offsets.slice(this._head);
      this._weights = this._weights.slice(this._head);
      this._settled = this._settled.slice(this._head);
      this._head = 0;
    }
  }
}
