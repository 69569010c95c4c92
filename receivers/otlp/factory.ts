// Factory of the `otlp` receiver: OTLP/HTTP (4318) and OTLP/gRPC (4317) for traces and logs, answering
// clients only after the pipeline settled their data. Stability: beta.

import { defineReceiverFactory } from '../../pipeline/sdk/component';
import { configSchema, type OtlpReceiverConfig } from './config';
import { OtlpReceiver } from './receiver';

/** factory declares the `otlp` receiver type. */
export const factory = defineReceiverFactory<OtlpReceiverConfig>({
  type: 'otlp',
  configSchema,
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
});
