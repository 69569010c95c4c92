// Detects pipelines that feed themselves through Kafka: pipeline P reads topic A and writes topic B,
// another reads B and writes A, ... Such a loop would re-ingest its own output forever. Each component's
// factory names its topics per signal (kafkaTopics); a traces pipeline follows trace topics, a logs
// pipeline log topics.

import type { KafkaTopics } from '../../pipeline/sdk/component';
import type { PipelineSection } from './service-schema';

/** What the loop check needs of a component declaration: the topics its factory names. */
export interface TopicSource {
  readonly topics?: KafkaTopics;
}

/** A loop found in the wiring, with the pipeline path to point at. */
export interface TopologyCycle {
  readonly path: string;
  readonly message: string;
}

/** The topics a component reads or writes for one signal, as its factory describes them. */
function topicsOf(spec: TopicSource | undefined, signal: PipelineSection['signal']): readonly string[] {
  return spec?.topics?.[signal] ?? [];
}

/** checkTopicCycles returns every pipeline that takes part in a Kafka topic loop. */
export function checkTopicCycles(
  components: ReadonlyMap<string, TopicSource>,
  pipelines: ReadonlyMap<string, PipelineSection>,
): TopologyCycle[] {
  const edges = new Map<string, Set<string>>();
  const edgePipeline = new Map<string, string>();
  for (const [name, p] of pipelines) {
    const reads = p.receivers.flatMap((r) => topicsOf(components.get(`receivers.${r}`), p.signal));
    const writes = p.exporters.flatMap((e) => topicsOf(components.get(`exporters.${e}`), p.signal));
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
