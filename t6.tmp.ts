import { startReceiver } from './test/receivers/otlp/helpers';
import { makeFixture } from './test/pipeline/otlp/fixtures';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
(async () => {
  const s = await startReceiver();
  console.log(s.receiver.addresses());
  const fx = await makeFixture({ traces: 3 });
  for (const exp of [new ProtoExporter({ url: `${s.httpBase}/v1/traces` }), new JsonExporter({ url: `${s.httpBase}/v1/traces` }), new GrpcExporter({ url: `http://${s.grpcTarget}` })]) {
    const r = await new Promise((res) => exp.export(fx.spans, res));
    console.log(r, s.next.traceBatches.length);
    await exp.shutdown();
  }
  await s.receiver.shutdown();
  console.log(await s.registry.metrics());
})();
