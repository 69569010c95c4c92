// Get-or-create helpers for the Kafka components' prom-client metrics: several Kafka receivers or
// exporters can share one registry, so each metric is registered once and told apart by a label carrying
// the component id.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registeredMetric } from '../metrics';

interface MetricSpec<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
}

/** counter returns the registry's counter `name`, creating it on first use. */
export function counter<L extends string>(registry: Registry, spec: MetricSpec<L>): Counter<L> {
  return registeredMetric(
    registry,
    spec.name,
    () => new Counter<L>({ ...spec, labelNames: [...spec.labelNames], registers: [registry] }),
  );
}

/** gauge returns the registry's gauge `name`, creating it on first use. */
export function gauge<L extends string>(registry: Registry, spec: MetricSpec<L>): Gauge<L> {
  return registeredMetric(
    registry,
    spec.name,
    () => new Gauge<L>({ ...spec, labelNames: [...spec.labelNames], registers: [registry] }),
  );
}

/** histogram returns the registry's histogram `name`, creating it on first use. */
export function histogram<L extends string>(
  registry: Registry,
  spec: MetricSpec<L> & { buckets: number[] },
): Histogram<L> {
  return registeredMetric(
    registry,
    spec.name,
    () => new Histogram<L>({ ...spec, labelNames: [...spec.labelNames], registers: [registry] }),
  );
}
