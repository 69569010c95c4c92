// The otlp exporter's logs against a real OTLP server: tusk-collector's own otlp receiver on loopback, over
// OTLP/HTTP and OTLP/gRPC, gzip and not. Every log record arrives, each with its trace id; records outside
// any trace too; a malformed log chunk is refused by the receiver (HTTP 400 / INVALID_ARGUMENT) and the
// exporter rejects it for good without retrying, while the good chunks of other calls still arrive.

import { expect } from 'chai';
import { factory } from '../../../exporters/otlp/factory';
import { ExportRejectedError } from '../../../pipeline/sdk/exporterhelper/errors';
import type { LogChunk } from '../../../pipeline/sdk/trace-batch';
import { startReceiver, type Started } from '../../receivers/otlp/helpers';
import { logsRequest } from '../kafka/otlp-fixtures';
import { metricValue, newTraceId, settings } from '../../pipeline/sdk/exporterhelper/fixtures';

function logChunk(traceId: string, records: number): LogChunk {
  return { traceId, data: logsRequest([traceId], records), recordCount: records };
}

/** received lists trace id -> log records the receiver handed on. */
function received(r: Started): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of r.next.logBatches)
    for (const c of b.chunks) m.set(c.traceId, (m.get(c.traceId) ?? 0) + c.recordCount);
  return m;
}

describe('exporters/otlp logs -> a real OTLP receiver', function () {
  this.timeout(20_000);
  let r: Started;
  beforeEach(async () => {
    r = await startReceiver();
  });
  afterEach(async () => {
    await r.receiver.shutdown();
  });

  for (const [protocol, compression] of [
    ['http', 'gzip'],
    ['http', 'none'],
    ['grpc', 'gzip'],
    ['grpc', 'none'],
  ] as const) {
    it(`delivers every log record with its trace id (${protocol}, ${compression})`, async () => {
      const s = settings('exporters.otlp');
      const endpoint = protocol === 'http' ? r.httpBase : r.grpcTarget;
      const exp = factory.create(
        s,
        factory.configSchema.parse({ protocol, endpoint, compression, max_request_bytes: 300 }),
      );
      const ids = [newTraceId(), newTraceId(), newTraceId()];
      const chunks = [
        logChunk(ids[0], 3),
        logChunk(ids[1], 1),
        logChunk(ids[2], 5),
        { traceId: '', data: logsRequest([''], 2), recordCount: 2 },
      ];
      await exp.consumeLogs?.({ chunks });
      await exp.shutdown();
      const got = received(r);
      expect(Object.fromEntries(got)).to.deep.equal({ [ids[0]]: 3, [ids[1]]: 1, [ids[2]]: 5, '': 2 });
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_log_records_total', { exporter: 'exporters.otlp' }),
      ).to.equal(11);
      expect(r.next.traceBatches).to.have.length(0, 'log requests never reach the traces endpoint');
    });
  }

  for (const protocol of ['http', 'grpc'] as const) {
    it(`a malformed log chunk is rejected for good, not retried, and does not stop the next call (${protocol})`, async () => {
      const s = settings('exporters.otlp');
      const endpoint = protocol === 'http' ? r.httpBase : r.grpcTarget;
      const exp = factory.create(
        s,
        factory.configSchema.parse({
          protocol,
          endpoint,
          retry_on_failure: { initial_interval: '5ms', max_interval: '5ms', max_elapsed_time: '2s' },
        }),
      );
      const bad: LogChunk = {
        traceId: newTraceId(),
        data: Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        recordCount: 4,
      };
      const err = await exp.consumeLogs?.({ chunks: [bad] }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect((err as ExportRejectedError).traceIds).to.deep.equal([bad.traceId]);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_failed_log_records_total', {
          exporter: 'exporters.otlp',
          kind: 'permanent',
        }),
      ).to.equal(4);
      expect(
        (await metricValue(s.metrics, 'tusk_exporter_retries_total', { exporter: 'exporters.otlp' })) ?? 0,
      ).to.equal(0);
      const good = newTraceId();
      await exp.consumeLogs?.({ chunks: [logChunk(good, 2)] });
      expect(received(r).get(good)).to.equal(2);
      await exp.shutdown();
    });
  }
});
