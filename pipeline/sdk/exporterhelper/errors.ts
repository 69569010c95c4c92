// Error classes and codes shared by the exporters: transport failures carry the backend's status and
// its Retry-After hint; rejected data carries the trace ids it held. Callers branch on `code`,
// `retriable` and the structured fields, never on message text.

import { PermanentError, PipelineError } from '../errors';
import type { PipelineErrorOptions } from '../errors';

/** Error codes raised by exporters (one list for the whole area). */
export const ExporterErrorCode = {
  /** The backend answered with an HTTP status that is not a success. */
  HTTP_STATUS: 'ERR_EXPORTER_HTTP_STATUS',
  /** The backend answered a gRPC call with a non-OK status. */
  GRPC_STATUS: 'ERR_EXPORTER_GRPC_STATUS',
  /** The request could not be sent or its answer not read (refused, reset, DNS, TLS). */
  NETWORK: 'ERR_EXPORTER_NETWORK',
  /** One attempt took longer than the configured timeout. */
  TIMEOUT: 'ERR_EXPORTER_TIMEOUT',
  /** Retries stopped (max_elapsed_time reached) while the failure was still retriable. */
  RETRIES_EXHAUSTED: 'ERR_EXPORTER_RETRIES_EXHAUSTED',
  /** The data could not be decoded or converted: retrying the same bytes cannot help. */
  BAD_DATA: 'ERR_EXPORTER_BAD_DATA',
  /** The backend refused the data for good (HTTP 4xx other than 408/429, gRPC INVALID_ARGUMENT...). */
  REJECTED: 'ERR_EXPORTER_REJECTED',
  /** The export library failed in a way it does not describe further. */
  LIBRARY: 'ERR_EXPORTER_LIBRARY',
} as const;

/** Options of an ExportError. */
export interface ExportErrorOptions extends PipelineErrorOptions {
  /** HTTP status (or gRPC status code) the backend answered with, when there was an answer. */
  status?: number;
  /** Delay the backend asked for before the next attempt (Retry-After / RetryInfo), in milliseconds. */
  retryAfterMs?: number;
}

/** ExportError is one failed attempt to hand data to a backend; `retriable` says whether trying again can help. */
export class ExportError extends PipelineError {
  /** HTTP status or gRPC status code, when the backend answered. */
  readonly status?: number;
  /** Backend-requested delay before retrying, in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(code: string, message: string, options: ExportErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ExportError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * ExportRejectedError is the PermanentError a consumer receives when the backend refused traces for good.
 * It names the traces so the sender can log, count, skip or dead-letter exactly those.
 */
export class ExportRejectedError extends PermanentError {
  /** Lowercase hex ids of the rejected traces. */
  readonly traceIds: readonly string[];
  /** True when the rejected traces were written to the dead-letter topic. */
  readonly deadLettered: boolean;

  constructor(
    message: string,
    traceIds: readonly string[],
    deadLettered: boolean,
    options: Omit<PipelineErrorOptions, 'retriable'> = {},
  ) {
    super(ExporterErrorCode.REJECTED, message, options);
    this.name = 'ExportRejectedError';
    this.traceIds = traceIds;
    this.deadLettered = deadLettered;
  }
}
