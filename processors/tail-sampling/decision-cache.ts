// A bounded LRU of recent decisions, so late spans and logs of a trace decided here follow its decision
// without asking the ledger, and explainDecision answers without I/O for recent traces.

import type { LedgerRecord } from './state/types';

/** DecisionCache keeps the last `capacity` decisions (least recently used evicted first). */
export class DecisionCache {
  private readonly _map = new Map<string, LedgerRecord>();

  constructor(private readonly _capacity: number) {}

  get size(): number {
    return this._map.size;
  }

  /** get returns a decision and marks it recently used. */
  get(traceId: string): LedgerRecord | undefined {
    const r = this._map.get(traceId);
    if (r !== undefined) {
      this._map.delete(traceId);
      this._map.set(traceId, r);
    }
    return r;
  }

  /** set stores a decision, evicting the least recently used beyond capacity. */
  set(record: LedgerRecord): void {
    this._map.delete(record.traceId);
    this._map.set(record.traceId, record);
    while (this._map.size > this._capacity) {
      const oldest = this._map.keys().next().value as string;
      this._map.delete(oldest);
    }
  }
}
