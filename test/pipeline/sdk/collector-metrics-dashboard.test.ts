// The ready Grafana dashboard (deploy/grafana/tusk-collector-dashboard.json) and the metrics doc agree with
// the Collector-named metrics we publish: the dashboard is valid JSON, every otelcol_* name it queries is
// in the mapping, every tusk_* name it queries is registered by our components, and docs/metrics.md lists
// each mapped name.

import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import {
  EXPORTER_COLLECTOR_METRICS,
  RECEIVER_COLLECTOR_METRICS,
  type CollectorMetric,
} from '../../../pipeline/sdk/collector-metrics';
import { ExporterMetrics } from '../../../pipeline/sdk/exporterhelper/metrics';
import { ReceiverMetrics } from '../../../receivers/otlp/metrics';
import { TAIL_SAMPLING_COLLECTOR_METRICS, createSamplerMetrics } from '../../../processors/tail-sampling/metrics';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DASHBOARD = path.join(ROOT, 'deploy', 'grafana', 'tusk-collector-dashboard.json');
const MAPPING: readonly CollectorMetric[] = [
  ...RECEIVER_COLLECTOR_METRICS,
  ...EXPORTER_COLLECTOR_METRICS,
  ...TAIL_SAMPLING_COLLECTOR_METRICS,
];

interface Target {
  expr?: unknown;
}
interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  gridPos?: unknown;
  targets?: Target[];
}
interface Dashboard {
  uid?: unknown;
  title?: unknown;
  panels?: Panel[];
  templating?: { list?: { query?: unknown }[] };
}

/** queries lists every PromQL text of the dashboard: panel targets and template variable queries. */
function queries(d: Dashboard): string[] {
  const out: string[] = [];
  for (const p of d.panels ?? []) for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push(t.expr);
  for (const v of d.templating?.list ?? []) {
    const q = v.query;
    if (typeof q === 'object' && q !== null && typeof (q as { query?: unknown }).query === 'string')
      out.push((q as { query: string }).query);
  }
  return out;
}

function metricNames(exprs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const e of exprs) for (const m of e.matchAll(/\b(?:otelcol|tusk)_[a-z0-9_]+/g)) names.add(m[0]);
  return [...names].sort();
}

describe('deploy/grafana dashboard and docs/metrics.md', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Dashboard;

  it('is a dashboard with a uid, a title and panels that each query something', () => {
    expect(dashboard.uid).to.be.a('string').and.not.equal('');
    expect(dashboard.title).to.be.a('string').and.not.equal('');
    const panels = dashboard.panels ?? [];
    const graphs = panels.filter((p) => p.type !== 'row');
    expect(graphs.length).to.be.greaterThan(5);
    for (const p of graphs) {
      expect(p.targets ?? [], String(p.title)).to.have.length.greaterThan(0);
      expect(p.gridPos, String(p.title)).to.be.an('object');
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').to.equal(ids.length);
  });

  it('queries only otelcol_* names we publish and tusk_* names our components register', async () => {
    const names = metricNames(queries(dashboard));
    const published = new Set(MAPPING.map((m) => m.name));
    const registry = new Registry();
    new ReceiverMetrics(registry, 'otlp');
    new ExporterMetrics(registry, 'jaeger');
    createSamplerMetrics(registry, 'tail_sampling');
    const ours = new Set(registry.getMetricsAsArray().map((m) => m.name));
    for (const n of names) {
      if (n.startsWith('otelcol_')) expect(published.has(n), `${n} is in the mapping`).to.equal(true);
      else expect(ours.has(n.replace(/_(bucket|sum|count)$/, '')), `${n} is registered`).to.equal(true);
    }
    // The panels the dashboard promises: accepted/refused, sent/failed, queue vs capacity, sampled by policy.
    expect(names).to.include.members([
      'otelcol_receiver_accepted_spans_total',
      'otelcol_receiver_refused_spans_total',
      'otelcol_exporter_sent_spans_total',
      'otelcol_exporter_send_failed_spans_total',
      'otelcol_exporter_queue_size',
      'otelcol_exporter_queue_capacity',
      'otelcol_processor_tail_sampling_count_traces_sampled_total',
      'tusk_sampler_decision_lag_seconds_bucket',
    ]);
  });

  it('docs/metrics.md lists every Collector-named metric with its source', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8');
    for (const m of MAPPING) {
      const row = doc.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${m.name}\``));
      expect(row, `a table row for ${m.name}`).to.not.equal(undefined);
      expect(row, `${m.name} names its source`).to.contain(m.source);
    }
  });
});
