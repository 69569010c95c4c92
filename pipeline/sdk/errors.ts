// Error hierarchy of the pipeline: every failure a caller must branch on has a stable code and a
// `retriable` flag, so callers test codes and flags, never message text.

/** Options shared by every pipeline error. */
export interface PipelineErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
  /** Whether retrying the same data later can succeed. Defaults per class. */
  retriable?: boolean;
  /** The component id (e.g. `processors.tail_sampling`) that raised it, when known. */
  component?: string;
}

/** PipelineError is the base class of all errors raised by tusk-collector components. */
export class PipelineError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly component?: string;

  constructor(code: string, message: string, options: PipelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retriable = options.retriable ?? true;
    this.component = options.component;
  }
}

/**
 * PermanentError marks data that must never be retried (malformed, rejected by a backend with a 4xx).
 * A consumer that rejects with it tells the sender: count it, log it, skip or dead-letter it.
 */
export class PermanentError extends PipelineError {
  constructor(code: string, message: string, options: Omit<PipelineErrorOptions, 'retriable'> = {}) {
    super(code, message, { ...options, retriable: false });
    this.name = 'PermanentError';
  }
}

/** BackpressureError means "not now": the component is over its limits and the sender should retry later. */
export class BackpressureError extends PipelineError {
  /** Suggested delay before retrying, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options: Omit<PipelineErrorOptions, 'retriable'> = {}) {
    super('ERR_PIPELINE_BACKPRESSURE', message, { ...options, retriable: true });
    this.name = 'BackpressureError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** ShutdownError is raised for data offered to a component that is shutting down or stopped. */
export class ShutdownError extends PipelineError {
  constructor(component: string, options: Omit<PipelineErrorOptions, 'retriable' | 'component'> = {}) {
    super('ERR_PIPELINE_SHUTDOWN', `${component} is shutting down`, { ...options, retriable: true, component });
    this.name = 'ShutdownError';
  }
}

/** isPermanent tells whether an error says "never retry this data". */
export function isPermanent(err: unknown): boolean {
  return hasCode(err) && (err as { retriable?: unknown }).retriable === false;
}

/** isRetriable tells whether retrying the same data later may succeed (unknown errors count as retriable). */
export function isRetriable(err: unknown): boolean {
  return !isPermanent(err);
}

/**
 * hasCode tells whether a value looks like a PipelineError. Checked by shape, not instanceof, so errors
 * raised by a custom module that loaded its own copy of this package are still recognised.
 */
function hasCode(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/** errorMessage renders any thrown value as one line of text. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
