// What the Kafka receiver knows about one partition it owns: the settled watermark, the last committed
// offset, whether it is paused and why, and whether it was revoked (then nothing of it is committed or
// retried any more: the new owner replays its unsettled messages), and its event-time clock.

import { DEFAULT_WRITER_EXPIRY_MS, PartitionClock } from '../../pipeline/sdk/kafka/event-time';
import type { OtlpSignal } from '../../pipeline/sdk/otlp';
import { SettledWatermark } from './watermark';

/** PartitionState is the receiver's state of one owned partition (one assignment generation). */
export class PartitionState {
  readonly key: string;
  readonly watermark = new SettledWatermark();
  /** Offset last committed by this receiver (-1 = none yet). */
  committed = -1;
  /** Partition end (high watermark) from the last fetch, when known. */
  highWatermark?: number;
  /** Deliveries of this partition waiting to be retried or being retried. */
  retrying = 0;
  /** Whether the receiver has paused fetching this partition. */
  paused = false;
  /** Set when the partition was revoked or the consumer restarted: its deliveries no longer count. */
  revoked = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly signal: OtlpSignal,
    /** The partition's event-time clock (it outlives a consumer restart that gives the partition back). */
    readonly clock: PartitionClock = new PartitionClock(DEFAULT_WRITER_EXPIRY_MS),
  ) {
    this.key = partitionKey(topic, partition);
  }

  /** lag is the number of messages between the settled watermark and the partition end, when both are known. */
  get lag(): number | undefined {
    const c = this.watermark.commitOffset;
    if (this.highWatermark === undefined || c === undefined) return undefined;
    return Math.max(0, this.highWatermark - c);
  }
}

/** partitionKey names a topic-partition in maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
