// Logs follow their trace's sampling decision through a real collector process: OTLP/HTTP in (traces and
// logs), tail sampling with in-memory state, then two exporters that take logs: the debug exporter writing
// to a file, and the otlp exporter sending to an OTLP server on loopback (tusk-collector's own otlp
// receiver, run by the test). The logs of a kept (error) trace reach both with its spans, late logs of it
// too; the logs of a dropped trace never do. Needs no Kafka, Redis or Jaeger.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeLogs, decodeTraces, encodeTraces } from '../../pipeline/sdk/otlp';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { freePort } from '../helpers/ports';
import { newTraceId, resourceSpans } from '../pipeline/sdk/exporterhelper/fixtures';
import { debugLinesOf, logsOf, postProtobuf, twoSpanTrace } from '../helpers/logs-traffic';
import { startReceiver, type Started } from '../receivers/otlp/helpers';

const PIPELINE = `
[service]
admin: @env("TUSK_ADMIN_ENDPOINT")

[receivers.otlp]
http {
    endpoint: @env("OTLP_HTTP_ENDPOINT")
}
grpc {
    endpoint: ""
}

[processors.tail_sampling]
state: "memory"
decision_wait: "3s"
root_settle_delay: "300ms"
policies: [
  { name: "errors", type: "status_code", codes: ["ERROR"] },
]

[exporters.debug]
format: "json"
path: @env("DEBUG_OUT")

[exporters.otlp]
endpoint: @env("OTLP_OUT_ENDPOINT")
compression: "none"

[pipelines.traces]
receivers: ["otlp"]
processors: ["tail_sampling"]
exporters: ["debug", "otlp"]
`;

describe('e2e: logs follow their trace through the sampler to the debug and otlp exporters', function () {
  this.timeout(60_000);
  let collector: CollectorProcess | undefined;
  let backend: Started | undefined;
  after(async () => {
    await collector?.stop('SIGTERM');
    await backend?.receiver.shutdown();
  });

  it('writes the logs of a kept trace (and its late logs) and never those of a dropped one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-logs-e2e-'));
    const file = path.join(dir, 'debug.jsonl');
    const tsk = path.join(dir, 'pipeline.tsk');
    fs.writeFileSync(tsk, PIPELINE);
    const [http, admin] = [await freePort(), await freePort()];
    backend = await startReceiver();
    collector = await startCollector(tsk, [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      DEBUG_OUT: file,
      OTLP_OUT_ENDPOINT: backend.httpBase,
    });
    const base = `http://127.0.0.1:${http}`;
    const kept = newTraceId();
    const dropped = newTraceId();
    // Logs first, then the spans: both answers wait for the decision (ack "settled").
    const sent = await Promise.all([
      postProtobuf(
        `${base}/v1/logs`,
        logsOf('shop', [
          { traceId: kept, body: 'card declined' },
          { traceId: dropped, body: 'all fine' },
        ]),
      ),
      postProtobuf(
        `${base}/v1/traces`,
        encodeTraces([resourceSpans('shop', [...twoSpanTrace(kept, true), ...twoSpanTrace(dropped, false)])]),
      ),
    ]);
    expect(sent).to.deep.equal([200, 200]);
    expect(
      await postProtobuf(
        `${base}/v1/logs`,
        logsOf('shop', [
          { traceId: kept, body: 'retry scheduled' },
          { traceId: dropped, body: 'late and dropped' },
        ]),
      ),
    ).to.equal(200);
    await collector.stop('SIGTERM');
    collector = undefined;
    const lines = debugLinesOf(file);
    const spans = lines.filter((l) => l.name !== undefined);
    const logs = lines.filter((l) => l.body !== undefined);
    expect(spans.map((s) => s.traceId)).to.deep.equal([kept, kept]);
    expect(logs.map((l) => [l.traceId, l.body?.stringValue])).to.deep.equal([
      [kept, 'card declined'],
      [kept, 'retry scheduled'],
    ]);
    // The same through the otlp exporter, as an OTLP backend received it.
    const spansThere = backend.next.traceBatches.flatMap((b) =>
      b.chunks.flatMap((c) => decodeTraces(c.data).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))),
    );
    const logsThere = backend.next.logBatches.flatMap((b) =>
      b.chunks.flatMap((c) => decodeLogs(c.data).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))),
    );
    expect(spansThere.map((sp) => sp.traceId)).to.deep.equal([kept, kept]);
    expect(logsThere.map((r) => [r.traceId, r.body.type === 'string' ? r.body.value : undefined])).to.deep.equal([
      [kept, 'card declined'],
      [kept, 'retry scheduled'],
    ]);
  });
});
