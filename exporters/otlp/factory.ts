// Factory of the `otlp` exporter: OTLP/HTTP protobuf (default) or OTLP/gRPC, forwarding trace chunks
// without decoding them. Stability: beta.

import { defineExporterFactory } from '../../pipeline/sdk/component';
import { configSchema } from './config';
import type { OtlpExporterConfig } from './config';
import { OtlpTraceExporter } from './exporter';

/** factory declares the `otlp` exporter type. */
export const factory = defineExporterFactory<OtlpExporterConfig>({
  type: 'otlp',
  configSchema,
  create: (settings, config) => new OtlpTraceExporter(settings, config),
});
