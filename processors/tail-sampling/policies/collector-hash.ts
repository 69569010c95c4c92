// The OpenTelemetry Collector's probabilistic tail-sampling decision, bit for bit: FNV-1a 64 over the salt's
// UTF-8 bytes then the 16 trace-id bytes ("default-hash-seed" when the salt is empty), sampled when the
// hash is <= floor(round64(MaxUint64 x ratio)), where round64 is Go's big.Float product at 64 bits of
// precision, rounding to nearest even (contrib's calculateThreshold). 64-bit arithmetic on two 32-bit halves.

/** COLLECTOR_DEFAULT_SALT is the salt the Collector uses when hash_salt is empty. */
export const COLLECTOR_DEFAULT_SALT = 'default-hash-seed';

const MAX_UINT64 = (1n << 64n) - 1n;
const TWO_POW_32 = 4294967296;

/** Hash64 is a 64-bit unsigned value as two unsigned 32-bit halves. */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

/** fnv1a64 hashes `parts` in order with FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
export function fnv1a64(...parts: readonly Uint8Array[]): Hash64 {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) {
      lo = (lo ^ bytes[i]) >>> 0;
      // h * (2^40 + 0x1b3) mod 2^64: the low half times 0x1b3 carries into the high half; h << 40 adds lo << 8 there.
      const t = lo * 0x1b3;
      const carry = Math.floor(t / TWO_POW_32);
      hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
      lo = t >>> 0;
    }
  }
  return { hi, lo };
}

/** toBigInt turns a Hash64 into a bigint (tests, explanations). */
export function toBigInt(h: Hash64): bigint {
  return (BigInt(h.hi) << 32n) | BigInt(h.lo);
}

/** exactDouble splits a finite double >= 0 into an integer mantissa and a power of two: x = m * 2^e. */
function exactDouble(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hiBits = view.getUint32(0);
  const exp = (hiBits >>> 20) & 0x7ff;
  const frac = (BigInt(hiBits & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (exp === 0) return { m: frac, e: -1074 };
  return { m: frac | (1n << 52n), e: exp - 1075 };
}

/**
 * collectorThreshold is contrib's calculateThreshold(ratio): MaxUint64 x ratio rounded to 64 significant bits
 * (nearest, ties to even), then truncated to an integer and capped at MaxUint64. ratio <= 0 gives 0.
 */
export function collectorThreshold(ratio: number): bigint {
  if (!(ratio > 0)) return 0n;
  const { m, e } = exactDouble(ratio);
  let p = MAX_UINT64 * m;
  let shift = 0n;
  const bits = BigInt(p.toString(2).length);
  if (bits > 64n) {
    shift = bits - 64n;
    let q = p >> shift;
    const rem = p - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    p = q;
  }
  const exp = BigInt(e) + shift;
  const value = exp >= 0n ? p << exp : p >> -exp;
  return value > MAX_UINT64 ? MAX_UINT64 : value;
}

/** CollectorSampler decides like the Collector's probabilistic policy for one salt and percentage. */
export class CollectorSampler {
  private readonly _salt: Uint8Array;
  private readonly _thrHi: number;
  private readonly _thrLo: number;
  /** The threshold, for explanations. */
  readonly threshold: bigint;

  constructor(salt: string, ratio: number) {
    this._salt = Buffer.from(salt === '' ? COLLECTOR_DEFAULT_SALT : salt, 'utf8');
    this.threshold = collectorThreshold(ratio);
    this._thrHi = Number(this.threshold >> 32n);
    this._thrLo = Number(this.threshold & 0xffffffffn);
  }

  /** hash is FNV-1a 64 of salt + trace id bytes (32 hex chars). */
  hash(traceId: string): Hash64 {
    return fnv1a64(this._salt, Buffer.from(traceId, 'hex'));
  }

  /** sampled is true when hash(traceId) <= threshold, the Collector's rule. */
  sampled(h: Hash64): boolean {
    return h.hi < this._thrHi || (h.hi === this._thrHi && h.lo <= this._thrLo);
  }
}
