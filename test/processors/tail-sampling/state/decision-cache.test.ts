// The local store of recent decisions (state/decision-cache.ts), the one both sampling states use: entries are
// held as one encoded string and come back as equal records; the LRU bound counts a get as a use; entries
// expire; `add` keeps the first decision; values that do not decode are counted (metric) and logged, not thrown.

import { expect } from 'chai';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { DecisionRecord } from '../../../../pipeline/sdk/component';
import { DecisionCache } from '../../../../processors/tail-sampling/state/decision-cache';
import { encodeDecision } from '../../../../processors/tail-sampling/state/ledger';
import { metricValue } from '../helpers/fixtures';
import { FakeClock } from './random';

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

const id = (i: number): string => i.toString(16).padStart(32, '0');

describe('tail_sampling state/decision-cache (the local store of recent decisions)', () => {
  it('stores one string per entry and returns an equal record for the trace id', () => {
    const cache = new DecisionCache({ maxEntries: 10 });
    expect(cache.set(record())).to.equal(encodeDecision(record()));
    expect(cache.size).to.equal(1);
    expect(cache.get(TRACE)).to.deep.equal(record());
    expect(cache.get(TRACE)).not.to.equal(cache.get(TRACE)); // rebuilt on demand: nothing but the string is held
    expect(cache.get('ffffffffffffffffffffffffffffffff')).to.equal(undefined);
    cache.set(record({ decision: 'not_sampled', policy: 'later' }));
    expect(cache.size).to.equal(1);
    expect(cache.get(TRACE)?.policy).to.equal('later');
    // The recording replica's id is stored with the decision.
    cache.set(record(), 'replicaA');
    expect(cache.get(TRACE)).to.deep.equal({ ...record(), decidedBy: 'replicaA' });
  });

  it('evicts the least recently used entry beyond capacity, counting get as a use', () => {
    const cache = new DecisionCache({ maxEntries: 3 });
    for (let i = 1; i <= 3; i++) cache.set(record({ traceId: id(i), decidedAt: i }));
    expect(cache.get(id(1))?.decidedAt).to.equal(1); // 1 is now the most recent
    cache.set(record({ traceId: id(4), decidedAt: 4 }));
    expect(cache.size).to.equal(3);
    expect(cache.evicted).to.equal(1);
    expect(cache.get(id(2))).to.equal(undefined);
    expect([1, 3, 4].map((i) => cache.get(id(i))?.decidedAt)).to.deep.equal([1, 3, 4]);
  });

  it('forgets entries after the TTL (sweep removes them)', () => {
    const clock = new FakeClock(1_000);
    const cache = new DecisionCache({ maxEntries: 10, ttlMs: 60_000, now: clock.now });
    cache.set(record({ traceId: id(1) }));
    clock.advance(30_000);
    cache.set(record({ traceId: id(2) }));
    clock.advance(30_001);
    expect(cache.get(id(1))).to.equal(undefined);
    expect(cache.get(id(2))?.traceId).to.equal(id(2));
    clock.advance(30_000);
    expect(cache.sweep()).to.equal(1);
    expect(cache.size).to.equal(0);
  });

  it('add keeps a decision held already (first wins); a forgotten one is replaced', () => {
    const cache = new DecisionCache({ maxEntries: 2 });
    cache.add(record({ policy: 'first' }));
    cache.add(record({ policy: 'second' }));
    expect(cache.get(TRACE)?.policy).to.equal('first');
    cache.set(record({ traceId: id(1) }));
    cache.set(record({ traceId: id(2) })); // evicts TRACE
    cache.add(record({ policy: 'third' }));
    expect(cache.get(TRACE)?.policy).to.equal('third');
  });

  it('holds values read from a ledger as they are, and decodes them on demand', () => {
    const cache = new DecisionCache({ maxEntries: 10 });
    cache.setEncoded(TRACE, 'srest\x1f1a\x1frR1,te666\x1f');
    expect(cache.get(TRACE)).to.deep.include({ policy: 'rest', reason: '', decidedAt: 46, decidedBy: 'R1' });
    expect(cache.decode(TRACE, 'nslow\x1f1a')).to.deep.include({ decision: 'not_sampled', policy: 'slow' });
    expect(cache.undecodable).to.equal(0);
  });

  it('counts and logs values that do not decode, by reason, and answers undefined', async () => {
    const metrics = new Registry();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const clock = new FakeClock(1_000);
    const cache = new DecisionCache({ maxEntries: 10, now: clock.now, metrics, logger });
    expect(cache.decode(TRACE, '{"foreign":"json"}')).to.equal(undefined);
    expect(cache.decode(TRACE, 'srest\x1f1\x1fv9\x1f')).to.equal(undefined);
    cache.setEncoded(id(1), 'garbage');
    expect(cache.get(id(1))).to.equal(undefined);
    expect(cache.undecodable).to.equal(3);
    const metric = 'tusk_state_ledger_undecodable_total';
    expect(await metricValue(metrics, metric, { reason: 'malformed' })).to.equal(2);
    expect(await metricValue(metrics, metric, { reason: 'unsupported_version' })).to.equal(1);
    expect(lines, 'logged once a minute at most').to.have.length(1);
    expect(JSON.parse(lines[0]).err.message).to.equal(
      `ledger record of trace ${TRACE}: not a decision (does not start with s or n)`,
    );
    clock.advance(60_000);
    cache.decode(TRACE, 'x');
    expect(lines).to.have.length(2);
    expect(JSON.parse(lines[1]).undecodable, 'the count since the last line').to.equal(3);
    // Two stores on one registry share the metric.
    const other = new DecisionCache({ maxEntries: 1, metrics });
    other.decode(TRACE, 'x');
    expect(await metricValue(metrics, metric)).to.equal(5);
  });
});
