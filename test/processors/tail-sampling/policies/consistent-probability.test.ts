// Tests of the probabilistic policy's consistent modes (OpenTelemetry tracestate `th`/`rv` rules): the
// spec's thresholds for 1/2, 1/3, 1/4, 1/10, 1/100 decide R >= T at the boundary, `rv` wins over the trace
// id, an incoming threshold is never lowered (no upsampling), invalid `ot` values are ignored and reported,
// and the evaluation writes the smallest consistent threshold with the "consistent" rule.

import { expect } from 'chai';
import {
  ConsistentProbabilistic,
  readTraceSampling,
} from '../../../../processors/tail-sampling/policies/consistent-probability';
import { policySchema, type ProbabilisticConfig } from '../../../../processors/tail-sampling/policies/config';
import { evaluatePolicies, INPUT_THRESHOLD_RULE, type Outcome } from '../../../../processors/tail-sampling/evaluation';
import type { SpanSummary } from '../../../../processors/tail-sampling/policies/types';
import { summary, view } from '../helpers/fixtures';

const RANDOM = 0x02;

/** traceId builds a trace id whose 56 low bits are `r` (14 hex digits). */
function traceId(r: string): string {
  return `0123456789abcdef00${r}`;
}

function policy(over: Partial<ProbabilisticConfig>, warn?: (p: string, k: string, m: string) => void) {
  const cfg: ProbabilisticConfig = { type: 'probabilistic', hash_salt: '', mode: 'equalizing', ...over };
  return new ConsistentProbabilistic(cfg, 'consistent', warn);
}

function trace(r: string, spans: Partial<SpanSummary>[] = [{}]) {
  const id = traceId(r);
  return view(spans.map((s) => summary({ traceId: id, flags: RANDOM, ...s })));
}

describe('tail_sampling policies: probabilistic, consistent modes', () => {
  // The spec's table (precision 4, the default): the threshold of p and the randomness on each side of it.
  const SPEC: Array<[number, string, string, string]> = [
    [1 / 2, '8', '80000000000000', '7fffffffffffff'],
    [1 / 3, 'aaab', 'aaab0000000000', 'aaaaffffffffff'],
    [1 / 4, 'c', 'c0000000000000', 'bfffffffffffff'],
    [1 / 10, 'e666', 'e6660000000000', 'e665ffffffffff'],
    [1 / 100, 'fd70a', 'fd70a000000000', 'fd709fffffffff'],
  ];
  for (const mode of ['equalizing', 'proportional'] as const) {
    for (const [p, th, keep, drop] of SPEC) {
      it(`${mode}: p = ${p.toPrecision(3)} is threshold ${th}; R = ${keep} kept, R = ${drop} not`, () => {
        const pol = policy({ mode, rate: p });
        const kept = pol.evaluate(trace(keep));
        expect(kept.verdict).to.equal('sampled');
        expect(kept.threshold).to.equal(BigInt(`0x${th.padEnd(14, '0')}`));
        expect(kept.inputs).to.include({ threshold: th, randomness: keep, randomness_source: 'trace_id' });
        expect(pol.evaluate(trace(drop)).verdict).to.equal('not_sampled');
      });
    }
  }

  it('sampling_precision sets the digits of the threshold (the spec table at 3 and 5)', () => {
    expect(policy({ rate: 1 / 3, sampling_precision: 3 }).evaluate(trace('aab00000000000')).inputs).to.include({
      threshold: 'aab',
    });
    expect(policy({ rate: 0.1, sampling_precision: 5 }).evaluate(trace('e6666000000000')).inputs).to.include({
      threshold: 'e6666',
    });
  });

  it('percentage 100 keeps every trace, 0 keeps none', () => {
    expect(policy({ percentage: 100 }).evaluate(trace('00000000000000')).verdict).to.equal('sampled');
    const none = policy({ percentage: 0 }).evaluate(trace('ffffffffffffff'));
    expect(none.verdict).to.equal('not_sampled');
    expect(none.reason).to.match(/keeps no trace/);
  });

  it('an explicit rv wins over the trace id; the root span rv over other spans', () => {
    const pol = policy({ rate: 0.5 });
    // Trace id randomness would keep it (ff...), rv 10... (< 8...) does not... and the other way round.
    expect(pol.evaluate(trace('ffffffffffffff', [{ traceState: 'ot=rv:10000000000000' }])).verdict).to.equal(
      'not_sampled',
    );
    const kept = pol.evaluate(trace('00000000000000', [{ traceState: 'ot=rv:90000000000000' }]));
    expect(kept.verdict).to.equal('sampled');
    expect(kept.inputs).to.include({ randomness_source: 'rv', randomness: '90000000000000' });
    const spans = [
      { parentSpanId: 'aaaaaaaaaaaaaaaa', traceState: 'ot=rv:10000000000000' },
      { traceState: 'ot=rv:f0000000000000' }, // the root
    ];
    expect(readTraceSampling(trace('00000000000000', spans)).randomness).to.equal(0xf0000000000000n);
  });

  it('uses the trace id without the W3C random flag, and says so', () => {
    const d = policy({ rate: 0.5 }).evaluate(trace('90000000000000', [{ flags: 0x01 }]));
    expect(d.verdict).to.equal('sampled');
    expect(d.inputs).to.include({ randomness_source: 'trace_id_unflagged' });
  });

  it('equalizing never lowers an incoming threshold: a span sampled at 1/4 stays at 1/4', () => {
    const pol = policy({ mode: 'equalizing', rate: 0.5 });
    const d = pol.evaluate(trace('c1000000000000', [{ traceState: 'ot=th:c' }]));
    expect(d.verdict).to.equal('sampled');
    // R >= 8: kept; the writer's max(th, 8) leaves the span's c (tracestate.test.ts shows the spans).
    expect(d.threshold).to.equal(0x80000000000000n);
    expect(d.probability).to.equal(1); // nothing more was dropped here: adjusted count stays with the span
    // Incoming 1/2, equalizing to 1/4: p(keep | arrived) = 1/2.
    const e = policy({ mode: 'equalizing', rate: 0.25 }).evaluate(trace('c1000000000000', [{ traceState: 'ot=th:8' }]));
    expect(e.threshold).to.equal(0xc0000000000000n);
    expect(e.probability).to.equal(0.5);
    // Proportional never goes below what arrived, even at rate 1.
    const f = policy({ mode: 'proportional', rate: 1 }).evaluate(trace('c1000000000000', [{ traceState: 'ot=th:c' }]));
    expect(f.threshold).to.equal(0xc0000000000000n);
  });

  it('proportional multiplies the incoming probability: 1/2 after 1/2 is threshold c (1/4)', () => {
    const pol = policy({ mode: 'proportional', rate: 0.5 });
    const d = pol.evaluate(trace('c0000000000000', [{ traceState: 'ot=th:8' }]));
    expect(d.verdict).to.equal('sampled');
    expect(d.inputs).to.include({ threshold: 'c', incoming_threshold: '8' });
    expect(pol.evaluate(trace('bfffffffffffff', [{ traceState: 'ot=th:8' }])).verdict).to.equal('not_sampled');
  });

  it('ignores invalid ot values and thresholds inconsistent with R, reports each, and never throws', () => {
    const warned: string[] = [];
    const pol = policy({ rate: 0.5 }, (p, kind, message) => warned.push(`${p} ${kind} ${message}`));
    const d = pol.evaluate(
      trace('90000000000000', [
        { traceState: 'ot=rv:xyz;th:zz' },
        { traceState: 'ot=th:f' }, // R = 9... < f...: this span should not have been sampled at 1/16
        { traceState: 'ot=th:8,=x' },
      ]),
    );
    expect(d.verdict).to.equal('sampled');
    expect(d.inputs).to.include({ randomness_source: 'trace_id' });
    expect(d.inputs?.incoming_threshold).to.equal(undefined);
    expect(warned).to.have.length(3);
    expect(warned.every((w) => w.startsWith('consistent tracestate_ignored trace '))).to.equal(true);
    expect(String(d.inputs?.tracestate_ignored)).to.match(/rv:xyz.*th:zz.*not a valid W3C list.*inconsistent/);
  });

  it('the evaluation writes the smallest consistent threshold with the consistent rule', () => {
    const named = (name: string, rate: number) => ({ name, isDrop: false, policy: policy({ rate }) });
    const out = evaluatePolicies(
      [named('quarter', 0.25), named('half', 0.5)],
      trace('d0000000000000'),
      () => undefined,
    ) as Outcome;
    expect(out.decision).to.equal('sampled');
    expect(out.inputs).to.include({ sampling_threshold: '8', [INPUT_THRESHOLD_RULE]: 'consistent', adjusted_count: 2 });
  });

  describe('config validation', () => {
    const bad: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ mode: 'consistent', rate: 0.1 }, 'mode', /proportional|equalizing/],
      [{ mode: 'equalizing', rate: 0.1, hash_salt: 's' }, 'hash_salt', /remove hash_salt/],
      [{ mode: 'proportional', rate: 0.1, hash_algorithm: 'fnv1a64' }, 'hash_algorithm', /remove hash_algorithm/],
      [{ rate: 0.1, sampling_precision: 4 }, 'sampling_precision', /applies to mode/],
      [{ mode: 'equalizing', rate: 0.1, sampling_precision: 15 }, 'sampling_precision', /14/],
      [{ mode: 'equalizing', rate: 1e-18 }, 'rate', /2\^-56/],
    ];
    for (const [over, path, message] of bad) {
      it(`rejects ${JSON.stringify(over)} at ${path}`, () => {
        const r = policySchema.safeParse({ type: 'probabilistic', ...over });
        expect(r.success).to.equal(false);
        const issue = r.error?.issues.find((i) => i.path.join('.') === path);
        expect(issue?.message, JSON.stringify(r.error?.issues)).to.match(message);
      });
    }

    it('accepts the consistent modes with a precision', () => {
      expect(policySchema.safeParse({ type: 'probabilistic', mode: 'proportional', percentage: 10 }).success).to.equal(
        true,
      );
      const eq = { type: 'probabilistic', mode: 'equalizing', rate: 0.1, sampling_precision: 5 };
      expect(policySchema.safeParse(eq).success).to.equal(true);
    });
  });
});
