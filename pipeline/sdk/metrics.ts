// Metric registration shared by every component: a component's metric is registered once per registry
// and reused by the next instance (two pipelines, two samplers or a restart within one process).

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** registeredMetric returns the registry's metric `name`, or registers the one `make` builds. */
export function registeredMetric<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** ComponentMetricFactory registers (or reuses) metrics that carry one label naming their component. */
export interface ComponentMetricFactory<K extends string> {
  gauge(name: string, help: string): Gauge<K>;
  counter<L extends string>(name: string, help: string, labels: L[]): Counter<K | L>;
  histogram(name: string, help: string, buckets: number[]): Histogram<K>;
}

/**
 * componentMetrics returns the factories of a component's metrics on `registry`, each with the label
 * `labelName` first (e.g. `processor`), so that several instances of a component can share one registry.
 */
export function componentMetrics<K extends string>(registry: Registry, labelName: K): ComponentMetricFactory<K> {
  const registers = [registry];
  return {
    gauge: (name, help) =>
      registeredMetric(registry, name, () => new Gauge({ name, help, labelNames: [labelName], registers })),
    counter: <L extends string>(name: string, help: string, labels: L[]) =>
      registeredMetric(
        registry,
        name,
        () => new Counter<K | L>({ name, help, labelNames: [labelName, ...labels], registers }),
      ),
    histogram: (name, help, buckets) =>
      registeredMetric(
        registry,
        name,
        () => new Histogram({ name, help, labelNames: [labelName], buckets, registers }),
      ),
  };
}
