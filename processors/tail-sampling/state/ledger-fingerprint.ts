// Fingerprints of dropped traces in the shared ledger. A dropped trace that is not in the sample recorded in
// full costs one 5-byte fingerprint in its ledger bucket hash, appended to the value of a "slot" field named by
// the first hex digits of a hash of its id: `~` + 1..5 hex digits, the width growing with the bucket's entries
// so that a slot holds ~8-128 fingerprints (the hash stays a few bytes per entry, a lookup scans < 1 KiB).
// This module computes, in Node, what the ledger script needs per trace; the script itself is in redis-link.ts.

import crypto from 'node:crypto';

/** Bytes of one stored fingerprint (40 bits: with the slot digits, 44-60 bits identify a trace in a bucket). */
export const FINGERPRINT_BYTES = 5;
/** Widths, in hex digits, a slot field may have; a reader checks all of them (narrowest first). */
export const SLOT_DIGITS_MIN = 1;
export const SLOT_DIGITS_MAX = 5;
/**
 * A bucket's writer uses the widest slot width w with entries >= SLOT_FILL * 16^w (at least SLOT_DIGITS_MIN):
 * a slot of width w fills to ~8 fingerprints before the next width is used, and to ~128 at most.
 */
export const SLOT_FILL = 8;

/** TraceFingerprint is what the ledger script needs of one trace id. */
export interface TraceFingerprint {
  /** The SLOT_DIGITS_MAX hex digits the slot fields are cut from (`~` + the first w digits). */
  readonly slot: string;
  /** The fingerprint, FINGERPRINT_BYTES bytes as 2 * FINGERPRINT_BYTES hex digits (the script stores the bytes). */
  readonly fp: string;
  /**
   * A value in [0, 1) independent of `slot` and `fp`: the trace is in the sample of dropped traces kept in full
   * when it is below the rate.
   */
  readonly sample: number;
}

/**
 * traceFingerprint hashes a trace id (SHA-256 of its lowercase text, so sequential ids spread too) into its slot
 * digits, fingerprint and sample value. Pure: the same id gives the same answer on every replica.
 */
export function traceFingerprint(traceId: string): TraceFingerprint {
  const h = sha256(traceId.toLowerCase());
  const hex = h.toString('hex', 0, 8);
  // Bytes 8..14: 53 bits for the sample value, disjoint from the 60 bits of slot and fingerprint.
  const sample = (h.readUIntBE(8, 6) * 32 + (h[14]! >>> 3)) / 2 ** 53;
  return {
    slot: hex.slice(0, SLOT_DIGITS_MAX),
    fp: hex.slice(SLOT_DIGITS_MAX, SLOT_DIGITS_MAX + 2 * FINGERPRINT_BYTES),
    sample,
  };
}

/** The one-shot digest (Node 20.12+: no Hash object per call, ~30 % cheaper), else a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
const sha256: (text: string) => Buffer =
  typeof oneShot === 'function'
    ? (text) => oneShot('sha256', text, 'buffer')
    : (text) => crypto.createHash('sha256').update(text).digest();

/** inDroppedSample says whether a dropped trace is recorded in full at `rate` (0..1; 1 = every dropped trace). */
export function inDroppedSample(f: TraceFingerprint, rate: number): boolean {
  return rate >= 1 || f.sample < rate;
}
