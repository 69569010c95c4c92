// The Collector-compatible processor options and the policies that read beyond the span index, end to end
// through the processor (real OTLP bytes from the SDK serializer, packed span table): sample_on_first_match,
// drop_pending_traces_on_shutdown, trace_flags and ottl_condition over span events.

import { expect } from 'chai';
import { evaluatePolicies, type NamedPolicy } from '../../../processors/tail-sampling/evaluation';
import type { Decision } from '../../../processors/tail-sampling/policies/types';
import { chunkOf, newTraceId, summary, view } from './helpers/fixtures';
import { harness, status } from './helpers/harness';

describe('tail_sampling: Collector options and policies through the processor', () => {
  it('sample_on_first_match stops at the first policy that samples; drop policies still run first', () => {
    const asked: string[] = [];
    const vote = (name: string, verdict: Decision['verdict'], isDrop = false): NamedPolicy => ({
      name,
      isDrop,
      policy: { evaluate: () => (asked.push(name), { verdict, reason: name }) },
    });
    const policies = [
      vote('a', 'not_sampled'),
      vote('b', 'sampled'),
      vote('c', 'sampled'),
      vote('d', 'not_sampled', true),
    ];
    const first = evaluatePolicies(policies, view([summary()]), () => undefined, { sampleOnFirstMatch: true });
    expect(asked).to.deep.equal(['d', 'a', 'b']);
    expect(first).to.include({ decision: 'sampled', policy: 'b' });
    asked.length = 0;
    const all = evaluatePolicies(policies, view([summary()]), () => undefined);
    expect(asked).to.deep.equal(['d', 'a', 'b', 'c']);
    expect(all).to.include({ decision: 'sampled', policy: 'b' });
  });

  it('sample_on_first_match waits for an asynchronous policy before asking the next', async () => {
    const asked: string[] = [];
    const policies: NamedPolicy[] = [
      {
        name: 'slow',
        isDrop: false,
        policy: { evaluate: async () => (asked.push('slow'), { verdict: 'sampled', reason: 'x' }) },
      },
      {
        name: 'never',
        isDrop: false,
        policy: { evaluate: () => (asked.push('never'), { verdict: 'sampled', reason: 'y' }) },
      },
    ];
    const out = await evaluatePolicies(policies, view([summary()]), () => undefined, { sampleOnFirstMatch: true });
    expect(out.policy).to.equal('slow');
    expect(asked).to.deep.equal(['slow']);
  });

  it('drop_pending_traces_on_shutdown drops undecided traces (ack buffered) instead of deciding them', async () => {
    for (const drop of [false, true]) {
      const h = await harness({ ack: 'buffered', decision_wait: '60s', drop_pending_traces_on_shutdown: drop });
      const settled = h.p.consumeTraces({ chunks: [chunkOf([{ traceId: newTraceId() }])] });
      expect(await status(settled)).to.equal('resolved');
      await h.p.shutdown();
      expect(h.next.calls, `drop_pending_traces_on_shutdown: ${drop}`).to.equal(drop ? 0 : 1);
    }
  });

  it('decides trace_flags and ottl_condition span events from the bytes of buffered spans', async () => {
    const h = await harness({
      root_settle_delay: 0,
      policies: [
        { name: 'flags', type: 'trace_flags' },
        {
          name: 'exceptions',
          type: 'ottl_condition',
          spanevent: ['name == "exception" and attributes["exception.type"] == "Timeout"'],
        },
        {
          name: 'route',
          type: 'ottl_condition',
          span: ['attributes["http.route"] == "/pay" and resource.attributes["service.name"] == "api"'],
        },
      ],
    });
    const [unsampled, timeout, otherEvent, pay] = [newTraceId(), newTraceId(), newTraceId(), newTraceId()];
    const chunks = [
      chunkOf([{ traceId: unsampled, sampled: false }]),
      chunkOf([
        {
          traceId: timeout,
          sampled: false,
          events: [{ name: 'exception', attributes: { 'exception.type': 'Timeout' } }],
        },
      ]),
      chunkOf([
        {
          traceId: otherEvent,
          sampled: false,
          events: [{ name: 'exception', attributes: { 'exception.type': 'IO' } }],
        },
      ]),
      chunkOf([{ traceId: pay, sampled: false, service: 'api', attributes: { 'http.route': '/pay' } }]),
      chunkOf([{ traceId: newTraceId(), sampled: true }]),
    ];
    const settled = h.p.consumeTraces({ chunks });
    await h.advance(100);
    await settled;
    const kept = h.next.exportedSpans().map((s) => [s.traceId, s.attributes?.['sampling.policy']]);
    expect(kept.map(([id]) => id))
      .to.not.include(unsampled)
      .and.not.include(otherEvent);
    expect(
      kept
        .filter(([id]) => id === timeout || id === pay)
        .map(([, p]) => p)
        .sort(),
    ).to.deep.equal(['exceptions', 'route']);
    expect(kept.filter(([, p]) => p === 'flags')).to.have.length(1);
  });
});
