// Errors of the instrumentation kit. Config problems reuse the pipeline's ConfigError (code
// ERR_CONFIG_INVALID, one issue per problem with its key path and file:line:col); registration
// conflicts have their own stable code. Callers branch on `code`, never on message text.

import { PipelineError } from '../pipeline/sdk/errors';

export { ConfigError, type ConfigIssue } from '../config/service/config-error';

/**
 * TracingRegistrationError is thrown when initTracing cannot register the global OpenTelemetry
 * providers because another SDK (or a live handle) already did. Code `ERR_INSTRUMENT_ALREADY_REGISTERED`.
 */
export class TracingRegistrationError extends PipelineError {
  constructor(what: string) {
    super(
      'ERR_INSTRUMENT_ALREADY_REGISTERED',
      `a global OpenTelemetry ${what} is already registered in this process; shut the other handle down first, or pass { registerGlobal: false }`,
      { retriable: false },
    );
    this.name = 'TracingRegistrationError';
  }
}
