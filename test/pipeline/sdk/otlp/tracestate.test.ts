// Unit tests of pipeline/sdk/otlp/tracestate.ts: the probability -> threshold encoding against the spec's
// table (precision 3, 4 and 5) and exact full-precision values, threshold parsing and adjusted counts,
// the combination with an upstream threshold, the W3C tracestate and `ot` grammars, and how
// TraceStateThreshold rewrites a span's tracestate (merge, move to front, malformed, full, cache, counts).

import { expect } from 'chai';
import {
  combineThresholds,
  encodeThreshold,
  MAX_THRESHOLD,
  parseOtValue,
  parseRandomness,
  parseThreshold,
  parseTraceState,
  probabilityToThreshold,
  readOtSampling,
  thresholdAdjustedCount,
  thresholdToProbability,
  traceIdRandomness,
  TraceStateThreshold,
} from '../../../../pipeline/sdk/otlp/tracestate';

/** th is the encoded threshold of probability p at a precision (default 4). */
function th(p: number, precision?: number): string {
  const t = probabilityToThreshold(p, precision);
  if (t === undefined) throw new Error(`no threshold for ${p}`);
  return encodeThreshold(t);
}

describe('pipeline/sdk/otlp tracestate', () => {
  describe('probabilityToThreshold + encodeThreshold', () => {
    // "TraceState: Probability Sampling", Algorithms: the table of 1-in-N probabilities, precision 3, 4, 5.
    const SPEC_TABLE: Array<[number, string, string, string]> = [
      [1, '0', '0', '0'],
      [0.5, '8', '8', '8'],
      [1 / 3, 'aab', 'aaab', 'aaaab'],
      [0.25, 'c', 'c', 'c'],
      [0.2, 'ccd', 'cccd', 'ccccd'],
      [0.125, 'e', 'e', 'e'],
      [0.1, 'e66', 'e666', 'e6666'],
      [0.0625, 'f', 'f', 'f'],
      [0.01, 'fd71', 'fd70a', 'fd70a4'],
      [0.001, 'ffbe7', 'ffbe77', 'ffbe76d'],
      [0.0001, 'fff972', 'fff9724', 'fff97247'],
      [0.00001, 'ffff584', 'ffff583a', 'ffff583a5'],
      [0.000001, 'ffffef4', 'ffffef39', 'ffffef391'],
    ];
    for (const [p, p3, p4, p5] of SPEC_TABLE) {
      it(`p = ${p}: ${p3} / ${p4} / ${p5} at precision 3 / 4 / 5 (the spec's table)`, () => {
        expect([th(p, 3), th(p, 4), th(p, 5)]).to.deep.equal([p3, p4, p5]);
      });
    }

    it('defaults to 4 significant digits, the spec recommendation', () => {
      expect(th(1 / 3)).to.equal('aaab');
      expect(th(0.01)).to.equal('fd70a'); // one more digit for the leading f
    });

    it('at full precision is exactly 2^56 - round(p * 2^56), trailing zeros removed', () => {
      // The double nearest 1/3 is a bit below it: times 2^56 it is 0x55555555555554 (exact), not ...5.
      expect(th(1 / 3, 14)).to.equal('aaaaaaaaaaaaac');
      expect(th(0.1, 14)).to.equal((MAX_THRESHOLD - 7205759403792794n).toString(16)); // the double 0.1 times 2^56, exact
      expect(th(0.75, 14)).to.equal('4');
      expect(th(2 ** -56, 14)).to.equal('ffffffffffffff');
      expect(probabilityToThreshold(2 ** -56)).to.equal(MAX_THRESHOLD - 1n);
    });

    it('has no threshold outside [2^-56, 1]', () => {
      for (const p of [0, 2 ** -57, -0.5, 1.0000001, Number.NaN])
        expect(probabilityToThreshold(p), String(p)).to.equal(undefined);
    });

    it('rounds half up and never reaches 2^56; near 1 it may round to 0 (no threshold)', () => {
      expect(th(1 - 2 ** -16)).to.equal('0001'); // threshold 0x0001, exact at 4 digits
      expect(th(1 - 2 ** -16 - 2 ** -17)).to.equal('0002'); // 0x00018: exactly half a digit, rounds up
      expect(th(1 - 2 ** -16 - 2 ** -18)).to.equal('0001'); // 0x00014: rounds down
      expect(probabilityToThreshold(1 - 2 ** -20)).to.equal(0n); // 0x00001 rounds away at 4 digits (no precision gain near 1)
      expect(th(1.5 * 2 ** -56, 14)).to.equal('fffffffffffffe'); // p * 2^56 = 1.5 rounds to 2
    });

    it('encodeThreshold pads to 14 digits before removing trailing zeros', () => {
      expect(encodeThreshold(0n)).to.equal('0');
      expect(encodeThreshold(1n)).to.equal('00000000000001');
      expect(encodeThreshold(0x80n << 48n)).to.equal('8');
      expect(encodeThreshold(0xan << 44n)).to.equal('00a');
    });
  });

  describe('parseThreshold, probability and adjusted count', () => {
    it('reads 1..14 hex digits padded with trailing zeros, either case', () => {
      expect(parseThreshold('8')).to.equal(1n << 55n);
      expect(parseThreshold('C')).to.equal(0xcn << 52n);
      expect(parseThreshold('0')).to.equal(0n);
      expect(parseThreshold('ffffffffffffff')).to.equal(MAX_THRESHOLD - 1n);
      for (const bad of ['', 'g', '0x8', '123456789abcdef', ' 8', '8;'])
        expect(parseThreshold(bad), bad).to.equal(undefined);
    });

    it('round-trips every encoded threshold', () => {
      for (const p of [0.5, 0.3, 0.1, 0.01, 1e-9, 0.999]) {
        const t = probabilityToThreshold(p)!;
        expect(parseThreshold(encodeThreshold(t))).to.equal(t);
      }
    });

    it('gives the probability and adjusted count of the spec (AdjustedCount = 2^56 / (2^56 - T))', () => {
      expect(thresholdToProbability(parseThreshold('c')!)).to.equal(0.25);
      expect(thresholdAdjustedCount(parseThreshold('c')!)).to.equal(4);
      expect(thresholdAdjustedCount(parseThreshold('8')!)).to.equal(2);
      expect(thresholdAdjustedCount(0n)).to.equal(1);
      expect(thresholdAdjustedCount(parseThreshold('e666')!)).to.be.closeTo(9.99939, 1e-5); // the spec's table
    });
  });

  describe('combineThresholds (proportional: this stage decides independently of the trace randomness)', () => {
    it('multiplies the probabilities and rounds to the precision', () => {
      const half = parseThreshold('8')!;
      const quarter = parseThreshold('c')!;
      expect(encodeThreshold(combineThresholds(half, quarter))).to.equal('e'); // 1/2 x 1/4 = 1/8
      expect(encodeThreshold(combineThresholds(quarter, half))).to.equal('e');
      expect(encodeThreshold(combineThresholds(parseThreshold('e666')!, half))).to.equal('f333'); // ~0.1 x 0.5
      expect(combineThresholds(0n, quarter)).to.equal(quarter);
    });

    it('never lowers a threshold, and saturates at the smallest probability', () => {
      const tiny = MAX_THRESHOLD - 1n;
      expect(combineThresholds(tiny, parseThreshold('8')!)).to.equal(tiny);
      const exact = parseThreshold('12345678abcdef')!;
      expect(combineThresholds(exact, 1n) >= exact, 'p_stage ~ 1: rounding must not lower it').to.equal(true);
    });
  });

  describe('parseTraceState (W3C grammar)', () => {
    it('accepts simple and multi-tenant keys, OWS and empty members, and drops the empties', () => {
      expect(parseTraceState(' rojo=00f067aa0ba902b7 ,\t, congo=t61rcWkgMzE,t0@sys_-*/=a b')).to.deep.equal([
        { key: 'rojo', value: '00f067aa0ba902b7' },
        { key: 'congo', value: 't61rcWkgMzE' },
        { key: 't0@sys_-*/', value: 'a b' },
      ]);
      expect(parseTraceState('')).to.deep.equal([]);
      expect(parseTraceState(Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','))).to.have.length(32);
    });

    const bad: Array<[string, string]> = [
      ['Upper=1', 'upper-case key'],
      ['1a=1', 'simple key starting with a digit'],
      ['a=', 'empty value'],
      ['a=b=c', 'value with ='],
      ['a=é', 'non-ASCII value'],
      ['a=\x01', 'control character'],
      ['a=1,a=2', 'duplicate key'],
      ['novalue', 'member without ='],
      ['t@Sys=1', 'upper-case system id'],
      ['t@abcdefghijklmno=1', 'system id longer than 14'],
      [Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), '33 members'],
    ];
    for (const [text, why] of bad) {
      it(`rejects ${why}`, () => {
        expect(parseTraceState(text)).to.equal(undefined);
      });
    }

    it('parses the ot value into unique key:value sub-entries', () => {
      expect(parseOtValue('th:8;rv:0123456789abcd;x1:A.b_c-d')).to.deep.equal([
        { key: 'th', value: '8' },
        { key: 'rv', value: '0123456789abcd' },
        { key: 'x1', value: 'A.b_c-d' },
      ]);
      for (const v of ['th', 'th:8;th:9', 'Th:8', '1x:2', 'th:8;', 'a:b c', `x:${'a'.repeat(255)}`])
        expect(parseOtValue(v), v).to.equal(undefined);
    });
  });

  describe('TraceStateThreshold', () => {
    const quarter = () => new TraceStateThreshold(parseThreshold('c')!);

    const cases: Array<{ name: string; input: string; want: string | undefined; outcome: string }> = [
      { name: 'adds ot=th to an empty tracestate', input: ' , ', want: 'ot=th:c', outcome: 'stamped' },
      {
        name: 'adds ot first and keeps every other member in order',
        input: 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE',
        want: 'ot=th:c,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
        outcome: 'stamped',
      },
      {
        name: 'adds th to an ot entry, keeping rv and moving ot first',
        input: 'a=1,ot=rv:0123456789abcd',
        want: 'ot=th:c;rv:0123456789abcd,a=1',
        outcome: 'stamped',
      },
      {
        name: 'raises an upstream th in place (1/2 x 1/4 = 1/8)',
        input: 'ot=rv:0123456789abcd;th:8;x:y,b=2',
        want: 'ot=rv:0123456789abcd;th:e;x:y,b=2',
        outcome: 'stamped',
      },
      { name: 'raises th:0 (100 %) to ours', input: 'ot=th:0', want: 'ot=th:c', outcome: 'stamped' },
      {
        name: 'leaves a threshold that cannot rise further',
        input: 'ot=th:ffffffffffffff',
        want: undefined,
        outcome: 'unchanged',
      },
      { name: 'leaves a malformed list untouched', input: 'a=1,A=2', want: undefined, outcome: 'malformed' },
      { name: 'leaves a malformed ot entry untouched', input: 'ot=th', want: undefined, outcome: 'malformed' },
      {
        name: 'leaves an invalid upstream th untouched',
        input: 'ot=th:123456789abcdef',
        want: undefined,
        outcome: 'malformed',
      },
      {
        name: 'leaves 32 members without ot untouched (no room)',
        input: Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(','),
        want: undefined,
        outcome: 'full',
      },
      {
        name: 'leaves ot untouched when th would push it over 256 characters',
        input: `ot=x:${'a'.repeat(250)}`,
        want: undefined,
        outcome: 'full',
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const got = quarter().rewriteText(c.input);
        expect(got).to.deep.equal(c.want === undefined ? { outcome: c.outcome } : { outcome: c.outcome, text: c.want });
      });
    }

    it('replaces ot among 32 members (no new member needed)', () => {
      const input = ['ot=th:8', ...Array.from({ length: 31 }, (_, i) => `k${i}=v`)].join(',');
      expect(quarter().rewriteText(input).text).to.equal(input.replace('th:8', 'th:e'));
    });

    it('rewrite works on bytes, counts every span and caches the last input', () => {
      const w = quarter();
      const buf = Buffer.from('xxvendor=1yyot=th:8zz', 'latin1');
      expect(Buffer.from(w.rewrite(buf, 2, 10)!).toString('latin1')).to.equal('ot=th:c,vendor=1');
      expect(Buffer.from(w.rewrite(Buffer.from('..vendor=1'), 2, 10)!).toString('latin1')).to.equal('ot=th:c,vendor=1'); // cache hit
      expect(Buffer.from(w.rewrite(buf, 12, 19)!).toString('latin1')).to.equal('ot=th:e');
      expect(Buffer.from(w.rewrite(buf, 5, 5)!).toString('latin1')).to.equal('ot=th:c'); // empty = absent
      expect(Buffer.from(w.forAbsent()).toString('latin1')).to.equal('ot=th:c');
      expect(w.rewrite(Buffer.from('a=1,a=1'), 0, 7)).to.equal(undefined);
      expect(w.rewrite(Buffer.from('a=1,a=1'), 0, 7)).to.equal(undefined);
      expect(w.counts).to.deep.equal({ stamped: 5, unchanged: 0, malformed: 2, full: 0 });
      expect(w.stageValue).to.equal('c');
    });

    it('refuses a stage threshold outside (0, 2^56)', () => {
      expect(() => new TraceStateThreshold(0n)).to.throw(RangeError);
      expect(() => new TraceStateThreshold(MAX_THRESHOLD)).to.throw(RangeError);
    });
  });

  describe('readOtSampling, parseRandomness, traceIdRandomness (consistent probability inputs)', () => {
    it('reads th and rv from the ot entry, wherever it stands in the list', () => {
      expect(readOtSampling('a=1,ot=th:c;rv:0123456789abcd;x:y')).to.deep.equal({
        threshold: 0xc0000000000000n,
        randomness: 0x0123456789abcdn,
      });
      expect(readOtSampling('ot=th:0')).to.deep.equal({ threshold: 0n, randomness: undefined });
      expect(readOtSampling('')).to.deep.equal({});
      expect(readOtSampling('vendor=keep')).to.deep.equal({});
    });

    const invalid: Array<[string, RegExp]> = [
      ['ot=rv:0123456789abc', /rv:0123456789abc \(exactly 14 hex digits\)/], // 13 digits
      ['ot=rv:0123456789abcde', /exactly 14 hex digits/], // 15 digits
      ['ot=th:fffffffffffffff', /th:fffffffffffffff \(1 to 14 hex digits\)/],
      ['ot=th:xyz', /1 to 14 hex digits/],
      ['ot=th', /not a valid OpenTelemetry entry/],
      ['ot=th:8,ot=th:c', /not a valid W3C list/],
    ];
    for (const [state, why] of invalid) {
      it(`ignores an invalid value and says so: ${state}`, () => {
        const ot = readOtSampling(state);
        expect(ot.invalid).to.match(why);
        expect(ot.randomness).to.equal(undefined);
      });
    }

    it('keeps the valid half of an entry with one invalid value', () => {
      expect(readOtSampling('ot=th:8;rv:zz')).to.deep.equal({
        threshold: 0x80000000000000n,
        randomness: undefined,
        invalid: 'rv:zz (exactly 14 hex digits)',
      });
    });

    it('parseRandomness takes exactly 14 hex digits (either case)', () => {
      expect(parseRandomness('ffffffffffffff')).to.equal(MAX_THRESHOLD - 1n);
      expect(parseRandomness('0000000000000A')).to.equal(10n);
      expect(parseRandomness('fffffffffffff')).to.equal(undefined);
    });

    it('traceIdRandomness is the 56 low bits of the trace id', () => {
      expect(traceIdRandomness('0af7651916cd43dd8448eb211c80319c')).to.equal(
        0xdd8448eb211c80319cn & (MAX_THRESHOLD - 1n),
      );
      expect(traceIdRandomness('ffffffffffffffffff00000000000000')).to.equal(0n);
    });
  });

  describe('TraceStateThreshold with the consistent rule', () => {
    const half = (): TraceStateThreshold => new TraceStateThreshold(parseThreshold('8')!, undefined, 'consistent');
    const cases: Array<{ input: string; want: string | undefined; outcome: string }> = [
      { input: '', want: 'ot=th:8', outcome: 'stamped' },
      { input: 'ot=th:4;rv:0123456789abcd', want: 'ot=th:8;rv:0123456789abcd', outcome: 'stamped' },
      { input: 'ot=th:0', want: 'ot=th:8', outcome: 'stamped' },
      // A consistent stage takes the larger threshold: a span sampled at 1/4 stays at 1/4 (not 1/8).
      { input: 'ot=th:c', want: undefined, outcome: 'unchanged' },
      { input: 'ot=th:8', want: undefined, outcome: 'unchanged' },
    ];
    for (const c of cases) {
      it(`${JSON.stringify(c.input)} -> ${String(c.want)} (${c.outcome})`, () => {
        const w = half();
        const out = w.rewriteText(c.input);
        expect(out.outcome).to.equal(c.outcome);
        expect(out.text).to.equal(c.want);
      });
    }
  });
});
