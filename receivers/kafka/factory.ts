// Factory of the `kafka` receiver: trace chunks (and log chunks) from Kafka, committed only up to the
// settled watermark. See README.md for the config keys.

import { defineReceiverFactory } from '../../pipeline/sdk/component';
import { kafkaReceiverConfigSchema, type KafkaReceiverConfig } from './config';
import { KafkaReceiver } from './receiver';

/** factory declares the `kafka` receiver type. */
export const factory = defineReceiverFactory<KafkaReceiverConfig>({
  type: 'kafka',
  configSchema: kafkaReceiverConfigSchema,
  create: (settings, config, next) => new KafkaReceiver(settings, config, next),
  kafkaTopics: (config) => ({ traces: config.topic, logs: config.logs_topic === '' ? [] : [config.logs_topic] }),
});
