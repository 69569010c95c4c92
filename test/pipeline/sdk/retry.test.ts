// Unit tests of pipeline/sdk/retry.ts: the retry_on_failure schema (defaults, one meaning of 0, checks), the
// backoff rule (capped exponential growth, randomization factor), server delay hints, permanent errors,
// max_elapsed_time (and 0 = no limit), disabled retries and abort. Time is faked unless the test is about
// real waiting.

import { expect } from 'chai';
import { BackpressureError, PermanentError, PipelineError } from '../../../pipeline/sdk/errors';
import {
  backoffDelay,
  backoffInterval,
  backoffPolicyFrom,
  MAX_RETRY_AFTER_MS,
  retry,
  retryAfterOf,
  retryOnFailureSchemaWith,
  type BackoffPolicy,
} from '../../../pipeline/sdk/retry';

const schema = retryOnFailureSchemaWith({ initial_interval: '1s', max_interval: '30s', max_elapsed_time: '60s' });
const messages = (r: { error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

const policy = (over: Partial<BackoffPolicy> = {}): BackoffPolicy => ({
  enabled: true,
  initialIntervalMs: 100,
  randomizationFactor: 0.5,
  multiplier: 2,
  maxIntervalMs: 1000,
  maxElapsedTimeMs: 10_000,
  ...over,
});

/** hint is a retriable error carrying a server's delay hint. */
const hint = (ms?: number) => Object.assign(new PipelineError('ERR_TEST_BUSY', 'busy'), { retryAfterMs: ms });

/** fakeTime is a clock that only moves when the loop sleeps; it records every wait. */
function fakeTime() {
  const t = { now: 0, waits: [] as number[] };
  const sleep = async (ms: number, signal?: AbortSignal): Promise<boolean> => {
    if (signal?.aborted) return true;
    t.waits.push(ms);
    t.now += ms;
    return false;
  };
  return { t, opts: { now: () => t.now, sleep, random: () => 0.5 } };
}

/** failing fails `times` times with `err`, then resolves with 'ok'; it counts its calls. */
function failing(times: number, err: () => unknown) {
  const f = {
    calls: 0,
    run: async (): Promise<string> => {
      f.calls++;
      if (f.calls <= times) throw err();
      return 'ok';
    },
  };
  return f;
}

describe('pipeline/sdk/retry', () => {
  describe('retry_on_failure schema', () => {
    it('fills the component defaults, randomization_factor 0.5 and multiplier 2, and parses durations', () => {
      expect(schema.parse(undefined)).to.deep.equal({
        enabled: true,
        initial_interval: 1000,
        randomization_factor: 0.5,
        multiplier: 2,
        max_interval: 30000,
        max_elapsed_time: 60000,
      });
      const other = retryOnFailureSchemaWith({
        initial_interval: '100ms',
        max_interval: '5s',
        max_elapsed_time: '30s',
        multiplier: 3,
      });
      expect(other.parse({})).to.include({
        initial_interval: 100,
        max_interval: 5000,
        max_elapsed_time: 30000,
        multiplier: 3,
      });
      const raw = { initial_interval: '250ms', max_elapsed_time: '0', enabled: 'false', randomization_factor: '0' };
      expect(schema.parse(raw)).to.include({
        initial_interval: 250,
        max_elapsed_time: 0,
        enabled: false,
        randomization_factor: 0,
      });
    });

    it('rejects max_interval < initial_interval, unknown keys, a zero initial interval, a factor outside 0..1', () => {
      expect(messages(schema.safeParse({ initial_interval: '5s', max_interval: '1s' }))).to.deep.equal([
        'max_interval: must be at least initial_interval (5000ms), got 1000ms',
      ]);
      expect(schema.safeParse({ max_elapsed: '1s' }).success).to.equal(false);
      expect(schema.safeParse({ initial_interval: 0 }).success).to.equal(false);
      expect(schema.safeParse({ randomization_factor: 1.5 }).success).to.equal(false);
      expect(schema.safeParse({ randomization_factor: -0.1 }).success).to.equal(false);
      expect(schema.safeParse({ multiplier: 0.5 }).success).to.equal(false);
    });

    it('maps a section to a BackoffPolicy in ms', () => {
      expect(backoffPolicyFrom(schema.parse(undefined))).to.deep.equal({
        enabled: true,
        initialIntervalMs: 1000,
        randomizationFactor: 0.5,
        multiplier: 2,
        maxIntervalMs: 30000,
        maxElapsedTimeMs: 60000,
      });
    });
  });

  describe('backoff rule', () => {
    it('grows the interval by the multiplier and stops at max_interval', () => {
      const p = policy({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
      expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffInterval(p, n))).to.deep.equal([
        1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
      ]);
      const slower = policy({ initialIntervalMs: 100, multiplier: 1.5, maxIntervalMs: 1000 });
      expect(backoffInterval(slower, 2)).to.equal(225);
    });

    it('draws the wait uniformly within +-randomization_factor of the interval', () => {
      const p = policy({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
      expect(backoffDelay(p, 2, undefined, () => 0)).to.equal(2000);
      expect(backoffDelay(p, 2, undefined, () => 0.5)).to.equal(4000);
      expect(backoffDelay(p, 2, undefined, () => 0.999999)).to.equal(5999);
      expect(backoffDelay(p, 5, undefined, () => 0.999999)).to.equal(
        44999,
        'max_interval caps the interval, not the randomized wait',
      );
      for (let i = 0; i < 200; i++) expect(backoffDelay(p, 3)).to.be.within(4000, 12000);
      const fixed = policy({ randomizationFactor: 0 });
      expect(backoffDelay(fixed, 1, undefined, () => 0.9)).to.equal(200, 'factor 0 = no jitter');
    });

    it('waits at least the server hint, and the randomized wait when that is longer; a huge hint is capped', () => {
      const p = policy({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
      expect(backoffDelay(p, 0, 5000, () => 0.5)).to.equal(5000);
      expect(backoffDelay(p, 4, 100, () => 0.5)).to.equal(16000);
      expect(backoffDelay(p, 0, 86_400_000, () => 0.5)).to.equal(MAX_RETRY_AFTER_MS);
    });

    it('reads the hint from any error carrying retryAfterMs', () => {
      expect(retryAfterOf(new BackpressureError('full', 250))).to.equal(250);
      expect(retryAfterOf(hint(40))).to.equal(40);
      expect(retryAfterOf({ retryAfterMs: 7 })).to.equal(7);
      for (const none of [new Error('x'), hint(undefined), { retryAfterMs: '5' }, { retryAfterMs: -1 }, null, 'busy']) {
        expect(retryAfterOf(none)).to.equal(undefined);
      }
    });
  });

  describe('retry', () => {
    it('retries retriable failures until success, reports each retry, and waits per the rule', async () => {
      const { t, opts } = fakeTime();
      const f = failing(3, () => new Error('socket hang up'));
      const retries: Array<[number, number]> = [];
      const v = await retry(policy(), f.run, { ...opts, onRetry: (_e, d, n) => retries.push([n, d]) });
      expect(v).to.equal('ok');
      expect(f.calls).to.equal(4);
      expect(retries).to.deep.equal([
        [1, 100],
        [2, 200],
        [3, 400],
      ]);
      expect(t.waits).to.deep.equal([100, 200, 400]);
    });

    it('passes the 0-based attempt number to the attempt', async () => {
      const { opts } = fakeTime();
      const seen: number[] = [];
      await retry(
        policy(),
        async (n) => {
          seen.push(n);
          if (n < 2) throw new Error('again');
        },
        opts,
      );
      expect(seen).to.deep.equal([0, 1, 2]);
    });

    it('never retries a permanent error', async () => {
      const { t, opts } = fakeTime();
      const f = failing(5, () => new PermanentError('ERR_TEST_BAD', 'bad'));
      const err = await retry(policy(), f.run, opts).catch((e: unknown) => e);
      expect(f.calls).to.equal(1);
      expect(err).to.be.instanceOf(PermanentError);
      expect(t.waits).to.deep.equal([]);
    });

    it('lets the caller say which errors are retriable', async () => {
      const { opts } = fakeTime();
      const f = failing(2, () => new PermanentError('ERR_TEST_BAD', 'bad'));
      expect(await retry(policy(), f.run, { ...opts, retriable: () => true })).to.equal('ok');
      expect(f.calls).to.equal(3);
    });

    it('makes one attempt when retries are disabled and rethrows the retriable error', async () => {
      const { opts } = fakeTime();
      const busy = hint(10);
      const f = failing(5, () => busy);
      const err = await retry(policy({ enabled: false }), f.run, opts).catch((e: unknown) => e);
      expect(f.calls).to.equal(1);
      expect(err).to.equal(busy);
    });

    it('gives up with the last error (or what `exhausted` makes of it) when a wait would pass the budget', async () => {
      const { t, opts } = fakeTime();
      const f = failing(100, () => hint(undefined));
      const p = policy({ initialIntervalMs: 20, maxIntervalMs: 20, maxElapsedTimeMs: 100 });
      const exhausted = (last: unknown, attempts: number, elapsed: number) => ({ last, attempts, elapsed });
      const err = await retry(p, f.run, { ...opts, exhausted }).catch((e: unknown) => e);
      expect(f.calls).to.equal(6, 'waits of 20ms at t=0..80; at t=100 one more would pass 100ms');
      expect(err).to.deep.include({ attempts: 6, elapsed: 100 });
      expect((err as { last: PipelineError }).last.code).to.equal('ERR_TEST_BUSY');
      expect(t.now).to.equal(100);
      const plain = await retry(p, failing(100, () => hint(undefined)).run, opts).catch((e: unknown) => e);
      expect((plain as PipelineError).code).to.equal('ERR_TEST_BUSY');
    });

    it('gives up at once when the hint asks for more than the time left, instead of waiting less', async () => {
      const { t, opts } = fakeTime();
      const f = failing(5, () => hint(60_000));
      const err = await retry(policy({ maxElapsedTimeMs: 1000 }), f.run, opts).catch((e: unknown) => e);
      expect(f.calls).to.equal(1);
      expect(retryAfterOf(err)).to.equal(60_000);
      expect(t.waits).to.deep.equal([]);
    });

    it('honours the hint: the next attempt comes no earlier than asked (real time)', async () => {
      const times: number[] = [];
      await retry(policy({ initialIntervalMs: 1, maxIntervalMs: 5 }), async () => {
        times.push(Date.now());
        if (times.length === 1) throw new BackpressureError('busy', 250);
      });
      expect(times[1] - times[0]).to.be.at.least(245);
    });

    it('retries without a time limit when max_elapsed_time is 0', async () => {
      const { t, opts } = fakeTime();
      const f = failing(40, () => new Error('down'));
      const forever = policy({ maxElapsedTimeMs: 0, initialIntervalMs: 1000, maxIntervalMs: 60_000 });
      expect(await retry(forever, f.run, opts)).to.equal('ok');
      expect(f.calls).to.equal(41);
      expect(t.now).to.be.above(1_000_000, 'far beyond any budget');
    });

    it('stops waiting when the signal aborts and rethrows the last (retriable) error (real time)', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const started = Date.now();
      const busy = hint(undefined);
      const f = failing(100, () => busy);
      const p = policy({ initialIntervalMs: 10_000, maxIntervalMs: 10_000, maxElapsedTimeMs: 0 });
      const err = await retry(p, f.run, { signal: ac.signal }).catch((e: unknown) => e);
      expect(Date.now() - started).to.be.below(1000);
      expect(f.calls).to.equal(1);
      expect(err).to.equal(busy);
    });

    it('does not wait at all when the signal is already aborted', async () => {
      const { t, opts } = fakeTime();
      const ac = new AbortController();
      ac.abort();
      const f = failing(100, () => new Error('down'));
      await retry(policy(), f.run, { ...opts, signal: ac.signal }).catch(() => undefined);
      expect(f.calls).to.equal(1);
      expect(t.waits).to.deep.equal([]);
    });
  });
});
