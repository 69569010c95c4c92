// Fan-out consumers: hand one batch to several consumers and settle only when all of them settled.

import type { LogsConsumer, TracesConsumer } from './component';
import type { LogBatch, TraceBatch } from './trace-batch';

/** fanoutTraces returns a consumer that delivers every batch to all `consumers` (one consumer: itself). */
export function fanoutTraces(consumers: readonly TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0];
  return {
    capabilities: { mutatesData: false },
    async consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
      await Promise.all(consumers.map((c) => c.consumeTraces(batch, signal)));
    },
  };
}

/** fanoutLogs is fanoutTraces for log batches. */
export function fanoutLogs(consumers: readonly LogsConsumer[]): LogsConsumer {
  if (consumers.length === 1) return consumers[0];
  return {
    async consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
      await Promise.all(consumers.map((c) => c.consumeLogs(batch, signal)));
    },
  };
}
