// Factory of the spanmetrics processor (RED metrics from all spans, before sampling).

import { defineProcessorFactory } from '../../pipeline/sdk/component';
import { configSchema, type SpanMetricsConfig } from './config';
import { SpanMetricsProcessor } from './processor';

/** factory builds spanmetrics processors. */
export const factory = defineProcessorFactory<SpanMetricsConfig>({
  type: 'spanmetrics',
  configSchema,
  create: (settings, config, next) => new SpanMetricsProcessor(settings, config, next),
});
