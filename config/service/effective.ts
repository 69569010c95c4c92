// The effective configuration of a loaded pipeline file, as `print-config` shows it: every component with
// its type and its config after defaults were applied, the [service] section and the pipelines. Durations
// are written back with a unit ("30s"), so the output reads like the file and loads again.

import { formatMs, isDurationSchema } from '../../pipeline/sdk/config-types';
import type { ServiceConfig } from './load';
import { COMPONENT_KINDS } from './load';
import { serviceSchema } from './service-schema';
import { defOf, options, unwrap } from './zod-issues';

/** render walks a parsed value beside its schema and writes durations back as text. */
function render(schema: unknown, value: unknown): unknown {
  let duration = false;
  const inner = unwrap(schema, (layer) => {
    if (isDurationSchema(layer)) duration = true;
  });
  if (duration && typeof value === 'number') return formatMs(value);
  if (Array.isArray(value)) {
    const def = defOf(inner);
    return value.map((v) => render(def?.type === 'array' ? def.element : undefined, v));
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const shapes = options(inner, value)
      .map((o) => defOf(unwrap(o)))
      .filter((d) => d?.type === 'object')
      .map((d) => d?.shape as Record<string, unknown>);
    for (const [k, v] of Object.entries(value)) out[k] = render(shapes.find((sh) => k in sh)?.[k], v);
    return out;
  }
  return value;
}

/** effectiveConfig returns the loaded configuration as plain data (secrets not yet masked). */
export function effectiveConfig(config: ServiceConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { service: render(serviceSchema, config.service) };
  for (const { section } of COMPONENT_KINDS) {
    const group: Record<string, unknown> = {};
    for (const spec of config.components.values()) {
      if (`${spec.kind}s` !== section) continue;
      const body = render(spec.factory.configSchema, spec.config) as Record<string, unknown>;
      group[spec.name] = { type: spec.type, ...(spec.module ? { module: spec.module } : {}), ...body };
    }
    if (Object.keys(group).length > 0) out[section] = group;
  }
  out.pipelines = Object.fromEntries(config.pipelines);
  return out;
}
