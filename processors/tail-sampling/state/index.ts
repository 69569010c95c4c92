// Public entry of the sampling-state stores: `createSamplingState('memory' | 'redis', options)` plus the
// types the tail-sampling processor codes against. The processor imports only from this file and types.ts.

import { MemorySamplingState } from './memory';
import type { SamplingStateOptions } from './options';
import { RedisSamplingState } from './redis';
import type { SamplingState } from './types';

export type { LatencyQuantiles, LedgerRecord, SamplingState, SamplingStateStats, ServiceErrorState } from './types';
export { INPUT_ADJUSTED_COUNT, INPUT_SAMPLING_THRESHOLD } from './types';
export type { SamplingStateOptions } from './options';
export { ERR_STATE_OPTIONS } from './options';
export { MemorySamplingState } from './memory';
export { RedisSamplingState } from './redis';

/** SamplingStateKind names the store: `memory` (embedded, one process) or `redis` (shared by replicas). */
export type SamplingStateKind = 'memory' | 'redis';

/**
 * createSamplingState builds a store of the given kind. It does no I/O: call `start()` to connect and run
 * the sync loop, `shutdown()` to stop. Throws PipelineError ERR_STATE_OPTIONS for invalid options.
 */
export function createSamplingState(kind: SamplingStateKind, options: SamplingStateOptions = {}): SamplingState {
  switch (kind) {
    case 'memory':
      return new MemorySamplingState(options);
    case 'redis':
      return new RedisSamplingState(options);
  }
}
