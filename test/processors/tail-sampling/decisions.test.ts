// Decisions end to end through the processor: the combination rule, the attributes stamped on kept spans,
// explainDecision, state feeding (one recordDecisions per tick), determinism across instances and after a
// replay through the ledger, reconfigure, and the real memory state.

import { expect } from 'chai';
import type { DecisionRecord } from '../../../pipeline/sdk/component';
import { decodeTraces } from '../../../pipeline/sdk/otlp/index';
import { configSchema } from '../../../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../../../processors/tail-sampling/processor';
import { createSamplingState } from '../../../processors/tail-sampling/state/index';
import { traceIdHash } from '../../../processors/tail-sampling/trace-view';
import { chunkOf, chunksOf, newSpanId, newTraceId, settings } from './helpers/fixtures';
import { FakeNext, HOST, harness } from './helpers/harness';

describe('tail_sampling decisions', () => {
  describe('combination rule', () => {
    const policies = [
      { name: 'errors', type: 'status_code', codes: ['ERROR'] },
      { name: 'half', type: 'probabilistic', rate: 0.5 },
      {
        name: 'health',
        type: 'drop',
        policies: [{ type: 'string_attribute', key: 'http.route', values: ['/health'] }],
      },
      { name: 'vip', type: 'string_attribute', key: 'tier', values: ['gold'] },
    ];
    const cases = [
      {
        name: 'drop wins over a sampling policy',
        span: { status: 'ERROR' as const, attributes: { 'http.route': '/health' } },
        want: ['not_sampled', 'health'],
      },
      {
        name: 'first sampling policy in config order decides',
        span: { status: 'ERROR' as const, attributes: { tier: 'gold' } },
        want: ['sampled', 'errors'],
      },
      {
        name: 'a later policy samples when earlier ones do not',
        span: { attributes: { tier: 'gold' } },
        want: ['sampled', 'vip'],
        forceHash: 'high',
      },
      { name: 'nothing samples -> (none)', span: {}, want: ['not_sampled', '(none)'], forceHash: 'high' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const h = await harness({ root_settle_delay: 0, policies });
        // Pick a trace id the 50% policy does not keep, when the case needs it.
        let id = newTraceId();
        while (c.forceHash === 'high' && traceIdHash(id) < 0.5) id = newTraceId();
        void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, ...c.span }])] });
        await h.advance(100);
        const r = await h.p.explainDecision(id);
        expect([r?.decision, r?.policy], r?.reason).to.deep.equal(c.want);
      });
    }
  });

  it('stamps sampling.policy and sampling.adjusted_count on every kept span', async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [{ name: 'quarter', type: 'probabilistic', percentage: 25 }],
    });
    let id = newTraceId();
    while (traceIdHash(id) >= 0.25) id = newTraceId();
    const root = newSpanId();
    void h.p.consumeTraces({
      chunks: [
        chunkOf([
          { traceId: id, spanId: root },
          { traceId: id, parentSpanId: root },
        ]),
      ],
    });
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: root }])] });
    await h.advance(100);
    const spans = decodeTraces(h.next.traceBatches[0].chunks[0].data).flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans),
    );
    expect(spans).to.have.length(3);
    for (const s of spans) {
      const attrs = Object.fromEntries(s.attributes.map((a) => [a.key, a.value]));
      expect(attrs['sampling.policy']).to.deep.equal({ type: 'string', value: 'quarter' });
      expect(Number((attrs['sampling.adjusted_count'] as { value: bigint | number }).value)).to.equal(4);
    }
  });

  it('no adjusted count when a non-random policy also sampled', async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [
        { name: 'all', type: 'probabilistic', rate: 1 },
        { name: 'always', type: 'always_sample' },
      ],
    });
    void h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
    await h.advance(100);
    const s = h.next.exportedSpans()[0];
    expect(s.attributes?.['sampling.policy']).to.equal('all');
    expect(s.attributes).to.not.have.property('sampling.adjusted_count');
  });

  it('explainDecision answers for kept and dropped traces with inputs, undefined for unknown', async () => {
    const h = await harness({ root_settle_delay: 0, policies: [{ name: 'slow', type: 'latency', threshold_ms: 100 }] });
    const slow = newTraceId();
    const fast = newTraceId();
    void h.p.consumeTraces({
      chunks: chunksOf([
        { traceId: slow, durationMs: 250, service: 'api', name: 'GET /a' },
        { traceId: fast, durationMs: 5 },
      ]),
    });
    await h.advance(100);
    const kept = await h.p.explainDecision(slow.toUpperCase());
    expect(kept).to.deep.include({ traceId: slow, decision: 'sampled', policy: 'slow' });
    expect(kept?.inputs).to.include({
      duration_us: 250_000,
      threshold_us: 100_000,
      service: 'api',
      operation: 'GET /a',
      trigger: 'root_settled',
      spans: 1,
    });
    expect(kept?.decidedAt).to.equal(h.clock.now);
    const dropped = await h.p.explainDecision(fast);
    expect(dropped).to.deep.include({ decision: 'not_sampled', policy: '(none)' });
    expect(dropped?.inputs).to.include({ 'slow.duration_us': 5000 });
    expect(await h.p.explainDecision(newTraceId())).to.equal(undefined);
  });

  it('feeds the state once per decided trace and records the whole tick in ONE recordDecisions call', async () => {
    const h = await harness({ root_settle_delay: 0 });
    const ids = Array.from({ length: 25 }, () => newTraceId());
    const root = newSpanId();
    void h.p.consumeTraces({
      chunks: chunksOf(
        ids.flatMap((traceId) => [
          { traceId, spanId: root, service: 'api', name: 'GET /r', durationMs: 40 },
          { traceId, parentSpanId: root, service: 'db', name: 'query', durationMs: 30, status: 'ERROR' as const },
        ]),
      ),
    });
    await h.advance(100);
    expect(h.state.calls.recordDecisions).to.equal(1);
    // Each trace's first chunk held its root: the decision's first-wins write is its only ledger call.
    expect(h.state.calls.lookupDecisions).to.equal(0);
    expect(h.state.calls.recordLatency).to.equal(25);
    expect(h.state.latencies[0]).to.deep.equal({ service: 'api', operation: 'GET /r', durationUs: 40_000 });
    expect(h.state.outcomes[0]).to.deep.equal({ service: 'api', hadError: true });
    expect(h.state.seen).to.have.length(25);
    expect(h.state.seen[0]).to.equal('api:GET /r');
  });

  it('property: two instances sharing only config decide every trace id alike; a replay follows the ledger', async () => {
    const policies = [
      { name: 'errors', type: 'status_code', codes: ['ERROR'] },
      { name: 'tenth', type: 'probabilistic', percentage: 10 },
      { name: 'adaptive', type: 'adaptive', base_rate: 0.2 },
    ];
    const a = await harness({ root_settle_delay: 0, policies });
    const b = await harness({ root_settle_delay: 0, policies });
    const specs = Array.from({ length: 300 }, (_, i) => ({
      traceId: newTraceId(),
      status: i % 17 === 0 ? ('ERROR' as const) : undefined,
      service: `s${i % 3}`,
    }));
    void a.p.consumeTraces({ chunks: chunksOf(specs) });
    void b.p.consumeTraces({ chunks: chunksOf([...specs].reverse()) });
    await a.advance(100);
    await b.advance(100);
    const decided = async (h: typeof a) =>
      Promise.all(specs.map(async (s) => (await h.p.explainDecision(s.traceId))?.decision));
    const da = await decided(a);
    expect(da).to.deep.equal(await decided(b));
    const kept = da.filter((d) => d === 'sampled').length;
    expect(kept).to.be.within(40, 140); // errors + ~28% of the rest: not all, not none

    // Replay: a fresh instance with a different policy but a's ledger follows a's decisions.
    const replay = await harness(
      { root_settle_delay: 0, policies: [{ name: 'none', type: 'never' }] },
      { ledger: a.state.ledger },
    );
    void replay.p.consumeTraces({ chunks: chunksOf(specs) });
    await replay.advance(100);
    await replay.advance(100);
    expect(await decided(replay)).to.deep.equal(da);
    expect(replay.next.exportedTraceIds().sort()).to.deep.equal(a.next.exportedTraceIds().sort());
  });

  it('reconfigure swaps policies without losing buffered traces', async () => {
    const h = await harness({ decision_wait: '10s', policies: [{ name: 'none', type: 'never' }] });
    const id = newTraceId();
    const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: id, parentSpanId: newSpanId() }])] });
    await h.advance(1000);
    h.p.reconfigure(configSchema.parse({ decision_wait: '10s', policies: [{ name: 'keep', type: 'always_sample' }] }));
    expect(h.p.stats().traces).to.equal(1);
    await h.advance(10_000);
    await settled;
    expect(h.next.exportedSpans().map((s) => s.attributes?.['sampling.policy'])).to.deep.equal(['keep']);
  });

  it('works with the real memory state: relative latency policy learns the P95', async () => {
    let now = 1_700_000_000_000;
    const state = createSamplingState('memory', { now: () => now });
    const next = new FakeNext();
    const config = configSchema.parse({
      root_settle_delay: 0,
      policies: [{ name: 'slow', type: 'latency', above: 'p95', min_observations: 50 }],
    });
    const p = new TailSamplingProcessor(settings(), config, next, { state, now: () => now, autoTick: false });
    await p.start(HOST);
    try {
      // 200 traces of 10..29 ms teach the P95; none of them is slow enough before the quantile is known.
      const warm = Array.from({ length: 200 }, (_, i) => ({
        traceId: newTraceId(),
        service: 'api',
        name: 'GET',
        durationMs: 10 + (i % 20),
      }));
      void p.consumeTraces({ chunks: chunksOf(warm) });
      now += 100;
      await p.tick();
      const slow = newTraceId();
      const fast = newTraceId();
      void p.consumeTraces({
        chunks: chunksOf([
          { traceId: slow, service: 'api', name: 'GET', durationMs: 80 },
          { traceId: fast, service: 'api', name: 'GET', durationMs: 12 },
        ]),
      });
      now += 100;
      await p.tick();
      const r = await p.explainDecision(slow);
      expect(r?.decision, r?.reason).to.equal('sampled');
      expect(r?.inputs.p95_us).to.be.within(25_000, 31_000);
      expect((await p.explainDecision(fast))?.decision).to.equal('not_sampled');
      const ledgered: DecisionRecord | undefined = (await state.lookupDecisions([slow])).get(slow);
      expect(ledgered?.policy).to.equal('slow');
    } finally {
      await p.shutdown();
    }
  });
});
