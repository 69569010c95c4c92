// Fan-out consumers: hand one batch to several consumers and settle only when all of them settled. The
// batch's early per-chunk notice (onChunkSettled) is not passed on: one consumer's notice would settle a
// chunk another one still holds.

import type { LogsConsumer, TracesConsumer } from '../sdk/component';
import type { LogBatch, TraceBatch } from '../sdk/trace-batch';

/** fanoutTraces returns a consumer that delivers every batch to all `consumers` (one consumer: itself). */
export function fanoutTraces(consumers: readonly TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0];
  return {
    capabilities: { mutatesData: false },
    async consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
      const shared: TraceBatch = { chunks: batch.chunks };
      await Promise.all(consumers.map((c) => c.consumeTraces(shared, signal)));
    },
  };
}

/** fanoutLogs is fanoutTraces for log batches. */
export function fanoutLogs(consumers: readonly LogsConsumer[]): LogsConsumer {
  if (consumers.length === 1) return consumers[0];
  return {
    async consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
      const shared: LogBatch = { chunks: batch.chunks };
      await Promise.all(consumers.map((c) => c.consumeLogs(shared, signal)));
    },
  };
}
