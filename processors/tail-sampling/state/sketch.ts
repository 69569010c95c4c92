// LatencySketch: a mergeable quantile sketch with relative-error guarantees, in the style of DDSketch
// (log-spaced buckets, dense counts, collapsing the lowest buckets when a bucket bound is hit). Used for
// the per-(service, operation) latency windows of the sampling state, locally and (serialized, one per replica) in
// Redis, so that sketches of many replicas and time slices merge exactly.
//
// Guarantees: for a value v >= minIndexableValue and any quantile q, the estimate returned for the rank
// that v occupies is within `relativeAccuracy` of v (unless lowest buckets were collapsed, which only
// affects the low quantiles). Counts are non-negative integers, so merge and subtract are exact.

/** SketchOptions parameterize a sketch. Sketches can only be merged when their options are equal. */
export interface SketchOptions {
  /** Relative accuracy alpha of quantile estimates, in (0, 1). Default 0.01 (1 %). */
  relativeAccuracy?: number;
  /** Largest number of buckets kept; beyond it the lowest buckets are collapsed together. Default 2048. */
  maxBuckets?: number;
  /** Values below this (including 0 and negatives) count in the zero bucket and read back as 0. Default 1e-9. */
  minIndexableValue?: number;
}

/** DEFAULT_RELATIVE_ACCURACY etc. are the sketch defaults. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;
export const DEFAULT_MAX_BUCKETS = 2048;
export const DEFAULT_MIN_INDEXABLE_VALUE = 1e-9;

const FORMAT_VERSION = 1;
const FLAG_CUSTOM_PARAMS = 1;
/** A run of zero buckets at least this long splits the serialized counts into two runs. */
const MIN_GAP_FOR_NEW_RUN = 3;

/** LatencySketch is a mergeable, log-bucketed histogram answering quantiles with bounded relative error. */
export class LatencySketch {
  readonly relativeAccuracy: number;
  readonly maxBuckets: number;
  readonly minIndexableValue: number;
  private readonly _gamma: number;
  private readonly _lnGamma: number;
  /** Dense counts; _counts[i] is bucket (_offset + i). */
  private _counts: Float64Array = new Float64Array(0);
  private _offset = 0;
  /** Lowest and highest non-empty bucket index; _minIndex > _maxIndex means no indexed bucket. */
  private _minIndex = 1;
  private _maxIndex = 0;
  private _zeroCount = 0;
  private _count = 0;

  constructor(options: SketchOptions = {}) {
    const alpha = options.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY;
    const maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    const minValue = options.minIndexableValue ?? DEFAULT_MIN_INDEXABLE_VALUE;
    if (!(alpha > 0 && alpha < 1)) throw new RangeError(`relativeAccuracy must be in (0, 1), got ${alpha}`);
    if (!Number.isInteger(maxBuckets) || maxBuckets < 2)
      throw new RangeError(`maxBuckets must be an integer >= 2, got ${maxBuckets}`);
    if (!(minValue > 0 && Number.isFinite(minValue)))
      throw new RangeError(`minIndexableValue must be > 0, got ${minValue}`);
    this.relativeAccuracy = alpha;
    this.maxBuckets = maxBuckets;
    this.minIndexableValue = minValue;
    this._gamma = (1 + alpha) / (1 - alpha);
    this._lnGamma = Math.log(this._gamma);
  }

  /** Total number of values recorded. */
  get count(): number {
    return this._count;
  }

  /** Number of values recorded in the zero bucket. */
  get zeroCount(): number {
    return this._zeroCount;
  }

  /** True when nothing was recorded. */
  isEmpty(): boolean {
    return this._count === 0;
  }

  /** Number of non-empty buckets (including the zero bucket); the size that serialization grows with. */
  bucketCount(): number {
    let n = this._zeroCount > 0 ? 1 : 0;
    for (let i = this._minIndex; i <= this._maxIndex; i++) if (this._counts[i - this._offset] > 0) n++;
    return n;
  }

  /** Bucket index of a value (values below minIndexableValue have no index: they go to the zero bucket). */
  indexOf(value: number): number {
    return Math.ceil(Math.log(value) / this._lnGamma);
  }

  /** Representative value of bucket `index`: within relativeAccuracy of every value the bucket holds. */
  valueOf(index: number): number {
    return (2 * Math.pow(this._gamma, index)) / (this._gamma + 1);
  }

  /** Records `value` `n` times (n a positive integer). NaN is ignored; values below minIndexableValue count as 0. */
  add(value: number, n = 1): void {
    if (Number.isNaN(value)) return;
    checkCount(n);
    if (value < this.minIndexableValue) {
      this._zeroCount += n;
      this._count += n;
      return;
    }
    this.addToBucket(this.indexOf(Math.min(value, Number.MAX_VALUE)), n);
  }

  /** Adds `n` to bucket `index` directly (used by deserialize and merges). */
  addToBucket(index: number, n: number): void {
    checkCount(n);
    if (n === 0) return;
    if (!Number.isInteger(index)) throw new RangeError(`bucket index must be an integer, got ${index}`);
    this._count += n;
    if (this._minIndex > this._maxIndex) {
      this._ensureRange(index, index);
      this._minIndex = this._maxIndex = index;
      this._counts[index - this._offset] += n;
      return;
    }
    let target = index;
    if (index > this._maxIndex) {
      const lowest = index - this.maxBuckets + 1;
      if (lowest > this._minIndex) {
        // Fold everything below `lowest` into it before growing, so the array stays bounded.
        let moved = 0;
        const stop = Math.min(lowest - 1, this._maxIndex);
        for (let i = this._minIndex; i <= stop; i++) {
          moved += this._counts[i - this._offset];
          this._counts[i - this._offset] = 0;
        }
        this._minIndex = lowest;
        if (this._maxIndex < lowest) this._maxIndex = lowest;
        this._ensureRange(lowest, index);
        this._counts[lowest - this._offset] += moved;
      } else {
        this._ensureRange(this._minIndex, index);
      }
      this._maxIndex = index;
    } else if (index < this._minIndex) {
      const lowest = this._maxIndex - this.maxBuckets + 1;
      target = Math.max(index, lowest);
      if (target < this._minIndex) {
        this._ensureRange(target, this._maxIndex);
        this._minIndex = target;
      }
    }
    this._counts[target - this._offset] += n;
  }

  /** Adds `n` to the zero bucket directly. */
  addZero(n: number): void {
    checkCount(n);
    this._zeroCount += n;
    this._count += n;
  }

  /** Merges `other` into this sketch (the union of both sets of values). Options must match. */
  merge(other: LatencySketch): this {
    this._checkCompatible(other);
    if (other._zeroCount > 0) this.addZero(other._zeroCount);
    for (let i = other._minIndex; i <= other._maxIndex; i++) {
      const c = other._counts[i - other._offset];
      if (c > 0) this.addToBucket(i, c);
    }
    return this;
  }

  /**
   * Removes `other`'s counts from this sketch (the inverse of merge). `other` must be contained in this
   * sketch (e.g. a delta that was merged in earlier, before any collapse); a bucket never goes below 0.
   */
  subtract(other: LatencySketch): this {
    this._checkCompatible(other);
    const z = Math.min(other._zeroCount, this._zeroCount);
    this._zeroCount -= z;
    this._count -= z;
    for (let i = other._minIndex; i <= other._maxIndex; i++) {
      const c = other._counts[i - other._offset];
      if (c <= 0) continue;
      if (this._minIndex > this._maxIndex) break;
      const j = Math.min(Math.max(i, this._minIndex), this._maxIndex);
      const have = this._counts[j - this._offset];
      const take = Math.min(have, c);
      this._counts[j - this._offset] = have - take;
      this._count -= take;
    }
    this._trim();
    return this;
  }

  /** Empties the sketch. */
  clear(): void {
    this._counts = new Float64Array(0);
    this._offset = 0;
    this._minIndex = 1;
    this._maxIndex = 0;
    this._zeroCount = 0;
    this._count = 0;
  }

  /** A deep copy. */
  clone(): LatencySketch {
    const c = new LatencySketch(this.options());
    c._counts = this._counts.slice();
    c._offset = this._offset;
    c._minIndex = this._minIndex;
    c._maxIndex = this._maxIndex;
    c._zeroCount = this._zeroCount;
    c._count = this._count;
    return c;
  }

  /** The options this sketch was built with. */
  options(): Required<SketchOptions> {
    return {
      relativeAccuracy: this.relativeAccuracy,
      maxBuckets: this.maxBuckets,
      minIndexableValue: this.minIndexableValue,
    };
  }

  /** Calls `fn(index, count)` for every non-empty indexed bucket, ascending (the zero bucket is `zeroCount`). */
  forEachBucket(fn: (index: number, count: number) => void): void {
    for (let i = this._minIndex; i <= this._maxIndex; i++) {
      const c = this._counts[i - this._offset];
      if (c > 0) fn(i, c);
    }
  }

  /** Estimate of quantile q (0..1) with relative error <= relativeAccuracy; NaN when empty. */
  quantile(q: number): number {
    return this.quantiles([q])[0];
  }

  /** Estimates of several quantiles in one pass; `qs` may be in any order. NaN when empty. */
  quantiles(qs: readonly number[]): number[] {
    const out = new Array<number>(qs.length).fill(Number.NaN);
    if (this._count === 0) return out;
    for (const q of qs) if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
    const order = qs.map((_, i) => i).sort((a, b) => qs[a] - qs[b]);
    let k = 0;
    let cum = this._zeroCount;
    const rankOf = (q: number): number => q * (this._count - 1);
    while (k < order.length && cum > rankOf(qs[order[k]])) out[order[k++]] = 0;
    for (let i = this._minIndex; i <= this._maxIndex && k < order.length; i++) {
      const c = this._counts[i - this._offset];
      if (c === 0) continue;
      cum += c;
      while (k < order.length && cum > rankOf(qs[order[k]])) out[order[k++]] = this.valueOf(i);
    }
    const top = this._minIndex <= this._maxIndex ? this.valueOf(this._maxIndex) : 0;
    while (k < order.length) out[order[k++]] = top;
    return out;
  }

  /**
   * Compact binary form: version, flags, [custom options], zero count, then runs of consecutive buckets
   * (zigzag start delta, length, counts), all as varints. Typical latency sketches take 100-400 bytes.
   */
  serialize(): Buffer {
    const w = new VarintWriter();
    const custom =
      this.relativeAccuracy !== DEFAULT_RELATIVE_ACCURACY ||
      this.maxBuckets !== DEFAULT_MAX_BUCKETS ||
      this.minIndexableValue !== DEFAULT_MIN_INDEXABLE_VALUE;
    w.byte(FORMAT_VERSION);
    w.byte(custom ? FLAG_CUSTOM_PARAMS : 0);
    if (custom) {
      w.float64(this.relativeAccuracy);
      w.uint(this.maxBuckets);
      w.float64(this.minIndexableValue);
    }
    w.uint(this._zeroCount);
    const runs: Array<[number, number]> = [];
    let i = this._minIndex;
    while (i <= this._maxIndex) {
      if (this._counts[i - this._offset] === 0) {
        i++;
        continue;
      }
      let end = i;
      let zeros = 0;
      for (let j = i + 1; j <= this._maxIndex; j++) {
        if (this._counts[j - this._offset] === 0) {
          if (++zeros >= MIN_GAP_FOR_NEW_RUN) break;
        } else {
          end = j;
          zeros = 0;
        }
      }
      runs.push([i, end]);
      i = end + 1;
    }
    w.uint(runs.length);
    let prev = 0;
    for (const [start, end] of runs) {
      w.sint(start - prev);
      w.uint(end - start + 1);
      for (let j = start; j <= end; j++) w.uint(this._counts[j - this._offset]);
      prev = end;
    }
    return w.finish();
  }

  /** Base64 of `serialize()`, for string-valued stores. */
  toBase64(): string {
    return this.serialize().toString('base64');
  }

  /** Rebuilds a sketch from `serialize()` output; throws RangeError on malformed input. */
  static deserialize(bytes: Uint8Array): LatencySketch {
    const r = new VarintReader(bytes);
    const version = r.byte();
    if (version !== FORMAT_VERSION) throw new RangeError(`unsupported sketch format version ${version}`);
    const flags = r.byte();
    const options: SketchOptions = {};
    if (flags & FLAG_CUSTOM_PARAMS) {
      options.relativeAccuracy = r.float64();
      options.maxBuckets = r.uint();
      options.minIndexableValue = r.float64();
    }
    const s = new LatencySketch(options);
    const zero = r.uint();
    if (zero > 0) s.addZero(zero);
    const runs = r.uint();
    let prev = 0;
    for (let k = 0; k < runs; k++) {
      const start = prev + r.sint();
      const len = r.uint();
      for (let j = 0; j < len; j++) {
        const c = r.uint();
        if (c > 0) s.addToBucket(start + j, c);
      }
      prev = start + len - 1;
    }
    if (!r.done()) throw new RangeError('trailing bytes after sketch');
    return s;
  }

  /** Inverse of `toBase64()`. */
  static fromBase64(text: string): LatencySketch {
    return LatencySketch.deserialize(Buffer.from(text, 'base64'));
  }

  private _checkCompatible(other: LatencySketch): void {
    if (
      other.relativeAccuracy !== this.relativeAccuracy ||
      other.maxBuckets !== this.maxBuckets ||
      other.minIndexableValue !== this.minIndexableValue
    ) {
      throw new RangeError('cannot combine sketches built with different options');
    }
  }

  /** Makes _counts cover [lo, hi], keeping the data and leaving slack on both sides. */
  private _ensureRange(lo: number, hi: number): void {
    const curLo = this._offset;
    const curHi = this._offset + this._counts.length - 1;
    if (this._counts.length > 0 && lo >= curLo && hi <= curHi) return;
    const empty = this._minIndex > this._maxIndex;
    const newLo = empty ? lo : Math.min(lo, this._minIndex);
    const newHi = empty ? hi : Math.max(hi, this._maxIndex);
    const span = newHi - newLo + 1;
    const slack = Math.min(Math.max(8, span >> 1), this.maxBuckets);
    const next = new Float64Array(span + 2 * slack);
    const nextOffset = newLo - slack;
    if (!empty) {
      next.set(
        this._counts.subarray(this._minIndex - this._offset, this._maxIndex - this._offset + 1),
        this._minIndex - nextOffset,
      );
    }
    this._counts = next;
    this._offset = nextOffset;
  }

  /** Moves _minIndex/_maxIndex inward past empty buckets. */
  private _trim(): void {
    while (this._minIndex <= this._maxIndex && this._counts[this._minIndex - this._offset] === 0) this._minIndex++;
    while (this._maxIndex >= this._minIndex && this._counts[this._maxIndex - this._offset] === 0) this._maxIndex--;
    if (this._minIndex > this._maxIndex) {
      this._minIndex = 1;
      this._maxIndex = 0;
    }
  }
}

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`count must be a non-negative safe integer, got ${n}`);
}

/** VarintWriter writes LEB128 varints of safe integers (not limited to 32 bits). */
class VarintWriter {
  private _buf = Buffer.allocUnsafe(64);
  private _len = 0;

  byte(b: number): void {
    this._reserve(1);
    this._buf[this._len++] = b;
  }

  uint(v: number): void {
    this._reserve(8);
    while (v >= 0x80) {
      this._buf[this._len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this._buf[this._len++] = v;
  }

  sint(v: number): void {
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  float64(v: number): void {
    this._reserve(8);
    this._buf.writeDoubleLE(v, this._len);
    this._len += 8;
  }

  finish(): Buffer {
    return Buffer.from(this._buf.subarray(0, this._len));
  }

  private _reserve(n: number): void {
    if (this._len + n <= this._buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this._buf.length * 2, this._len + n));
    this._buf.copy(next, 0, 0, this._len);
    this._buf = next;
  }
}

/** VarintReader is the inverse of VarintWriter; throws RangeError when input ends early. */
class VarintReader {
  private _pos = 0;
  constructor(private readonly _bytes: Uint8Array) {}

  byte(): number {
    if (this._pos >= this._bytes.length) throw new RangeError('truncated sketch');
    return this._bytes[this._pos++];
  }

  uint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('varint too long');
    }
    return result;
  }

  sint(): number {
    const u = this.uint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  float64(): number {
    if (this._pos + 8 > this._bytes.length) throw new RangeError('truncated sketch');
    const v = Buffer.from(this._bytes.buffer, this._bytes.byteOffset + this._pos, 8).readDoubleLE(0);
    this._pos += 8;
    return v;
  }

  done(): boolean {
    return this._pos === this._bytes.length;
  }
}
