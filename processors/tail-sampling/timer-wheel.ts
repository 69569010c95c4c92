// A hashed timer wheel keyed by absolute slot number: O(1) schedule, reschedule and cancel, and one pass
// per tick over the slots that came due. Used for every trace deadline instead of one setTimeout per trace.

/** TimerWheel holds ids with a due time, with a resolution of `slotMs`. An id is never due early and at most one slot late. */
export class TimerWheel {
  private readonly _slots = new Map<number, Set<string>>();
  private readonly _slotOf = new Map<string, number>();
  /** Last slot already handed out by takeDue. */
  private _cursor: number;

  constructor(
    private readonly _slotMs: number,
    nowMs: number,
  ) {
    this._cursor = Math.floor(nowMs / _slotMs) - 1;
  }

  /** Number of scheduled ids. */
  get size(): number {
    return this._slotOf.size;
  }

  /** schedule sets (or moves) the due time of an id. A time in the past is due at the next takeDue. */
  schedule(id: string, atMs: number): void {
    const slot = Math.max(Math.ceil(atMs / this._slotMs), this._cursor + 1);
    const old = this._slotOf.get(id);
    if (old === slot) return;
    if (old !== undefined) this._remove(id, old);
    let set = this._slots.get(slot);
    if (!set) this._slots.set(slot, (set = new Set()));
    set.add(id);
    this._slotOf.set(id, slot);
  }

  /** cancel forgets an id; unknown ids are ignored. */
  cancel(id: string): void {
    const old = this._slotOf.get(id);
    if (old !== undefined) this._remove(id, old);
  }

  /** takeDue removes and returns every id due at `nowMs`, earliest slot first. */
  takeDue(nowMs: number): string[] {
    const nowSlot = Math.floor(nowMs / this._slotMs);
    if (nowSlot <= this._cursor) return [];
    const out: string[] = [];
    const take = (slot: number): void => {
      const set = this._slots.get(slot);
      if (!set) return;
      this._slots.delete(slot);
      for (const id of set) {
        this._slotOf.delete(id);
        out.push(id);
      }
    };
    if (nowSlot - this._cursor <= this._slots.size * 4 + 64) {
      for (let s = this._cursor + 1; s <= nowSlot; s++) take(s);
    } else {
      // A long pause (or a fake clock jump): visit the occupied slots instead of every slot in between.
      const due = [...this._slots.keys()].filter((s) => s <= nowSlot).sort((a, b) => a - b);
      for (const s of due) take(s);
    }
    this._cursor = nowSlot;
    return out;
  }

  private _remove(id: string, slot: number): void {
    const set = this._slots.get(slot);
    if (set) {
      set.delete(id);
      if (set.size === 0) this._slots.delete(slot);
    }
    this._slotOf.delete(id);
  }
}
