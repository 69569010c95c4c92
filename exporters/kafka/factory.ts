// Factory of the `kafka` exporter: trace chunks (and log chunks) to Kafka in the OpenTelemetry Collector's
// wire format. See README.md for the config keys.

import { defineExporterFactory } from '../../pipeline/sdk/component';
import { kafkaExporterConfigSchema, type KafkaExporterConfig } from './config';
import { KafkaExporter } from './exporter';

/** factory declares the `kafka` exporter type. */
export const factory = defineExporterFactory<KafkaExporterConfig>({
  type: 'kafka',
  configSchema: kafkaExporterConfigSchema,
  create: (settings, config) => new KafkaExporter(settings, config),
  kafkaTopics: (config) => ({ traces: [config.topic], logs: [config.logs_topic] }),
});
