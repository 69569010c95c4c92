// Errors of the console endpoints: an HTTP status, a stable code and a message written for the user.

import { PipelineError } from '../../sdk/errors';

/** ConsoleError is answered as `{ error, code }` with its HTTP status. */
export class ConsoleError extends PipelineError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message, { retriable: status >= 500 });
    this.name = 'ConsoleError';
  }
}
