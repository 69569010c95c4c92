// The one decision codec (state/ledger.ts): the full local form and the short Redis form round-trip every
// record (numbers JSON cannot carry, odd keys and names); values already in Redis in the previous layouts
// decode (rolling upgrade), readers of the previous version read new values; damaged, foreign or newer
// values give undefined and a LedgerRecordError, never a throw; typical records stay small.

import { expect } from 'chai';
import type { DecisionRecord } from '../../../../pipeline/sdk/component';
import {
  decisionHead,
  decisionOutcome,
  decodeDecision,
  encodeDecision,
  ERR_LEDGER_RECORD,
  LEDGER_FORMAT_VERSION,
  LedgerRecordError,
  shortDecision,
} from '../../../../processors/tail-sampling/state/ledger';
import type { LedgerRecord } from '../../../../processors/tail-sampling/state/types';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

function record(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    traceId: TRACE,
    decision: 'sampled',
    policy: 'errors',
    reason: 'span 00f067aa0ba902b7 has status ERROR',
    inputs: {
      codes: 'ERROR',
      span_id: '00f067aa0ba902b7',
      trigger: 'root_settled',
      spans: 12,
      adjusted_count: 10,
      hit: true,
    },
    decidedAt: 1_764_000_000_123,
    ...over,
  };
}

/** A typical decision of the adaptive policy kept by a probability (what most kept traces look like). */
const TYPICAL: LedgerRecord = {
  traceId: TRACE,
  decision: 'sampled',
  policy: 'rest',
  reason: 'trace-id hash 0.0412 < p 0.1 for checkout:GET /cart',
  inputs: {
    key: 'checkout:GET /cart',
    target_traces_per_sec: 20,
    cluster_rate: 200.5,
    base_p: 0.0998,
    p: 0.1,
    hash: 0.0412,
    adjusted_count: 10,
    sampling_threshold: 'e666',
    trigger: 'root_settled',
    spans: 12,
    service: 'checkout',
    operation: 'GET /cart',
    root_duration_us: 48213,
  },
  decidedAt: 1_764_000_000_123,
  decidedBy: 'Jl2B-07B',
};

/** Decodes, collecting the errors reported. */
function decodeWithErrors(text: string): { record: LedgerRecord | undefined; errors: LedgerRecordError[] } {
  const errors: LedgerRecordError[] = [];
  const record = decodeDecision('x', text, (e) => errors.push(e));
  return { record, errors };
}

describe('state/ledger codec', () => {
  it('encodes decisions compactly and decodes them back', () => {
    const r = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      decision: 'not_sampled' as const,
      policy: 'rest',
      reason: 'adaptive rate 0.1',
      inputs: { rate: 0.1, key: 'svc', boosted: true },
      decidedAt: 1_700_000_000_000,
    };
    const text = encodeDecision(r);
    expect(text).not.to.contain(r.traceId);
    expect(text.length).to.be.lessThan(80);
    expect(decodeDecision(r.traceId, text)).to.deep.equal(r);
    expect(decodeDecision('x', 'not json')).to.equal(undefined);
    expect(decodeDecision('x', '{"d":"?","p":"a","t":1}')).to.equal(undefined);
    expect(decodeDecision('x', 'sa\x1f1\x1freason')).to.equal(undefined); // truncated (third field without its end)
    expect(decodeDecision('x', 'sa\x1f1\x1frA\x1fx')).to.equal(undefined); // short form with something after it
    expect(decodeDecision('x', 'sa')).to.equal(undefined); // no time
    expect(decodeDecision('x', 'sa\x1f\x1fr\x1f')).to.equal(undefined); // no time
    // No inputs, and a reason containing the separator, still round-trip.
    const bare = { ...r, decision: 'sampled' as const, reason: 'odd\x1freason', inputs: {} };
    expect(decodeDecision(r.traceId, encodeDecision(bare))).to.deep.equal(bare);
    expect(decisionOutcome(encodeDecision(bare))).to.equal('srest');
    // The short form stored in Redis keeps decision, policy, decidedAt and the shared items only.
    const short = shortDecision(text);
    expect(short).to.equal(`nrest\x1f${r.decidedAt.toString(36)}\x1f\x1f`);
    expect(decodeDecision(r.traceId, short)).to.deep.equal({ ...r, reason: '', inputs: {} });
    expect(decodeDecision('x', 'sa\x1f12!')).to.equal(undefined); // bad time
  });

  it("carries the deciding replica and a kept trace's sampling threshold into the short (Redis) form", () => {
    const kept = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      decision: 'sampled' as const,
      policy: 'rest',
      reason: 'trace-id hash 0.05 < p 0.1',
      inputs: { p: 0.1, adjusted_count: 10, sampling_threshold: 'e666' },
      decidedAt: 1_700_000_000_000,
      decidedBy: 'Ab3_x-9Z',
    };
    const text = encodeDecision(kept);
    expect(decodeDecision(kept.traceId, text), 'the full local form round-trips').to.deep.equal(kept);
    const short = shortDecision(text);
    expect(short).to.equal(`srest\x1f${kept.decidedAt.toString(36)}\x1frAb3_x-9Z,te666\x1f`);
    expect(decodeDecision(kept.traceId, short)).to.deep.equal({
      ...kept,
      reason: '',
      // The adjusted count is derived from the threshold: 2^56 / (2^56 - 0xe666 << 40).
      inputs: { sampling_threshold: 'e666', adjusted_count: 2 ** 56 / (2 ** 56 - 0xe666 * 2 ** 40) },
    });
    // The replica id given to encodeDecision (the recording store's) wins over the record's.
    expect(decodeDecision(kept.traceId, shortDecision(encodeDecision(kept, 'other')))?.decidedBy).to.equal('other');
    // A dropped trace carries no threshold; an invalid threshold is not carried; unknown items are skipped.
    // (\x1f, the unit separator, is the record's field delimiter.)
    /* eslint-disable no-control-regex */
    expect(shortDecision(encodeDecision({ ...kept, decision: 'not_sampled' }))).to.match(/\x1frAb3_x-9Z\x1f$/);
    expect(shortDecision(encodeDecision({ ...kept, inputs: { sampling_threshold: 'xyz' } }))).to.match(
      /\x1frAb3_x-9Z\x1f$/,
    );
    /* eslint-enable no-control-regex */
    expect(decodeDecision('x', 'sa\x1f1\x1fq?,rR1,tzz\x1f')).to.deep.equal({
      traceId: 'x',
      decision: 'sampled',
      policy: 'a',
      reason: '',
      inputs: {},
      decidedAt: 1,
      decidedBy: 'R1',
    });
    // Entries of the previous layout (`<s|n><policy>␟<decidedAt>`) still decode, without a replica.
    expect(decodeDecision('x', 'nrest\x1f1a')).to.deep.equal({
      traceId: 'x',
      decision: 'not_sampled',
      policy: 'rest',
      reason: '',
      inputs: {},
      decidedAt: 46,
    });
    // A reader of the previous layout accepts a value with a second separator only when a later one closes
    // the reason (else "reason without inputs"): the trailing separator does, so during a rolling upgrade
    // old replicas still follow new entries (reading the shared items as the reason).
    const second = short.indexOf('\x1f', short.indexOf('\x1f') + 1);
    expect(short.lastIndexOf('\x1f')).to.be.greaterThan(second);
  });

  it('round-trips records, including numbers JSON cannot carry and keys JSON or objects treat specially', () => {
    const inputs: Record<string, string | number | boolean> = {
      inf: Infinity,
      ninf: -Infinity,
      nan: NaN,
      negZero: -0,
      zero: 0,
      big: 2 ** 53 - 1,
      tiny: 5e-324,
      frac: 0.1 + 0.2,
      '10': 'integer-like key',
      'a"b\\c': 'quote and backslash',
      empty: '',
      uni: 'ünïcödé ✓ \u{1F600}',
      sep: 'a\x1fb',
      f: false,
    };
    Object.defineProperty(inputs, '__proto__', { value: 'own', enumerable: true, writable: true, configurable: true });
    const cases: DecisionRecord[] = [
      record(),
      record({ decision: 'not_sampled', policy: '(none)', reason: 'no policy sampled the trace (a: x; b: y)', inputs }),
      record({ policy: 'we\x1fird "name"', reason: '', inputs: {}, decidedAt: 0 }),
      record({ policy: 'esc\x1e0\x1e1\x1e', reason: 'a\x1e\x1fb' }),
      record({ decidedAt: -1 }),
    ];
    for (const r of cases) {
      const back = decodeDecision(r.traceId, encodeDecision(r))!;
      expect(back).to.deep.equal(r);
      expect(Object.keys(back)).to.deep.equal(Object.keys(r));
      expect(Object.keys(back.inputs)).to.deep.equal(Object.keys(r.inputs));
      for (const k of Object.keys(r.inputs)) expect(Object.is(back.inputs[k], r.inputs[k]), k).to.equal(true);
      const outcome = decisionOutcome(encodeDecision({ ...r, reason: '?' }));
      expect(decisionOutcome(encodeDecision(r)), 'the outcome is decision and policy only').to.equal(outcome);
    }
    const odd = decodeDecision(TRACE, encodeDecision(cases[1]))!;
    expect(Object.getPrototypeOf(odd.inputs)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(odd.inputs, '__proto__')?.value).to.equal('own');
    // A policy name with a separator is escaped, also in the short (Redis) form.
    expect(decodeDecision(TRACE, shortDecision(encodeDecision(cases[2])))?.policy).to.equal('we\x1fird "name"');
  });

  it('decisionHead is the short form of the full encoding, without building it', () => {
    const cases: LedgerRecord[] = [
      record(),
      TYPICAL,
      { ...TYPICAL, decision: 'not_sampled', policy: '(none)' },
      record({ policy: 'we\x1fird "name"', reason: 'a\x1fb', inputs: {}, decidedAt: 0 }),
      record({ policy: 'esc\x1e0\x1e1\x1e', decidedAt: Number.NaN }),
      { ...record({ decision: 'not_sampled' }), fingerprintOnly: { windowMs: 60_000 } },
      record({ inputs: { sampling_threshold: 'c', inf: Infinity } }),
    ];
    for (const r of cases) {
      for (const by of [undefined, 'Jl2B-07B']) {
        const head = decisionHead(r, by);
        expect(head, `${r.policy} by ${by}`).to.equal(shortDecision(encodeDecision(r, by)));
        expect(head.endsWith('\x1f')).to.equal(true);
      }
    }
  });

  it('keeps an input that is undefined at run time as an own undefined property', () => {
    const r = record({ inputs: { p95_us: undefined as unknown as number, n: 1 } });
    const back = decodeDecision(TRACE, encodeDecision(r))!;
    expect(Object.keys(back.inputs)).to.deep.equal(['p95_us', 'n']);
    expect(back.inputs.p95_us).to.equal(undefined);
  });

  it('keeps decidedAt to the whole millisecond', () => {
    const at = (decidedAt: number): number | undefined =>
      decodeDecision(TRACE, encodeDecision(record({ decidedAt })))?.decidedAt;
    expect(at(1_700_000_000_000.6)).to.equal(1_700_000_000_001);
    expect(at(NaN)).to.equal(0);
  });

  it('decodes values written in Redis by the previous version as they are (rolling upgrade)', () => {
    // Literal values of the current Redis layout, as the previous version wrote them (state/README.md).
    const at = parseInt('mww0nbsm', 36);
    const previous: Array<[string, LedgerRecord]> = [
      [
        'n(none)\x1fmww0nbsm\x1frJl2B-07B\x1f',
        {
          traceId: TRACE,
          decision: 'not_sampled',
          policy: '(none)',
          reason: '',
          inputs: {},
          decidedAt: at,
          decidedBy: 'Jl2B-07B',
        },
      ],
      [
        'srest\x1fmww0nbsm\x1frJl2B-07B,tf685\x1f',
        {
          traceId: TRACE,
          decision: 'sampled',
          policy: 'rest',
          reason: '',
          decidedAt: at,
          decidedBy: 'Jl2B-07B',
          inputs: { sampling_threshold: 'f685', adjusted_count: 2 ** 56 / (2 ** 56 - 0xf685 * 2 ** 40) },
        },
      ],
      // The layout before the shared field: no replica, no threshold.
      [
        'serrors\x1fmww0nbsm',
        {
          traceId: TRACE,
          decision: 'sampled',
          policy: 'errors',
          reason: '',
          inputs: {},
          decidedAt: at,
        },
      ],
    ];
    for (const [text, want] of previous) {
      const errors: LedgerRecordError[] = [];
      expect(
        decodeDecision(TRACE, text, (e) => errors.push(e)),
        JSON.stringify(text),
      ).to.deep.equal(want);
      expect(errors).to.deep.equal([]);
    }
    // And the other way round: what this version writes to Redis is byte for byte what the previous one wrote,
    // so replicas not yet upgraded read it.
    const kept = { ...previous[1][1], reason: 'trace-id hash', inputs: { p: 0.04, sampling_threshold: 'f685' } };
    expect(shortDecision(encodeDecision(kept))).to.equal(previous[1][0]);
    const dropped = { ...previous[0][1], reason: 'no policy', inputs: { spans: 3 } };
    expect(shortDecision(encodeDecision(dropped))).to.equal(previous[0][0]);
  });

  it('reads items added by a later version and rejects a layout newer than its own', () => {
    expect(LEDGER_FORMAT_VERSION).to.equal(1);
    // A later version adds a tagged item (here `x…`): this version skips it and reads the rest.
    expect(decodeDecision('x', 'srest\x1f1\x1frR1,xnew,te666\x1f')).to.deep.include({
      decision: 'sampled',
      policy: 'rest',
      decidedBy: 'R1',
      decidedAt: 1,
    });
    // An explicit version this code knows is read.
    const known = decodeDecision('x', `srest\x1f1\x1frR1,v${LEDGER_FORMAT_VERSION}\x1f`);
    expect(known).to.deep.include({ policy: 'rest', decidedBy: 'R1' });
    // A newer, incompatible layout is not misread.
    const { record: newer, errors } = decodeWithErrors(`srest\x1f1\x1frR1,v${LEDGER_FORMAT_VERSION + 1}\x1f`);
    expect(newer).to.equal(undefined);
    expect(errors).to.have.length(1);
    expect(errors[0].problem).to.equal('unsupported_version');
    expect(errors[0].message).to.contain(`v${LEDGER_FORMAT_VERSION + 1} is newer than v${LEDGER_FORMAT_VERSION}`);
  });

  it('gives undefined and a clear error for malformed or foreign values, never a throw', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /does not start with s or n/],
      ['{"decision":"sampled","policy":"rest"}', /does not start with s or n/],
      ['[1,1764000000123,"errors","why",null]', /does not start with s or n/], // the former decision cache's JSON array
      ['OK', /does not start with s or n/],
      ['srest', /no decision time/],
      ['srest\x1f', /decision time "" is not a base-36 integer/],
      ['srest\x1fzzzzzzzzzzzzzzzz\x1f\x1f', /is not a base-36 integer/], // beyond a safe integer
      ['srest\x1f1\x1frR1', /truncated/],
      ['srest\x1f1\x1frR1\x1fwhy', /reason without inputs/],
      ['srest\x1f1\x1f\x1fwhy\x1f{not json', /inputs are not a JSON object/],
      ['srest\x1f1\x1f\x1fwhy\x1f[1,2]', /inputs are not a JSON object/],
      ['srest\x1f1\x1f\x1fwhy\x1f{"a":{"q":1}}', /inputs are not a JSON object/],
      ['srest\x1f1\x1f\x1fwhy\x1f{"a":null}', /inputs are not a JSON object/],
      ['sre\x1e9st\x1f1\x1f\x1f', /bad escape/],
    ];
    for (const [text, message] of bad) {
      let result: ReturnType<typeof decodeWithErrors> | undefined;
      expect(() => (result = decodeWithErrors(text)), JSON.stringify(text)).not.to.throw();
      expect(result!.record, JSON.stringify(text)).to.equal(undefined);
      expect(result!.errors, JSON.stringify(text)).to.have.length(1);
      const err = result!.errors[0];
      expect(err).to.be.instanceOf(LedgerRecordError);
      expect(err).to.include({ code: ERR_LEDGER_RECORD, problem: 'malformed', traceId: 'x', retriable: false });
      expect(err.message, JSON.stringify(text)).to.match(message);
      expect(err.message).to.match(/^ledger record of trace x: /);
    }
  });

  it('keeps a typical record small: ~31 bytes in Redis, ~350 in the local store', () => {
    const full = encodeDecision(TYPICAL);
    const short = shortDecision(full);
    expect(short).to.equal(`srest\x1f${TYPICAL.decidedAt.toString(36)}\x1frJl2B-07B,te666\x1f`);
    expect(Buffer.byteLength(short)).to.equal(31);
    expect(Buffer.byteLength(full)).to.be.at.most(352);
    // JSON of the same record (what a JSON codec would store) is far larger than either form.
    expect(Buffer.byteLength(JSON.stringify(TYPICAL))).to.be.greaterThan(Buffer.byteLength(full) + 100);
    const dropped = shortDecision(encodeDecision({ ...TYPICAL, decision: 'not_sampled' }));
    expect(Buffer.byteLength(dropped)).to.equal(25);
  });
});
