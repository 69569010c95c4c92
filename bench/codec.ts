// Micro benchmark of the OTLP hot path: split-by-trace-id + index (scanner.ts) against a full protobufjs
// decode + per-trace re-encode of the same requests. Run: npx tsx bench/codec.ts [spansPerRequest] [seconds]

import { appendSpanAttributes, indexTraceChunk, otlpTypes, splitTracesByTraceId } from '../pipeline/sdk/otlp';
import { makeFixture } from '../test/pipeline/sdk/otlp/fixtures';

interface PbSpan {
  trace_id: Uint8Array;
}
interface PbScopeSpans {
  scope?: unknown;
  schema_url?: string;
  spans: PbSpan[];
}
interface PbResourceSpans {
  resource?: unknown;
  schema_url?: string;
  scope_spans: PbScopeSpans[];
}

/** fullDecodeSplit is what a codec without a scanner does: decode everything, regroup, encode per trace. */
function fullDecodeSplit(request: Uint8Array): number {
  const T = otlpTypes().ExportTraceServiceRequest;
  const msg = T.decode(request) as unknown as { resource_spans: PbResourceSpans[] };
  const byTrace = new Map<string, PbResourceSpans[]>();
  for (const rs of msg.resource_spans) {
    for (const ss of rs.scope_spans) {
      for (const span of ss.spans) {
        const id = Buffer.from(span.trace_id).toString('hex');
        let list = byTrace.get(id);
        if (!list) byTrace.set(id, (list = []));
        list.push({
          resource: rs.resource,
          schema_url: rs.schema_url,
          scope_spans: [{ scope: ss.scope, schema_url: ss.schema_url, spans: [span] }],
        });
      }
    }
  }
  let bytes = 0;
  for (const list of byTrace.values()) bytes += T.encode({ resource_spans: list }).finish().length;
  return bytes;
}

function run(label: string, seconds: number, spansPerOp: number, op: () => void): number {
  const warmEnd = Date.now() + 500;
  while (Date.now() < warmEnd) op();
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10; i++) op();
    ops += 10;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const rate = (ops * spansPerOp) / secs;
  console.log(
    `${label.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} spans/s  (${((secs / ops) * 1e6).toFixed(1)} us/request)`,
  );
  return rate;
}

async function main(): Promise<void> {
  const traces = Number(process.argv[2] ?? 100);
  const seconds = Number(process.argv[3] ?? 2);
  const fx = await makeFixture({ seed: 7, traces, maxSpansPerTrace: 9, resources: 3, rich: false });
  const request = fx.request;
  const n = fx.spans.length;
  const want = new Set(['http.route', 'http.status_code']);
  const split = splitTracesByTraceId(request);
  console.log(
    `node ${process.version}; request: ${n} spans in ${split.chunks.length} traces, ${request.length} bytes (${(request.length / n).toFixed(0)} bytes/span)`,
  );

  const a = run('scanner split', seconds, n, () => splitTracesByTraceId(request));
  const b = run('scanner split + index (2 attributes)', seconds, n, () => {
    for (const c of splitTracesByTraceId(request).chunks) indexTraceChunk(c.data, want);
  });
  run('scanner index only (per chunk, no attributes)', seconds, n, () => {
    for (const c of split.chunks) indexTraceChunk(c.data);
  });
  run('scanner appendSpanAttributes (per chunk)', seconds, n, () => {
    for (const c of split.chunks) appendSpanAttributes(c.data, { 'sampling.policy': 'latency' });
  });
  const c = run('protobufjs full decode + re-encode per trace', seconds, n, () => fullDecodeSplit(request));
  console.log(`ratio split/full: ${(a / c).toFixed(1)}x; split+index/full: ${(b / c).toFixed(1)}x`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
