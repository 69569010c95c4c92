// The one retry-with-backoff of the pipeline and the `retry_on_failure` config section it reads, shared by
// the exporters, tail_sampling's forwarder and the Kafka receiver's redelivery.
//
// Backoff rule (the OpenTelemetry Collector's, from cenkalti/backoff): the interval before retry n (0-based)
// is min(max_interval, initial_interval * multiplier^n); the wait is drawn uniformly in
// [interval * (1 - randomization_factor), interval * (1 + randomization_factor)]. So max_interval caps the
// interval, and a randomized wait may exceed it by the factor. Chosen over full jitter because it is what the
// Collector's users configure, and because a wait never collapses to ~0 (no burst of retries at once).
//
// A server's delay hint (an error's `retryAfterMs`: HTTP Retry-After, gRPC RetryInfo, BackpressureError) is
// a floor: the wait is never shorter. A hint above MAX_RETRY_AFTER_MS counts as that (a far-future date in a
// Retry-After header must not park data for days). When the wait would pass max_elapsed_time the loop gives
// up at once rather than wait less than asked. `max_elapsed_time: 0` means no limit.

import { z } from 'zod';
import { bool, duration, num } from './config-types';
import { isRetriable } from './errors';

/** Default growth factor of the backoff interval. */
export const DEFAULT_MULTIPLIER = 2;
/** Default randomization factor: each wait lies within +-50% of the interval. */
export const DEFAULT_RANDOMIZATION_FACTOR = 0.5;
/** Longest server delay hint honoured as such (5 minutes, the Collector's default retry budget). */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** RetryDefaults are one component's defaults of the `retry_on_failure` keys (durations as in a .tsk file). */
export interface RetryDefaults {
  readonly initial_interval: string;
  readonly max_interval: string;
  readonly max_elapsed_time: string;
  readonly multiplier?: number;
  readonly randomization_factor?: number;
}

/**
 * retryOnFailureSchemaWith builds the zod schema of a `retry_on_failure` section with a component's
 * defaults. Keys (the Collector's): `enabled` (default true; false = one attempt, then the retriable error
 * goes back to the sender), `initial_interval` (> 0), `randomization_factor` (0..1, default 0.5; 0 = no
 * jitter), `multiplier` (>= 1, default 2), `max_interval` (>= initial_interval), `max_elapsed_time` (time
 * spent retrying one piece of data before giving up retriably; 0 = no limit: retry until success, a
 * permanent error or shutdown). Every key is optional; an absent section is all defaults.
 */
export function retryOnFailureSchemaWith(defaults: RetryDefaults) {
  return z
    .object({
      enabled: bool().default(true),
      initial_interval: duration({ min: 1 }).prefault(defaults.initial_interval),
      randomization_factor: num({ min: 0, max: 1 }).default(defaults.randomization_factor ?? DEFAULT_RANDOMIZATION_FACTOR),
      multiplier: num({ min: 1 }).default(defaults.multiplier ?? DEFAULT_MULTIPLIER),
      max_interval: duration({ min: 1 }).prefault(defaults.max_interval),
      max_elapsed_time: duration({ min: 0 }).prefault(defaults.max_elapsed_time),
    })
    .strict()
    .superRefine((c, ctx) => {
      if (c.max_interval < c.initial_interval) {
        const message = `must be at least initial_interval (${c.initial_interval}ms), got ${c.max_interval}ms`;
        ctx.addIssue({ code: 'custom', path: ['max_interval'], message });
      }
    })
    .prefault({});
}

/** RetryOnFailureConfig is a parsed `retry_on_failure` section (durations in ms). */
export type RetryOnFailureConfig = z.output<ReturnType<typeof retryOnFailureSchemaWith>>;

/** BackoffPolicy is a retry_on_failure section in the units the loop uses (ms). */
export interface BackoffPolicy {
  readonly enabled: boolean;
  readonly initialIntervalMs: number;
  /** Each wait lies within +-factor of the interval (0..1). */
  readonly randomizationFactor: number;
  readonly multiplier: number;
  readonly maxIntervalMs: number;
  /** Retry budget of one run; 0 = no limit. */
  readonly maxElapsedTimeMs: number;
}

/** backoffPolicyFrom maps a parsed `retry_on_failure` section to a BackoffPolicy. */
export function backoffPolicyFrom(c: RetryOnFailureConfig): BackoffPolicy {
  return {
    enabled: c.enabled,
    initialIntervalMs: c.initial_interval,
    randomizationFactor: c.randomization_factor,
    multiplier: c.multiplier,
    maxIntervalMs: c.max_interval,
    maxElapsedTimeMs: c.max_elapsed_time,
  };
}

/** backoffInterval is the interval before retry `n` (0-based), before randomization: min(max, initial * multiplier^n). */
export function backoffInterval(policy: BackoffPolicy, n: number): number {
  const grown = policy.initialIntervalMs * Math.pow(policy.multiplier, n);
  return Math.min(policy.maxIntervalMs, Number.isFinite(grown) ? grown : policy.maxIntervalMs);
}

/**
 * backoffDelay is the wait before retry `n` (0-based): the interval randomized by the policy's factor (see
 * the file header), but never shorter than the server's hint `retryAfterMs` (at most MAX_RETRY_AFTER_MS).
 */
export function backoffDelay(policy: BackoffPolicy, n: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const f = policy.randomizationFactor;
  const wait = Math.floor(backoffInterval(policy, n) * (1 - f + 2 * f * random()));
  return retryAfterMs === undefined ? wait : Math.max(wait, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/**
 * retryAfterOf is the delay a server asked for, carried by an error as `retryAfterMs` (ExportError,
 * BackpressureError, or any error of that shape, e.g. from a custom module with its own copy of the SDK).
 */
export function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** RetryOptions tune one run of `retry`. */
export interface RetryOptions {
  /** Aborting stops the wait at once; the run rejects with the last error. */
  readonly signal?: AbortSignal;
  /** Called before each wait: the failed attempt's error, the wait in ms and the retry number (1-based). */
  readonly onRetry?: (err: unknown, delayMs: number, retry: number) => void;
  /** Whether an error is worth another attempt. Default: isRetriable (all but permanent errors). */
  readonly retriable?: (err: unknown) => boolean;
  /**
   * The error to reject with when max_elapsed_time runs out (`attempts` made, `elapsedMs` spent). Default:
   * the last error.
   */
  readonly exhausted?: (last: unknown, attempts: number, elapsedMs: number) => unknown;
  /** Source of randomness in [0, 1) (tests pin it). Default Math.random. */
  readonly random?: () => number;
  /** Clock in ms (tests pin it). Default Date.now. */
  readonly now?: () => number;
  /** Waits `ms` and resolves true when the signal aborted the wait (tests replace it). Default `sleep`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<boolean>;
}

/**
 * retry runs `attempt` (given the 0-based attempt number) until it resolves, and resolves with its value.
 * It rejects with the last error at once when the error is not retriable (a PermanentError), when retries
 * are disabled, or when the signal is aborted (before or during a wait); with `exhausted(...)` (default: the
 * last error) when the next wait would pass max_elapsed_time. It never resolves on failure.
 */
export async function retry<T>(policy: BackoffPolicy, attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const retriable = options.retriable ?? isRetriable;
  const started = now();
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!policy.enabled || !retriable(err) || options.signal?.aborted) throw err;
      const delay = backoffDelay(policy, n, retryAfterOf(err), options.random);
      const elapsed = now() - started;
      if (policy.maxElapsedTimeMs > 0 && elapsed + delay > policy.maxElapsedTimeMs) {
        throw options.exhausted ? options.exhausted(err, n + 1, elapsed) : err;
      }
      options.onRetry?.(err, delay, n + 1);
      if (await wait(delay, options.signal)) throw err;
    }
  }
}

/** sleep waits `ms` milliseconds; it resolves true early when the signal aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
