// Factory of the `debug` exporter: spans as text or JSON lines to stdout or a file. Stability: development
// (the output format may change; do not parse it in production tooling).

import { defineExporterFactory } from '../../pipeline/sdk/component';
import { configSchema } from './config';
import type { DebugExporterConfig } from './config';
import { DebugExporter } from './exporter';

/** factory declares the `debug` exporter type. */
export const factory = defineExporterFactory<DebugExporterConfig>({
  type: 'debug',
  configSchema,
  create: (settings, config) => new DebugExporter(settings, config),
});
