// Fingerprints of dropped traces (state/ledger-fingerprint.ts) and their local entries (ledger.ts): the hash is
// deterministic and uniform, the sample of dropped traces recorded in full has the configured share, the entries
// marked fingerprint-only round-trip through the codec (exact on the deciding replica, a time bucket when read
// from Redis), and the local store keeps dropped traces outside the sample short.

import { expect } from 'chai';
import { DecisionCache } from '../../../../processors/tail-sampling/state/decision-cache';
import {
  decodeDecision, encodeDecision, fingerprintDecision, fingerprintOnlyDecision, shortDecision,
} from '../../../../processors/tail-sampling/state/ledger';
import {
  FINGERPRINT_BYTES, inDroppedSample, SLOT_DIGITS_MAX, traceFingerprint,
} from '../../../../processors/tail-sampling/state/ledger-fingerprint';
import { FINGERPRINT_POLICY, isFingerprintMatch, type LedgerRecord } from '../../../../processors/tail-sampling/state/types';
import { newTraceId } from '../helpers/fixtures';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

const DROPPED: LedgerRecord = {
  traceId: TRACE, decision: 'not_sampled', policy: 'no-health', reason: 'route /health', inputs: { route: '/health' },
  decidedAt: 1_764_000_000_123, decidedBy: 'Jl2B-07B',
};

describe('tail_sampling state/ledger-fingerprint (dropped traces in a few bytes)', () => {
  it('hashes a trace id into slot digits, a 5-byte fingerprint and a sample value, the same every time', () => {
    const f = traceFingerprint(TRACE);
    expect(f.slot).to.match(new RegExp(`^[0-9a-f]{${SLOT_DIGITS_MAX}}$`));
    expect(f.fp).to.match(new RegExp(`^[0-9a-f]{${2 * FINGERPRINT_BYTES}}$`));
    expect(traceFingerprint(TRACE.toUpperCase())).to.deep.equal(f);
    expect(traceFingerprint('0af7651916cd43dd8448eb211c80319d').fp).to.not.equal(f.fp);
    expect(f.sample).to.be.within(0, 1 - Number.EPSILON);
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
    for (const c of slots.values()) expect(c).to.be.within(n / 16 * 0.9, n / 16 * 1.1);
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
    expect(fingerprintOnlyDecision(encodeDecision({ ...DROPPED, decidedBy: undefined }))).to.equal('nno-health\x1fmidc1z7f\x1ff0\x1f');
  });

  it('reads a fingerprint found in Redis as a drop in a time bucket, with no policy', () => {
    const r = decodeDecision(TRACE, fingerprintDecision(1_764_000_000_000, 900_000))!;
    expect(r).to.deep.equal({
      traceId: TRACE, decision: 'not_sampled', policy: FINGERPRINT_POLICY, reason: '', inputs: {},
      decidedAt: 1_764_000_000_000, fingerprintOnly: { windowMs: 900_000 },
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
    expect(new DecisionCache({ maxEntries: 10 }).set(DROPPED), 'default: every record in full').to.contain('route /health');
  });
});
