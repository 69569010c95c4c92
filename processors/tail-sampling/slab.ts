// Slab allocation for what the sampler buffers per trace: the copy of each incoming chunk and the packed
// span rows of its SpanTable. Both are small (a few KiB), numerous (one or two per trace, tens of thousands
// of traces a second) and live for seconds. Allocating each as its own ArrayBuffer (what Buffer.from and
// Buffer.allocUnsafe do above 4 KiB, half the chunks of a typical trace) was a fifth of the sampler's CPU,
// in the allocation itself and in the GC work every ArrayBuffer brings (external memory accounting, a
// backing store to free). Here they are carved, in arrival order, out of slabs of SLAB_BYTES, like Node's
// own Buffer pool but with slabs large enough for a trace's chunk. A slab is freed by the GC once no piece
// of it is referenced any more; since traces are decided roughly in arrival order, a slab's pieces die
// together. The cost is bounded: a piece of at most MAX_PIECE_BYTES keeps at most one SLAB_BYTES slab alive,
// and larger pieces get an allocation of their own, so no piece ever pins more than 8x its own size (Node's
// pool: 2x) and no trace pins a Kafka fetch response.

/** Size of one slab. */
export const SLAB_BYTES = 64 * 1024;
/** Largest piece carved out of a slab; larger ones are allocated on their own. */
export const MAX_PIECE_BYTES = SLAB_BYTES / 8;

/** SlabAllocator hands out pieces of shared slabs; never reuses memory itself (the GC frees a slab with its last piece). */
export class SlabAllocator {
  private _slab: ArrayBuffer = newSlab();
  private _used = 0;
  /** Slabs allocated so far (the first one included). */
  slabs = 1;

  /** copy returns a Buffer of its own holding the bytes of `data` (a view into a slab when small). */
  copy(data: Uint8Array): Buffer {
    const n = data.byteLength;
    if (n > MAX_PIECE_BYTES) return Buffer.from(data);
    const offset = this._reserve(n, 1); // before reading _slab: it may start a new one
    const out = Buffer.from(this._slab, offset, n);
    out.set(data);
    return out;
  }

  /** float64 returns room for `count` numbers (contents unspecified until written). */
  float64(count: number): Float64Array {
    const bytes = count * 8;
    if (bytes > MAX_PIECE_BYTES) return new Float64Array(count);
    const offset = this._reserve(bytes, 8);
    return new Float64Array(this._slab, offset, count);
  }

  /** _reserve returns the offset of `n` free bytes aligned to `align` (a power of 2), starting a new slab when needed. */
  private _reserve(n: number, align: number): number {
    let offset = (this._used + align - 1) & -align;
    if (offset + n > SLAB_BYTES) {
      this._slab = newSlab();
      this.slabs++;
      offset = 0;
    }
    this._used = offset + n;
    return offset;
  }
}

/** newSlab allocates one slab without zero-filling it (every piece is written before it is read). */
function newSlab(): ArrayBuffer {
  // allocUnsafeSlow never comes from Node's pool: the Buffer owns its whole ArrayBuffer, from offset 0.
  return Buffer.allocUnsafeSlow(SLAB_BYTES).buffer as ArrayBuffer;
}
