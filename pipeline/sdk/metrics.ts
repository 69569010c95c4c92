// Metric registration shared by every component: a component's metric is registered once per registry
// and reused by the next instance (two pipelines, two samplers or a restart within one process).

import type { Registry } from 'prom-client';

/** registeredMetric returns the registry's metric `name`, or registers the one `make` builds. */
export function registeredMetric<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}
