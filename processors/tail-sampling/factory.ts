// Factory of the tail_sampling processor: config type, schema, and create() wiring the sampling state
// (memory or Redis) into the processor.

import { defineProcessorFactory } from '../../pipeline/sdk/component';
import { configSchema, type TailSamplingConfig } from './config';
import { TailSamplingProcessor } from './processor';
import { createSamplingState } from './state/index';

/** factory builds tail_sampling processors. */
export const factory = defineProcessorFactory<TailSamplingConfig>({
  type: 'tail_sampling',
  configSchema,
  create(settings, config, next) {
    const state = createSamplingState(config.state, {
      url: config.redis.url,
      clusterNodes: config.redis.cluster_nodes,
      username: config.redis.username,
      password: config.redis.password,
      passwordFile: config.redis.password_file,
      tls: config.redis.tls,
      sentinel: config.redis.sentinel,
      keyPrefix: config.redis.key_prefix,
      syncIntervalMs: config.redis.sync_interval,
      ledgerTtlMs: config.redis.ledger_ttl,
      ledgerDroppedSample: config.redis.ledger_dropped_sample,
      ledgerMaxEntries: config.decision_cache_size,
      logger: settings.logger.child({ part: 'sampling-state' }),
      metrics: settings.metrics,
    });
    return new TailSamplingProcessor(settings, config, next, { state });
  },
});
