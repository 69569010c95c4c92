// Factory of the `jaeger` exporter: Jaeger thrift (HTTP by default, UDP on request), encoded from the decoded
// OTLP spans with the thrift model of @opentelemetry/exporter-jaeger. Stability: beta (the library is deprecated
// upstream).

import { defineExporterFactory } from '../../pipeline/sdk/component';
import { configSchema } from './config';
import type { JaegerExporterConfig } from './config';
import { JaegerTraceExporter } from './exporter';

/** factory declares the `jaeger` exporter type. */
export const factory = defineExporterFactory<JaegerExporterConfig>({
  type: 'jaeger',
  configSchema,
  create: (settings, config) => new JaegerTraceExporter(settings, config),
});
