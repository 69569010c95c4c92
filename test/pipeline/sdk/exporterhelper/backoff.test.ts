// Unit tests of pipeline/sdk/exporterhelper/backoff.ts: capped exponential growth, full jitter bounds, Retry-After,
// permanent errors, max_elapsed_time (and 0 = no limit), disabled retries and abort.

import { expect } from 'chai';
import { PermanentError } from '../../../../pipeline/sdk/errors';
import { backoffCap, backoffDelay, backoffPolicyFrom, retryWithBackoff } from '../../../../pipeline/sdk/exporterhelper/backoff';
import type { BackoffPolicy } from '../../../../pipeline/sdk/exporterhelper/backoff';
import { retryOnFailureSchema } from '../../../../pipeline/sdk/exporterhelper/config';
import { ExporterErrorCode, ExportError } from '../../../../pipeline/sdk/exporterhelper/errors';

const fast = (over: Partial<BackoffPolicy> = {}): BackoffPolicy => ({
  enabled: true, initialIntervalMs: 1, maxIntervalMs: 5, multiplier: 2, maxElapsedTimeMs: 5000, ...over,
});
const retriable = (retryAfterMs?: number) => new ExportError(ExporterErrorCode.HTTP_STATUS, 'HTTP 503', { status: 503, retriable: true, retryAfterMs });

describe('pipeline/sdk/exporterhelper/backoff', () => {
  it('maps the retry_on_failure defaults: 1s initial, 30s max, 60s elapsed, x2', () => {
    expect(backoffPolicyFrom(retryOnFailureSchema.parse(undefined))).to.deep.equal({
      enabled: true, initialIntervalMs: 1000, maxIntervalMs: 30000, multiplier: 2, maxElapsedTimeMs: 60000,
    });
  });

  it('grows the cap by the multiplier and stops at max_interval', () => {
    const p = fast({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
    expect([0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffCap(p, n))).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });

  it('draws the wait uniformly in [0, cap] (full jitter)', () => {
    const p = fast({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
    expect(backoffDelay(p, 2, undefined, () => 0)).to.equal(0);
    expect(backoffDelay(p, 2, undefined, () => 0.5)).to.equal(2000);
    expect(backoffDelay(p, 2, undefined, () => 0.999999)).to.equal(3999);
    for (let i = 0; i < 200; i++) expect(backoffDelay(p, 3)).to.be.within(0, 8000);
  });

  it('waits at least the Retry-After delay, and the jittered delay when that is longer', () => {
    const p = fast({ initialIntervalMs: 1000, maxIntervalMs: 30000 });
    expect(backoffDelay(p, 0, 5000, () => 0.5)).to.equal(5000);
    expect(backoffDelay(p, 4, 100, () => 0.5)).to.equal(8000);
  });

  it('retries retriable failures until success and reports each retry', async () => {
    let calls = 0;
    const retries: number[] = [];
    const v = await retryWithBackoff(fast(), async () => {
      calls++;
      if (calls < 3) throw retriable();
      return 'ok';
    }, { onRetry: (_e, _d, n) => retries.push(n) });
    expect(v).to.equal('ok');
    expect(calls).to.equal(3);
    expect(retries).to.deep.equal([1, 2]);
  });

  it('treats errors that are not PipelineErrors as retriable', async () => {
    let calls = 0;
    await retryWithBackoff(fast(), async () => {
      if (++calls === 1) throw new Error('socket hang up');
    });
    expect(calls).to.equal(2);
  });

  it('never retries a permanent error', async () => {
    let calls = 0;
    const err = await retryWithBackoff(fast(), async () => {
      calls++;
      throw new PermanentError('ERR_TEST_BAD', 'bad');
    }).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect(err).to.be.instanceOf(PermanentError);
  });

  it('makes one attempt when retries are disabled and rethrows the retriable error', async () => {
    let calls = 0;
    const err = await retryWithBackoff(fast({ enabled: false }), async () => {
      calls++;
      throw retriable();
    }).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect((err as ExportError).code).to.equal(ExporterErrorCode.HTTP_STATUS);
  });

  it('gives up with a retriable RETRIES_EXHAUSTED error once max_elapsed_time would be passed', async () => {
    let calls = 0;
    const started = Date.now();
    const err = (await retryWithBackoff(fast({ initialIntervalMs: 20, maxIntervalMs: 20, maxElapsedTimeMs: 100 }), async () => {
      calls++;
      throw retriable();
    }, { random: () => 1 }).catch((e: unknown) => e)) as ExportError;
    expect(err.code).to.equal(ExporterErrorCode.RETRIES_EXHAUSTED);
    expect(err.retriable).to.equal(true);
    expect(err.status).to.equal(503);
    expect((err.cause as ExportError).code).to.equal(ExporterErrorCode.HTTP_STATUS);
    expect(calls).to.be.within(4, 6);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('gives up at once when Retry-After asks for more than the time left', async () => {
    let calls = 0;
    const started = Date.now();
    const err = (await retryWithBackoff(fast({ maxElapsedTimeMs: 1000 }), async () => {
      calls++;
      throw retriable(60_000);
    }).catch((e: unknown) => e)) as ExportError;
    expect(calls).to.equal(1);
    expect(err.code).to.equal(ExporterErrorCode.RETRIES_EXHAUSTED);
    expect(err.retryAfterMs).to.equal(60_000);
    expect(Date.now() - started).to.be.below(200);
  });

  it('honours Retry-After: the next attempt comes no earlier than asked', async () => {
    const times: number[] = [];
    await retryWithBackoff(fast(), async () => {
      times.push(Date.now());
      if (times.length === 1) throw retriable(250);
    });
    expect(times[1] - times[0]).to.be.at.least(245);
  });

  it('retries without a time limit when max_elapsed_time is 0', async () => {
    let calls = 0;
    await retryWithBackoff(fast({ maxElapsedTimeMs: 0, initialIntervalMs: 1, maxIntervalMs: 1 }), async () => {
      if (++calls < 40) throw retriable();
    });
    expect(calls).to.equal(40);
  });

  it('stops waiting when the signal aborts and rethrows the last (retriable) error', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    let calls = 0;
    const err = (await retryWithBackoff(fast({ initialIntervalMs: 10_000, maxIntervalMs: 10_000, maxElapsedTimeMs: 0 }), async () => {
      calls++;
      throw retriable();
    }, { signal: ac.signal, random: () => 1 }).catch((e: unknown) => e)) as ExportError;
    expect(Date.now() - started).to.be.below(1000);
    expect(calls).to.equal(1);
    expect(err.code).to.equal(ExporterErrorCode.HTTP_STATUS);
    expect(err.retriable).to.equal(true);
  });
});
