// Factory of the `wal` processor: a local write-ahead log that makes one process crash-safe.

import { defineProcessorFactory } from '../../pipeline/sdk/component';
import { configSchema, type WalConfig } from './config';
import { WalProcessor } from './processor';

/** factory declares the `wal` processor type. */
export const factory = defineProcessorFactory<WalConfig>({
  type: 'wal',
  configSchema,
  create: (settings, config, next) => new WalProcessor(settings, config, next),
});
