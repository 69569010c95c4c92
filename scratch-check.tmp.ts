import { makeFixture } from './test/pipeline/otlp/fixtures';
import { splitTracesByTraceId, indexTraceChunk, countSpans, appendSpanAttributes } from './pipeline/otlp/scanner';
import { otlpTypes } from './pipeline/otlp/schema';
(async () => {
  const fx = await makeFixture({ traces: 5 });
  console.log('spans', fx.spans.length, 'bytes', fx.request.length, 'count', countSpans(fx.request));
  const t = otlpTypes();
  const full = t.ExportTraceServiceRequest.decode(fx.request) as any;
  console.log(JSON.stringify(t.ExportTraceServiceRequest.toObject(full, { longs: String, bytes: String }).resource_spans[0].scope_spans[0].spans[0]).slice(0, 1500));
  const res = splitTracesByTraceId(fx.request);
  console.log(res.chunks.map(c => [c.traceId, c.spanCount, c.data.length]), res.acceptedSpans, res.rejectedSpans);
  for (const c of res.chunks) { t.ExportTraceServiceRequest.decode(c.data); }
  console.log(indexTraceChunk(res.chunks[0].data, new Set(['http.method', 'service.version', 'tags.list', 'ratio']))[0]);
  const a = appendSpanAttributes(res.chunks[0].data, { 'http.method': 'X', 'sampling.policy': 'errors' });
  console.log(indexTraceChunk(a, new Set(['http.method', 'sampling.policy']))[0].attributes);
})();
