// Fingerprints of dropped traces (state/ledger-fingerprint.ts) and their local entries (ledger.ts): the hash is
// deterministic and uniform, the sample of dropped traces recorded in full has the configured share, the entries
// marked fingerprint-only round-trip through the codec (exact on the deciding replica, a time bucket when read
// from Redis), and the local store keeps dropped traces outside the sample short. RedisLedger over a fake link:
// fingerprint-only writes, overriding a fingerprint, and catch-up after an outage (a drop never conflicts with a
// fingerprint).

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { DecisionCache } from '../../../../processors/tail-sampling/state/decision-cache';
import {
  decodeDecision,
  encodeDecision,
  fingerprintDecision,
  fingerprintOnlyDecision,
  shortDecision,
} from '../../../../processors/tail-sampling/state/ledger';
import {
  FINGERPRINT_BYTES,
  inDroppedSample,
  SLOT_DIGITS_MAX,
  traceFingerprint,
} from '../../../../processors/tail-sampling/state/ledger-fingerprint';
import {
  FINGERPRINT_POLICY,
  isFingerprintMatch,
  type LedgerRecord,
} from '../../../../processors/tail-sampling/state/types';
import { KeyLayout } from '../../../../processors/tail-sampling/state/redis-batch';
import { RedisLedger } from '../../../../processors/tail-sampling/state/redis-ledger';
import type { LedgerEntry, RedisLink } from '../../../../processors/tail-sampling/state/redis-link';
import { newTraceId } from '../helpers/fixtures';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

const DROPPED: LedgerRecord = {
  traceId: TRACE,
  decision: 'not_sampled',
  policy: 'no-health',
  reason: 'route /health',
  inputs: { route: '/health' },
  decidedAt: 1_764_000_000_123,
  decidedBy: 'Jl2B-07B',
};

describe('tail_sampling state/ledger-fingerprint (dropped traces in a few bytes)', () => {
  it('hashes a trace id into slot digits, a 5-byte fingerprint and a sample value, the same every time', () => {
    const f = traceFingerprint(TRACE);
    expect(f.slot).to.match(new RegExp(`^[0-9a-f]{${SLOT_DIGITS_MAX}}$`));
    expect(f.fp).to.match(new RegExp(`^[0-9a-f]{${2 * FINGERPRINT_BYTES}}$`));
    expect(traceFingerprint(TRACE.toUpperCase())).to.deep.equal(f);
    expect(traceFingerprint('0af7651916cd43dd8448eb211c80319d').fp).to.not.equal(f.fp);
    expect(f.sample).to.be.within(0, 1 - Number.EPSILON);
    // The layout every replica (of every version) shares: SHA-256 of the lowercase id, slot then fingerprint.
    const digest = createHash('sha256').update(TRACE.toLowerCase()).digest('hex');
    expect(f.slot + f.fp).to.equal(digest.slice(0, SLOT_DIGITS_MAX + 2 * FINGERPRINT_BYTES));
  });

  it('spreads sequential ids over slots and samples about the configured share', () => {
    const n = 20_000;
    const slots = new Map<string, number>();
    let sampled = 0;
    for (let i = 0; i < n; i++) {
      const f = traceFingerprint(i.toString(16).padStart(32, '0'));
      slots.set(f.slot[0]!, (slots.get(f.slot[0]!) ?? 0) + 1);
      if (inDroppedSample(f, 0.1)) sampled++;
    }
    expect(slots.size).to.equal(16);
    for (const c of slots.values()) expect(c).to.be.within((n / 16) * 0.9, (n / 16) * 1.1);
    expect(sampled / n).to.be.within(0.09, 0.11);
    expect(inDroppedSample(traceFingerprint(TRACE), 1)).to.equal(true);
    expect(inDroppedSample(traceFingerprint(TRACE), 0)).to.equal(false);
  });

  it('marks the local entry of a dropped trace outside the sample: decision, policy, time, replica; no reason', () => {
    const text = fingerprintOnlyDecision(encodeDecision(DROPPED));
    expect(text).to.equal('nno-health\x1fmidc1z7f\x1frJl2B-07B,f0\x1f');
    expect(text.length).to.be.lessThan(shortDecision(encodeDecision(DROPPED)).length + 4);
    const back = decodeDecision(TRACE, text)!;
    expect(back).to.deep.equal({ ...DROPPED, reason: '', inputs: {}, fingerprintOnly: { windowMs: 0 } });
    expect(isFingerprintMatch(back), 'exact: the replica that decided knows the id').to.equal(false);
    expect(fingerprintOnlyDecision(encodeDecision({ ...DROPPED, decidedBy: undefined }))).to.equal(
      'nno-health\x1fmidc1z7f\x1ff0\x1f',
    );
  });

  it('reads a fingerprint found in Redis as a drop in a time bucket, with no policy', () => {
    const r = decodeDecision(TRACE, fingerprintDecision(1_764_000_000_000, 900_000))!;
    expect(r).to.deep.equal({
      traceId: TRACE,
      decision: 'not_sampled',
      policy: FINGERPRINT_POLICY,
      reason: '',
      inputs: {},
      decidedAt: 1_764_000_000_000,
      fingerprintOnly: { windowMs: 900_000 },
    });
    expect(isFingerprintMatch(r)).to.equal(true);
    // Round trip through the full form too (a remembered record).
    expect(decodeDecision(TRACE, encodeDecision(r))).to.deep.equal(r);
  });

  it('the local store keeps dropped traces outside the sample short, kept ones and the sample in full', () => {
    const cache = new DecisionCache({ maxEntries: 10_000, droppedSample: 0.25 });
    let short = 0;
    const n = 2000;
    for (let i = 0; i < n; i++) {
      const id = newTraceId();
      const text = cache.set({ ...DROPPED, traceId: id });
      const inSample = inDroppedSample(traceFingerprint(id), 0.25);
      expect(text.includes('route /health'), id).to.equal(inSample);
      if (!inSample) {
        short++;
        expect(cache.get(id)).to.deep.include({ policy: 'no-health', reason: '', fingerprintOnly: { windowMs: 0 } });
      }
    }
    expect(short / n).to.be.within(0.7, 0.8);
    const kept = cache.set({ ...DROPPED, traceId: newTraceId(), decision: 'sampled' });
    expect(kept).to.contain('route /health');
    expect(new DecisionCache({ maxEntries: 10 }).set(DROPPED), 'default: every record in full').to.contain(
      'route /health',
    );
  });
});

describe('tail_sampling state/redis-ledger with fingerprints (fake link)', () => {
  /** A link whose every lookup and insert answers "a fingerprint of each trace is in the oldest bucket". */
  function fakeLink(calls: Array<{ entries: readonly LedgerEntry[]; write: boolean }>): RedisLink {
    return {
      ledger: async (_keys: readonly string[], entries: readonly LedgerEntry[], write: boolean) => {
        calls.push({ entries, write });
        return { records: entries.map(() => null), fingerprintKey: entries.map((e) => (e.override ? -1 : 0)) };
      },
    } as unknown as RedisLink;
  }

  function ledger(calls: Array<{ entries: readonly LedgerEntry[]; write: boolean }>, usable: () => boolean) {
    return new RedisLedger({
      link: fakeLink(calls),
      keys: new KeyLayout('t:'),
      shards: 1,
      ttlMs: 60_000,
      maxEntries: 1000,
      maxPending: 100,
      droppedSample: 0.01,
      replicaId: 'me',
      now: () => 1_764_000_000_000,
      usable,
    });
  }

  it('writes drops outside the sample as fingerprints, follows a fingerprint unless overriding, never counts a drop-drop conflict', async () => {
    const calls: Array<{ entries: readonly LedgerEntry[]; write: boolean }> = [];
    let up = true;
    const l = ledger(calls, () => up);
    const [outside] = Array.from({ length: 50 }, () => newTraceId()).filter(
      (id) => !inDroppedSample(traceFingerprint(id), 0.01),
    );
    const earlier = await l.record([{ ...DROPPED, traceId: outside! }]);
    expect(calls[0]!.entries[0]).to.deep.include({ id: outside, value: '', override: false });
    expect(earlier.get(outside!)).to.deep.include({
      policy: FINGERPRINT_POLICY,
      fingerprintOnly: { windowMs: 15_000 },
    });

    const error = newTraceId();
    const overridden = await l.record(
      [{ ...DROPPED, traceId: error, decision: 'sampled', policy: 'errors' }],
      new Set([error]),
    );
    expect(overridden.size).to.equal(0);
    expect(calls[1]!.entries[0]!.override).to.equal(true);
    expect(calls[1]!.entries[0]!.value.startsWith('serrors\x1f')).to.equal(true);
    expect(l.recent(error)).to.deep.include({ decision: 'sampled', policy: 'errors' });

    // Queued during an outage, flushed later: a fingerprint found then is a conflict only for a kept decision.
    up = false;
    const [dropped, kept] = [newTraceId(), newTraceId()];
    await l.record([
      { ...DROPPED, traceId: dropped },
      { ...DROPPED, traceId: kept, decision: 'sampled' },
    ]);
    expect(l.pending).to.equal(2);
    up = true;
    await l.flushPending();
    expect(l.pending).to.equal(0);
    expect(l.conflicts).to.equal(1);
    expect(l.recent(kept)).to.deep.include({ decision: 'not_sampled', policy: FINGERPRINT_POLICY });
  });
});
