// Detects pipelines that feed themselves through Kafka: pipeline P reads topic A and writes topic B,
// another reads B and writes A, ... Such a loop would re-ingest its own output forever.

import type { ComponentSpec } from './load';
import type { PipelineSection } from './service-schema';

/** A loop found in the wiring, with the pipeline path to point at. */
export interface TopologyCycle {
  readonly path: string;
  readonly message: string;
}

function topicsOf(spec: ComponentSpec | undefined): string[] {
  if (!spec || spec.type !== 'kafka') return [];
  const cfg = spec.config as { topic?: unknown; topics?: unknown; logs_topic?: unknown };
  const out: string[] = [];
  for (const value of [cfg.topic, cfg.topics]) {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) for (const t of value) if (typeof t === 'string') out.push(t);
  }
  return out;
}

/** checkTopicCycles returns every pipeline that takes part in a Kafka topic loop. */
export function checkTopicCycles(components: ReadonlyMap<string, ComponentSpec>, pipelines: ReadonlyMap<string, PipelineSection>): TopologyCycle[] {
  const edges = new Map<string, Set<string>>();
  const edgePipeline = new Map<string, string>();
  for (const [name, p] of pipelines) {
    const reads = p.receivers.flatMap((r) => topicsOf(components.get(`receivers.${r}`)));
    const writes = p.exporters.flatMap((e) => topicsOf(components.get(`exporters.${e}`)));
    for (const from of reads) {
      for (const to of writes) {
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
        edgePipeline.set(`${from}->${to}`, name);
      }
    }
  }
  const cycles: TopologyCycle[] = [];
  const reported = new Set<string>();
  const visit = (start: string, node: string, trail: string[]): void => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const loop = [...trail, next];
        const pipelineNames = loop.slice(1).map((t, i) => edgePipeline.get(`${loop[i]}->${t}`)!);
        const key = [...new Set(pipelineNames)].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          cycles.push({
            path: `pipelines.${pipelineNames[0]}`,
            message: `Kafka topics form a loop (${loop.join(' -> ')}) through pipelines ${[...new Set(pipelineNames)].join(', ')}: data would be re-ingested forever`,
          });
        }
      } else if (!trail.includes(next) && trail.length < 32) {
        visit(start, next, [...trail, next]);
      }
    }
  };
  for (const topic of edges.keys()) visit(topic, topic, [topic]);
  return cycles;
}
