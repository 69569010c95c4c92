import { makeFixture } from './test/pipeline/otlp/fixtures';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { otlpJsonToProtobuf, protobufToOtlpJson, decodeTraces, encodeTraces } from './pipeline/otlp';
import * as assert from 'assert';
(async () => {
  const fx = await makeFixture({ traces: 3 });
  const json = Buffer.from(JsonTraceSerializer.serializeRequest(fx.spans)!).toString();
  console.log(json.slice(0, 600));
  const pb = otlpJsonToProtobuf(json, 'traces');
  assert.deepStrictEqual(decodeTraces(pb), decodeTraces(fx.request));
  const back = protobufToOtlpJson(fx.request, 'traces');
  console.log(back.slice(0, 600));
  assert.deepStrictEqual(decodeTraces(otlpJsonToProtobuf(back, 'traces')), decodeTraces(fx.request));
  const re = encodeTraces(decodeTraces(fx.request));
  console.log(re.length, fx.request.length, Buffer.compare(Buffer.from(re), Buffer.from(fx.request)));
  try { otlpJsonToProtobuf('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}', 'traces'); } catch (e) { console.log((e as Error).message); }
  try { otlpJsonToProtobuf('{"resourceSpans":[{', 'traces'); } catch (e) { console.log((e as Error).message); }
})();
