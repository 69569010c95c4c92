// Heap growth of a small heap: keeps V8 from running a full mark-compact every few hundred milliseconds in a
// process whose JavaScript heap is small but which moves many bytes through Buffers (an ingest tier).
//
// V8 counts the ArrayBuffer bytes allocated since the last mark-compact against the old generation's headroom
// (its allocation limit minus the live heap), and starts incremental marking once what is left of that headroom
// is smaller than the young generation. The limit after a mark-compact is the live size times a factor V8
// derives from how fast it marks (often 1.1-1.7 here) plus the young generation, so a 22 MB heap receiving
// 17 MB/s of request bytes (copied a few times on their way to Kafka) ran out of headroom every 150-300 ms.
// While the heap is small, this module sets the factor to 4 (V8's own maximum for such heaps) after each
// mark-compact, and hands the choice back to V8 once the heap has grown past the threshold, so that a large
// heap (the sampling tier's buffer) keeps V8's limit and its memory.

import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

/** SMALL_HEAP_BYTES: below this many bytes of heap in use after a mark-compact, the heap counts as small. */
export const SMALL_HEAP_BYTES = 32 << 20;
/** SMALL_HEAP_GROWING_PERCENT: V8's `--heap-growing-percent` for a small heap (a factor of 4). */
export const SMALL_HEAP_GROWING_PERCENT = 300;

/**
 * growingPercentFor returns the `--heap-growing-percent` for a heap with `usedBytes` in use after a
 * mark-compact: SMALL_HEAP_GROWING_PERCENT below `smallHeapBytes`, else 0 (V8 chooses the factor).
 */
export function growingPercentFor(usedBytes: number, smallHeapBytes = SMALL_HEAP_BYTES): number {
  return usedBytes < smallHeapBytes ? SMALL_HEAP_GROWING_PERCENT : 0;
}

/** Where HeapGrowth reads the heap and sets V8 flags (tests replace both). */
export interface HeapGrowthHost {
  /** Bytes of the JavaScript heap in use now. */
  usedHeapBytes(): number;
  /** Sets V8 flags (v8.setFlagsFromString). */
  setFlags(flags: string): void;
}

const nodeHost: HeapGrowthHost = {
  usedHeapBytes: () => v8.getHeapStatistics().used_heap_size,
  setFlags: (flags) => v8.setFlagsFromString(flags),
};

/**
 * HeapGrowth sets V8's heap growing factor from the heap in use after each mark-compact (see the file header).
 * The factor V8 computes at a mark-compact applies until the next one, so each decision takes effect at the
 * mark-compact after the one it was made from.
 */
export class HeapGrowth {
  private _percent = 0;
  private _observer: PerformanceObserver | undefined;

  constructor(
    private readonly _host: HeapGrowthHost = nodeHost,
    private readonly _smallHeapBytes = SMALL_HEAP_BYTES,
  ) {}

  /** percent is the `--heap-growing-percent` last set (0: V8's own factor). */
  get percent(): number {
    return this._percent;
  }

  /** update sets the flag for the heap in use now, when it differs from the one set. */
  update(): void {
    const percent = growingPercentFor(this._host.usedHeapBytes(), this._smallHeapBytes);
    if (percent === this._percent) return;
    this._host.setFlags(`--heap-growing-percent=${percent}`);
    this._percent = percent;
  }

  /** start sets the flag now and after every mark-compact. */
  start(): void {
    this.update();
    if (this._observer) return;
    this._observer = new PerformanceObserver((list) => {
      if (list.getEntries().some(isMarkCompact)) this.update();
    });
    this._observer.observe({ entryTypes: ['gc'] });
  }

  /** stop stops following mark-compacts and gives the choice of the factor back to V8. */
  stop(): void {
    this._observer?.disconnect();
    this._observer = undefined;
    if (this._percent !== 0) this._host.setFlags('--heap-growing-percent=0');
    this._percent = 0;
  }
}

function isMarkCompact(e: PerformanceEntry): boolean {
  const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR;
}
