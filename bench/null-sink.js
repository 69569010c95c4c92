// bench_null: a custom processor module for the sampling-only benchmark. Put last in a pipeline, it
// settles every batch at once and forwards nothing: the null exporter of the benchmark (the pipeline's
// declared exporter then never receives data). It counts what it swallowed on the admin /metrics as
// tusk_bench_null_spans_total / tusk_bench_null_traces_total.
'use strict';

const { defineProcessorFactory, z, once } = require('tusk-collector/plugin-api');
const { Counter } = require('prom-client');

const configSchema = z.object({}).strict();

class NullSink {
  constructor(settings) {
    const registers = [settings.metrics];
    const get = (name, help) => settings.metrics.getSingleMetric(name) ?? new Counter({ name, help, registers });
    this._spans = get('tusk_bench_null_spans_total', 'Spans the benchmark null sink swallowed.');
    this._traces = get('tusk_bench_null_traces_total', 'Trace chunks the benchmark null sink swallowed.');
    this.capabilities = { mutatesData: false };
    this.shutdown = once(async () => {});
  }

  async start() {}

  consumeTraces(batch) {
    let spans = 0;
    for (const c of batch.chunks) spans += c.spanCount;
    this._spans.inc(spans);
    this._traces.inc(batch.chunks.length);
    return Promise.resolve();
  }

  consumeLogs() {
    return Promise.resolve();
  }
}

exports.factory = defineProcessorFactory({
  type: 'bench_null',
  configSchema,
  create: (settings) => new NullSink(settings),
});
