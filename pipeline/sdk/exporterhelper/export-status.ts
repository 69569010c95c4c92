// What an exporter says about its backend while it fails: the one mechanism every exporter shares. The
// first failed attempt after a success logs ONE warn line (component, endpoint, cause, "retrying"); while
// the failures go on, one line per warn interval with the count since; the stack trace only at debug; a
// success after failures logs one info line. health() turns not ready once the exporter has failed with
// no success for `not_ready_after`, with the endpoint and the cause as the reason (/readyz answers 503).

import type { Logger } from 'pino';
import type { ComponentHealth } from '../component';
import { errorMessage, PipelineError } from '../errors';

/** Default interval between two warn lines of one failure streak (the first one is logged at once). */
export const DEFAULT_WARN_INTERVAL_MS = 60_000;

/** ExportStatusOptions configures an ExportStatus. */
export interface ExportStatusOptions {
  /** Component id, e.g. "exporters.jaeger". */
  readonly component: string;
  /** Where the exporter sends (URL, host:port, topic on brokers), as the operator configured it. */
  readonly endpoint: string;
  readonly logger: Logger;
  /** Failing this long with no success makes health() not ready; 0 = at the first failure. */
  readonly notReadyAfterMs: number;
  /** Interval between warn lines while the failures go on. Default DEFAULT_WARN_INTERVAL_MS. */
  readonly warnIntervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
}

/** causeOf is the one-line cause of a failure: the error's code (when it has one) and its message. */
export function causeOf(err: unknown): string {
  if (err instanceof PipelineError) return `${err.code}: ${err.message}`;
  return errorMessage(err);
}

/**
 * ExportStatus tracks the outcome of an exporter's attempts: call `succeeded()` after each accepted
 * request and `failed(err)` after each failed attempt the exporter will retry (or hand back to its sender).
 */
export class ExportStatus {
  private readonly _now: () => number;
  private readonly _warnIntervalMs: number;
  /** Start of the current failure streak; undefined while the last outcome was a success (or none yet). */
  private _failingSince?: number;
  private _lastCause = '';
  private _failures = 0;
  private _lastWarnAt = 0;
  private _failuresAtLastWarn = 0;

  constructor(private readonly _o: ExportStatusOptions) {
    this._now = _o.now ?? Date.now;
    this._warnIntervalMs = _o.warnIntervalMs ?? DEFAULT_WARN_INTERVAL_MS;
  }

  /** failing is true when the last outcome was a failure. */
  get failing(): boolean {
    return this._failingSince !== undefined;
  }

  /** failures is the number of failed attempts in the current streak (0 when not failing). */
  get failures(): number {
    return this._failures;
  }

  /** succeeded records an accepted request; after a failure streak it logs one info line. */
  succeeded(): void {
    if (this._failingSince === undefined) return;
    const { component, endpoint } = this._o;
    const failedForMs = this._now() - this._failingSince;
    this._o.logger.info(
      { component, endpoint, failures: this._failures, failedForMs },
      `${component}: export to ${endpoint} works again after ${this._failures} failed attempt(s)`,
    );
    this._failingSince = undefined;
    this._failures = 0;
  }

  /**
   * failed records a failed attempt: the first of a streak logs one warn line at once, later ones at most
   * one line per warn interval (with the count since); the error with its stack goes to debug only.
   */
  failed(err: unknown): void {
    const now = this._now();
    const cause = causeOf(err);
    this._lastCause = cause;
    this._failures++;
    const { component, endpoint, logger } = this._o;
    logger.debug({ component, endpoint, err }, 'export attempt failed');
    if (this._failingSince === undefined) {
      this._failingSince = now;
      this._lastWarnAt = now;
      this._failuresAtLastWarn = this._failures;
      logger.warn({ component, endpoint, cause }, `${component}: export to ${endpoint} failed: ${cause}; retrying`);
      return;
    }
    if (now - this._lastWarnAt < this._warnIntervalMs) return;
    const since = this._failures - this._failuresAtLastWarn;
    this._lastWarnAt = now;
    this._failuresAtLastWarn = this._failures;
    const failingForMs = now - this._failingSince;
    logger.warn(
      { component, endpoint, cause, failures: this._failures, failingForMs },
      `${component}: export to ${endpoint} still failing (${since} more failed attempt(s), failing for ` +
        `${Math.round(failingForMs / 1000)}s): ${cause}; retrying`,
    );
  }

  /**
   * health is not ready once the exporter has failed with no success for not_ready_after, with the endpoint,
   * the time and the last cause as the reason; otherwise undefined (the exporter reports its own detail).
   */
  health(): ComponentHealth | undefined {
    if (this._failingSince === undefined) return undefined;
    const failingForMs = this._now() - this._failingSince;
    if (failingForMs < this._o.notReadyAfterMs) return undefined;
    const secs = Math.round(failingForMs / 1000);
    return {
      ready: false,
      detail: `export to ${this._o.endpoint} failing for ${secs}s with no success: ${this._lastCause}`,
    };
  }
}
