// The Collector-named metrics (collector-metrics.ts): derived at scrape time from our tusk_* series with the
// Collector's names and labels, for the receiver, the exporter helper and the tail sampler's declared mapping.

import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import {
  EXPORTER_COLLECTOR_METRICS,
  RECEIVER_COLLECTOR_METRICS,
  componentName,
  declareCollectorMetrics,
  deriveSamples,
  type CollectorMetric,
} from '../../../pipeline/sdk/collector-metrics';
import { ExporterMetrics } from '../../../pipeline/sdk/exporterhelper/metrics';
import { ReceiverMetrics } from '../../../receivers/otlp/metrics';
import { TAIL_SAMPLING_COLLECTOR_METRICS, createSamplerMetrics } from '../../../processors/tail-sampling/metrics';
import { parseMetrics, sumMetric, type MetricSample } from '../../helpers/admin';

async function scrape(registry: Registry): Promise<MetricSample[]> {
  return parseMetrics(await registry.metrics());
}

function series(samples: readonly MetricSample[], name: string): Record<string, string>[] {
  return samples.filter((s) => s.name === name).map((s) => s.labels);
}

describe('pipeline/sdk/collector-metrics', () => {
  describe('deriveSamples', () => {
    const refused: CollectorMetric = {
      name: 'otelcol_x_refused_total',
      help: 'h',
      type: 'counter',
      source: 'tusk_x_total',
      labelNames: ['receiver'],
      where: (l) => l.outcome !== 'accepted',
    };

    it('sums the samples that map to the same labels and keeps a 0 series for the ones `where` leaves out', () => {
      const out = deriveSamples(refused, [
        { labels: { receiver: 'a', outcome: 'accepted', reason: '' }, value: 10 },
        { labels: { receiver: 'a', outcome: 'refused', reason: 'backpressure' }, value: 2 },
        { labels: { receiver: 'a', outcome: 'rejected', reason: 'permanent' }, value: 3 },
        { labels: { receiver: 'b', outcome: 'accepted', reason: '' }, value: 7 },
      ]);
      expect(out).to.deep.equal([
        { labels: { receiver: 'a' }, value: 5 },
        { labels: { receiver: 'b' }, value: 0 },
      ]);
    });

    it('uses `labels` to compute label values and "" for a label the source lacks', () => {
      const m: CollectorMetric = { ...refused, labelNames: ['receiver', 'transport'], where: undefined };
      expect(deriveSamples(m, [{ labels: { receiver: 'a' }, value: 1 }])).to.deep.equal([
        { labels: { receiver: 'a', transport: '' }, value: 1 },
      ]);
      const upper: CollectorMetric = { ...m, labels: (l) => ({ receiver: String(l.receiver).toUpperCase() }) };
      expect(deriveSamples(upper, [{ labels: { receiver: 'a' }, value: 4 }])).to.deep.equal([
        { labels: { receiver: 'A' }, value: 4 },
      ]);
    });
  });

  describe('componentName', () => {
    it('is the NAME of a component id, as the Collector writes component ids', () => {
      expect(componentName('receivers.otlp')).to.equal('otlp');
      expect(componentName('exporters.otlp/backup')).to.equal('otlp/backup');
      expect(componentName('processors.tail_sampling')).to.equal('tail_sampling');
      expect(componentName('jaeger')).to.equal('jaeger');
      expect(componentName(undefined)).to.equal('');
    });
  });

  describe('declareCollectorMetrics', () => {
    it('follows the source at every scrape, with no samples while the source is missing', async () => {
      const registry = new Registry();
      declareCollectorMetrics(registry, [{ ...RECEIVER_COLLECTOR_METRICS[0] }]);
      expect(series(await scrape(registry), 'otelcol_receiver_accepted_spans_total')).to.deep.equal([]);
      const source = new Counter({
        name: 'tusk_receiver_spans_total',
        help: 'h',
        labelNames: ['receiver', 'transport', 'outcome', 'reason'],
        registers: [registry],
      });
      source.inc({ receiver: 'otlp', transport: 'grpc', outcome: 'accepted', reason: '' }, 3);
      let m = await scrape(registry);
      expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total', { receiver: 'otlp', transport: 'grpc' })).to.equal(
        3,
      );
      source.inc({ receiver: 'otlp', transport: 'grpc', outcome: 'accepted', reason: '' }, 2);
      m = await scrape(registry);
      expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total')).to.equal(5);
    });

    it('registers each name once, however many components declare it', () => {
      const registry = new Registry();
      new ReceiverMetrics(registry, 'otlp');
      new ReceiverMetrics(registry, 'otlp/2');
      new ExporterMetrics(registry, 'jaeger');
      new ExporterMetrics(registry, 'otlp');
      const names = registry.getMetricsAsArray().map((m) => m.name);
      expect(names.filter((n) => n.startsWith('otelcol_'))).to.have.length(
        RECEIVER_COLLECTOR_METRICS.length + EXPORTER_COLLECTOR_METRICS.length,
      );
    });

    it('gives every Collector-named metric a source counted by our components, of the same type', async () => {
      const registry = new Registry();
      new ReceiverMetrics(registry, 'otlp');
      new ExporterMetrics(registry, 'jaeger');
      createSamplerMetrics(registry, 'tail_sampling');
      for (const m of [
        ...RECEIVER_COLLECTOR_METRICS,
        ...EXPORTER_COLLECTOR_METRICS,
        ...TAIL_SAMPLING_COLLECTOR_METRICS,
      ]) {
        const source = (await registry.getSingleMetric(m.source)?.get())?.type;
        expect(source, `${m.name} <- ${m.source}`).to.equal(m.type);
        expect(m.name.startsWith('otelcol_'), m.name).to.equal(true);
        expect(m.name.endsWith('_total'), m.name).to.equal(m.type === 'counter');
      }
    });
  });

  describe('receiver and exporter conventions', () => {
    it('accepted and refused spans and log records by receiver (its NAME) and transport', async () => {
      const registry = new Registry();
      const r = new ReceiverMetrics(registry, 'receivers.otlp');
      r.items('http', 'traces', 'accepted', '', 60);
      r.items('http', 'traces', 'refused', 'backpressure', 4);
      r.items('http', 'traces', 'rejected', 'invalid_utf8', 1);
      r.items('grpc', 'traces', 'accepted', '', 5);
      r.items('grpc', 'logs', 'rejected', 'permanent', 2);
      const m = await scrape(registry);
      const http = { receiver: 'otlp', transport: 'http' };
      const grpc = { receiver: 'otlp', transport: 'grpc' };
      expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total', http)).to.equal(60);
      expect(sumMetric(m, 'otelcol_receiver_refused_spans_total', http)).to.equal(5);
      expect(sumMetric(m, 'otelcol_receiver_accepted_spans_total', grpc)).to.equal(5);
      expect(sumMetric(m, 'otelcol_receiver_refused_spans_total', grpc)).to.equal(0);
      expect(sumMetric(m, 'otelcol_receiver_refused_log_records_total', grpc)).to.equal(2);
      expect(sumMetric(m, 'otelcol_receiver_accepted_log_records_total', grpc)).to.equal(0);
      expect(series(m, 'otelcol_receiver_refused_spans_total')).to.deep.include.members([http, grpc]);
    });

    it('sent and failed spans and log records, queue size and capacity by exporter (its NAME)', async () => {
      const registry = new Registry();
      const e = new ExporterMetrics(registry, 'exporters.jaeger');
      e.sent(45);
      e.failed(3, 'retriable');
      e.failed(2, 'permanent');
      e.sentLogRecords(7);
      e.failedLogRecords(1, 'permanent');
      e.queue(4, 1000);
      e.queueCapacity(1000);
      const m = await scrape(registry);
      const l = { exporter: 'jaeger' };
      expect(sumMetric(m, 'otelcol_exporter_sent_spans_total', l)).to.equal(45);
      expect(sumMetric(m, 'otelcol_exporter_send_failed_spans_total', l)).to.equal(5);
      expect(sumMetric(m, 'otelcol_exporter_sent_log_records_total', l)).to.equal(7);
      expect(sumMetric(m, 'otelcol_exporter_send_failed_log_records_total', l)).to.equal(1);
      expect(sumMetric(m, 'otelcol_exporter_queue_size', l)).to.equal(4);
      expect(sumMetric(m, 'otelcol_exporter_queue_capacity', l)).to.equal(1000);
      expect(series(m, 'otelcol_exporter_send_failed_spans_total')).to.deep.equal([l]);
    });
  });

  describe('tail_sampling mapping (declared by the processor)', () => {
    it('counts decisions by deciding policy with sampled/decision, globally, and the buffer and errors', async () => {
      const registry = new Registry();
      const s = createSamplerMetrics(registry, 'tail_sampling');
      s.decisions.inc({ policy: 'errors', decision: 'sampled' }, 5);
      s.decisions.inc({ policy: 'rest', decision: 'sampled' }, 10);
      s.decisions.inc({ policy: '(none)', decision: 'not_sampled' }, 5);
      s.tracesBuffered.set(20);
      s.evictions.inc({ reason: 'num_traces' }, 2);
      s.evictions.inc({ reason: 'max_buffered_bytes' }, 1);
      s.policyErrors.inc({ policy: 'errors' });
      s.policyErrors.inc({ policy: 'rest' });
      const m = await scrape(registry);
      const p = 'otelcol_processor_tail_sampling_';
      const by = (policy: string, sampled: string) => ({ processor: 'tail_sampling', policy, sampled });
      expect(sumMetric(m, `${p}count_traces_sampled_total`, by('errors', 'true'))).to.equal(5);
      expect(sumMetric(m, `${p}count_traces_sampled_total`, by('rest', 'true'))).to.equal(10);
      expect(sumMetric(m, `${p}count_traces_sampled_total`, by('(none)', 'false'))).to.equal(5);
      expect(sumMetric(m, `${p}count_traces_sampled_total`, { decision: 'not_sampled' })).to.equal(5);
      expect(sumMetric(m, `${p}global_count_traces_sampled_total`, { sampled: 'true', decision: 'sampled' })).to.equal(
        15,
      );
      expect(sumMetric(m, `${p}global_count_traces_sampled_total`, { sampled: 'false' })).to.equal(5);
      expect(series(m, `${p}global_count_traces_sampled_total`)).to.have.length(2);
      expect(sumMetric(m, `${p}sampling_traces_on_memory`, { processor: 'tail_sampling' })).to.equal(20);
      expect(sumMetric(m, `${p}sampling_trace_dropped_too_early_total`)).to.equal(3);
      expect(sumMetric(m, `${p}sampling_policy_evaluation_error_total`)).to.equal(2);
      expect(series(m, `${p}sampling_policy_evaluation_error_total`)).to.deep.equal([{ processor: 'tail_sampling' }]);
    });
  });
});
