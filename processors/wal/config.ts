// Config of the `wal` processor: where the write-ahead log lives, how it syncs, how large it may grow,
// and how it redelivers what the rest of the pipeline has not settled yet.

import { z } from 'zod';
import { byteSize, duration } from '../../pipeline/sdk/config-types';
import { retryOnFailureSchemaWith } from '../../pipeline/sdk/retry';

/** Schema of [processors.NAME] with type wal. */
export const configSchema = z
  .object({
    /**
     * Directory of the log's segment files. '' (default) = `$XDG_STATE_HOME/tusk-collector/wal/NAME` when
     * XDG_STATE_HOME is set, else `.tusk-state/wal/NAME` under the working directory. One directory per
     * processor: two processes must never share one.
     */
    dir: z.string().default(''),
    /**
     * When appended records are forced to disk before the sender is answered: "batch" (default: every group
     * commit is fdatasync'ed, nothing acknowledged is lost even if the machine loses power), "interval"
     * (every fsync_interval: a process crash loses nothing, a power loss up to the interval), "off" (the
     * kernel decides: a process crash loses nothing, a power loss may).
     */
    fsync: z.enum(['batch', 'interval', 'off']).default('batch'),
    /** With fsync "interval": the sync period. Default "200ms". */
    fsync_interval: duration({ min: 1 }).prefault('200ms'),
    /** Size at which a segment file is closed and a new one begun. Default 8MiB. */
    segment_size: byteSize({ min: 64 * 1024 }).prefault('8MiB'),
    /**
     * Most bytes the log may hold. When an append would pass it the sender is refused with backpressure
     * (OTLP: 503 with Retry-After / UNAVAILABLE) instead of being acknowledged. Default 1GiB.
     */
    max_size: byteSize({ min: 1024 * 1024 }).prefault('1GiB'),
    /** Retry-After given with a refusal because the log is full. Default "1s". */
    retry_after: duration({ min: 0 }).prefault('1s'),
    /**
     * Redelivery of what the next component refused retriably (e.g. the exporter's backend is down). The
     * data stays in the log meanwhile; max_elapsed_time 0 (default) = retry until it settles.
     */
    retry_on_failure: retryOnFailureSchemaWith({
      initial_interval: '100ms',
      max_interval: '5s',
      max_elapsed_time: '0s',
    }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.max_size < 2 * c.segment_size) {
      const message = `must be at least twice segment_size (${c.segment_size} bytes), got ${c.max_size}`;
      ctx.addIssue({ code: 'custom', path: ['max_size'], message });
    }
  });

/** WalConfig is the parsed config. */
export type WalConfig = z.output<typeof configSchema>;
