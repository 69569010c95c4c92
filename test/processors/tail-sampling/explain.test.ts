// GET /v1/decisions/{traceId} across replicas: explainRecord's answers (complete, held by another replica,
// evicted here, unnamed, fingerprint-only, each with its kind), and two processors sharing a ledger that stores what Redis stores: the
// deciding replica answers in full with decidedBy; the other names it and carries the sampling threshold,
// and stamps late spans of the trace with the same tracestate threshold and adjusted count.

import { expect } from 'chai';
import { explainRecord } from '../../../processors/tail-sampling/explain';
import { FINGERPRINT_POLICY, type LedgerRecord } from '../../../processors/tail-sampling/state/types';
import { traceIdHash } from '../../../processors/tail-sampling/trace-view';
import { chunkOf, newSpanId, newTraceId } from './helpers/fixtures';
import { harness } from './helpers/harness';

const RECORD: LedgerRecord = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  decision: 'sampled',
  policy: 'slow',
  reason: 'root 250 ms > p95 120 ms',
  inputs: { p95_us: 120_000 },
  decidedAt: 1_700_000_000_000,
};

describe('tail_sampling explainDecision across replicas', () => {
  describe('explainRecord', () => {
    it('returns a complete record as it is, with its kind', () => {
      const r = { ...RECORD, decidedBy: 'replicaA' };
      expect(explainRecord(r, 'replicaB')).to.deep.equal({ ...r, kind: 'kept' });
      expect(explainRecord(RECORD, undefined)).to.deep.equal({ ...RECORD, kind: 'kept' });
      const dropped = { ...RECORD, decision: 'not_sampled' as const, policy: 'no-health', reason: 'route /health' };
      expect(explainRecord(dropped, undefined)).to.deep.equal({ ...dropped, kind: 'dropped-sampled' });
    });

    it('says what a fingerprint-only entry tells: from Redis (bucket, no policy) or on the deciding replica', () => {
      const fromRedis: LedgerRecord = {
        traceId: RECORD.traceId,
        decision: 'not_sampled',
        policy: FINGERPRINT_POLICY,
        reason: '',
        inputs: {},
        decidedAt: 1_700_000_100_000,
        fingerprintOnly: { windowMs: 900_000 },
      };
      const e = explainRecord(fromRedis, 'replicaB', { traceIdHash: 0.734 });
      expect(e.kind).to.equal('dropped-fingerprint');
      expect(e.explanation).to.contain('only a 5-byte fingerprint of its id, recorded between ');
      expect(e.explanation).to.contain(
        `${new Date(1_700_000_100_000).toISOString()} and ${new Date(1_700_001_000_000).toISOString()}`,
      );
      expect(e.explanation).to.contain('trace-id hash is 0.734000');
      const local: LedgerRecord = {
        ...RECORD,
        decision: 'not_sampled',
        policy: '(none)',
        reason: '',
        inputs: {},
        decidedBy: 'replicaA',
        fingerprintOnly: { windowMs: 0 },
      };
      const l = explainRecord(local, 'replicaA');
      expect(l.kind).to.equal('dropped-fingerprint');
      expect(l.explanation).to.contain(
        'decided by replica replicaA by policy (none); its reason and inputs were not kept',
      );
    });

    it('names the deciding replica when only the shared entry is known here', () => {
      const e = explainRecord({ ...RECORD, reason: '', inputs: {}, decidedBy: 'replicaA' }, 'replicaB');
      expect(e).to.deep.include({ decidedBy: 'replicaA', reason: '', policy: 'slow' });
      expect(e.explanation).to.match(/^held by replica replicaA: /);
      expect(e.explanation).to.contain(`GET /v1/decisions/${RECORD.traceId}`);
      expect(e.explanation).to.contain('"replica replicaA"');
    });

    it('says when this replica decided but no longer holds the reason', () => {
      const e = explainRecord({ ...RECORD, reason: '', inputs: {}, decidedBy: 'replicaA' }, 'replicaA');
      expect(e.explanation).to.match(
        /^decided by this replica \(replicaA\); its reason and inputs are no longer in its memory/,
      );
    });

    it('says when the entry does not name a replica (previous ledger layout)', () => {
      const e = explainRecord({ ...RECORD, reason: '', inputs: {} }, 'replicaB');
      expect(e).to.not.have.property('decidedBy');
      expect(e.explanation).to.match(/^decided by another replica; the ledger entry does not name it/);
    });
  });

  it('the deciding replica answers in full; another replica names it, and stamps late spans alike', async () => {
    const ledger = new Map<string, LedgerRecord>();
    const policies = [{ name: 'quarter', type: 'probabilistic', percentage: 25 }];
    const a = await harness({ root_settle_delay: 0, policies }, { ledger, replicaId: 'replicaA' });
    const b = await harness(
      { root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] },
      { ledger, replicaId: 'replicaB' },
    );
    let id = newTraceId();
    while (traceIdHash(id) >= 0.25) id = newTraceId();
    const root = newSpanId();
    void a.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, spanId: root }])] });
    await a.advance(100);

    const onA = await a.p.explainDecision(id);
    expect(onA).to.deep.include({ decision: 'sampled', policy: 'quarter', decidedBy: 'replicaA' });
    expect(onA?.reason).to.match(/^trace-id hash .* < rate 0.25$/);
    expect(onA).to.not.have.property('explanation');

    const onB = await b.p.explainDecision(id);
    expect(onB).to.deep.include({
      decision: 'sampled',
      policy: 'quarter',
      decidedBy: 'replicaA',
      reason: '',
      decidedAt: onA?.decidedAt,
    });
    expect(onB?.inputs).to.deep.equal({ sampling_threshold: 'c', adjusted_count: 4 });
    expect(onB?.explanation).to.match(/^held by replica replicaA: /);

    // A late span of the trace reaches B (say, after a rebalance): B follows A's decision and stamps it the same way.
    void b.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: root, traceState: 'rojo=1' }])] });
    await b.advance(100);
    await b.advance(100);
    const [onAExported] = a.next.exportedSpans();
    const [late] = b.next.exportedSpans();
    expect(late.attributes).to.deep.equal(onAExported.attributes);
    expect(late.attributes).to.include({ 'sampling.policy': 'quarter', 'sampling.adjusted_count': 4 });
    expect([onAExported.traceState, late.traceState]).to.deep.equal(['ot=th:c', 'ot=th:c,rojo=1']);
  });

  it('a dropped trace carries no threshold; an unshared (memory-like) state answers without decidedBy', async () => {
    const ledger = new Map<string, LedgerRecord>();
    const a = await harness(
      { root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] },
      { ledger, replicaId: 'replicaA' },
    );
    const b = await harness({ root_settle_delay: 0 }, { ledger, replicaId: 'replicaB' });
    const id = newTraceId();
    void a.p.consumeTraces({ chunks: [chunkOf([{ traceId: id }])] });
    await a.advance(100);
    const onB = await b.p.explainDecision(id);
    expect(onB).to.deep.include({ decision: 'not_sampled', policy: '(none)', decidedBy: 'replicaA', inputs: {} });

    const solo = await harness({ root_settle_delay: 0 });
    const other = newTraceId();
    void solo.p.consumeTraces({ chunks: [chunkOf([{ traceId: other }])] });
    await solo.advance(100);
    const answer = await solo.p.explainDecision(other);
    expect(answer).to.deep.include({ decision: 'sampled', policy: 'all' });
    expect(answer).to.not.have.property('decidedBy');
    expect(answer).to.not.have.property('explanation');
  });
});
