// Retry with exponential backoff and full jitter, honouring a backend's Retry-After: the loop every
// exporter runs around one request. Permanent errors stop it at once; retriable ones are retried until
// success, max_elapsed_time, or an abort (shutdown / the caller gave up).

import { isRetriable, PipelineError } from '../errors';
import type { RetryOnFailureConfig } from './config';
import { ExporterErrorCode, ExportError, retryAfterOf } from './errors';

/** BackoffPolicy is the parsed retry_on_failure section in the units the loop uses. */
export interface BackoffPolicy {
  readonly enabled: boolean;
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly multiplier: number;
  /** 0 = no limit. */
  readonly maxElapsedTimeMs: number;
}

/** backoffPolicyFrom maps the snake_case config section to a BackoffPolicy. */
export function backoffPolicyFrom(c: RetryOnFailureConfig): BackoffPolicy {
  return {
    enabled: c.enabled,
    initialIntervalMs: c.initial_interval,
    maxIntervalMs: c.max_interval,
    multiplier: c.multiplier,
    maxElapsedTimeMs: c.max_elapsed_time,
  };
}

/** backoffCap is the upper bound of the wait before retry number `attempt` (0-based): min(max, initial * multiplier^attempt). */
export function backoffCap(policy: BackoffPolicy, attempt: number): number {
  const grown = policy.initialIntervalMs * Math.pow(policy.multiplier, attempt);
  return Math.min(policy.maxIntervalMs, Number.isFinite(grown) ? grown : policy.maxIntervalMs);
}

/**
 * backoffDelay is the wait before retry number `attempt`: uniform in [0, cap] (full jitter), but never
 * shorter than the delay the backend asked for (`retryAfterMs`).
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const jittered = Math.floor(random() * backoffCap(policy, attempt));
  return retryAfterMs !== undefined && retryAfterMs > jittered ? retryAfterMs : jittered;
}

/** RetryHooks observe the loop (metrics, logs). */
export interface RetryHooks {
  /** Called before each wait: the failed attempt's error, the wait in ms and the retry number (1-based). */
  onRetry?(err: unknown, delayMs: number, retry: number): void;
}

/** RetryOptions tune one run of the loop. */
export interface RetryOptions extends RetryHooks {
  /** Aborting stops waiting and rejects with the last error (retriable). */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1) (tests pin it). */
  random?: () => number;
  /** Clock in ms (tests pin it). */
  now?: () => number;
}

/**
 * retryWithBackoff runs `attempt` until it resolves. A permanent error (isRetriable false) is rethrown at
 * once. A retriable one is retried after backoffDelay unless retries are disabled, the next wait would go
 * past max_elapsed_time (then it throws ERR_EXPORTER_RETRIES_EXHAUSTED, retriable, cause = last error), or
 * the signal is aborted (then the last error is rethrown). It never resolves on failure.
 */
export async function retryWithBackoff<T>(policy: BackoffPolicy, attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isRetriable(err) || !policy.enabled) throw err;
      if (options.signal?.aborted) throw err;
      const delay = backoffDelay(policy, n, retryAfterOf(err), options.random);
      if (policy.maxElapsedTimeMs > 0 && now() - started + delay > policy.maxElapsedTimeMs) {
        throw new ExportError(
          ExporterErrorCode.RETRIES_EXHAUSTED,
          `gave up after ${n + 1} attempt(s) in ${now() - started}ms (max_elapsed_time ${policy.maxElapsedTimeMs}ms): ${describe(err)}`,
          { cause: err, retriable: true, status: err instanceof ExportError ? err.status : undefined, retryAfterMs: retryAfterOf(err) },
        );
      }
      options.onRetry?.(err, delay, n + 1);
      const aborted = await sleep(delay, options.signal);
      if (aborted) throw err;
    }
  }
}

/** sleep waits `ms` milliseconds; it resolves true early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
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

function describe(err: unknown): string {
  if (err instanceof PipelineError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
