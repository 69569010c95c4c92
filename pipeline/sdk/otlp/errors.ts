// Errors raised by the OTLP codec: malformed or truncated protobuf, and OTLP/JSON that does not fit
// the schema. Both are permanent (the same bytes will never decode), so receivers answer 400 /
// INVALID_ARGUMENT and Kafka receivers skip or dead-letter the message.

import { PermanentError } from '../errors';

/** OTLP_DECODE_ERROR_CODE is the stable code of OtlpDecodeError. */
export const OTLP_DECODE_ERROR_CODE = 'ERR_OTLP_DECODE';

/**
 * OtlpDecodeError says that bytes or JSON text are not a valid OTLP message. It is a PermanentError
 * (never retry the same data). `where` names the place of the problem when known: a JSON path such as
 * `resourceSpans[0].scopeSpans[1].spans[3].traceId`, or a byte offset such as `offset 117`.
 */
export class OtlpDecodeError extends PermanentError {
  /** Where in the input the problem was found, when known. */
  readonly where?: string;

  constructor(message: string, options: { cause?: unknown; where?: string; component?: string } = {}) {
    super(OTLP_DECODE_ERROR_CODE, options.where ? `${message} (at ${options.where})` : message, options);
    this.name = 'OtlpDecodeError';
    this.where = options.where;
  }
}

/** isOtlpDecodeError tells whether an error is an OtlpDecodeError (by code, so it works across copies of the module). */
export function isOtlpDecodeError(err: unknown): err is OtlpDecodeError {
  return err instanceof Error && (err as { code?: unknown }).code === OTLP_DECODE_ERROR_CODE;
}
