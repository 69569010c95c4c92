// Loads a pipeline file: parses the .tsk text, checks every section against the schema of the
// component it declares, resolves custom processor modules, and checks the pipelines' wiring.
// Every problem is reported with file:line:col before anything starts. The component types come from
// the catalog the caller passes (the runtime's registry of built-ins and its plugin loader): this
// module knows no concrete component.

import path from 'node:path';
import type { ZodError } from 'zod';
import { parseTskFile, type SourcePos, type TskDiagnostic, type TskValue } from '../tsk/parser';
import type { AnyFactory, KafkaTopics, ProcessorFactory } from '../../pipeline/sdk/component';
import { ConfigError, type ConfigIssue } from './config-error';
import { joinPath, positionOf } from './paths';
import { pipelineSchema, serviceSchema, type PipelineSection, type ServiceSection } from './service-schema';
import { checkTopicCycles } from './topology';

/** The three component kinds, with the name of their section. */
export const COMPONENT_KINDS = [
  { kind: 'receiver', section: 'receivers' },
  { kind: 'processor', section: 'processors' },
  { kind: 'exporter', section: 'exporters' },
] as const;

export type ComponentKind = (typeof COMPONENT_KINDS)[number]['kind'];

/** ComponentSpec is one validated component declaration. */
export interface ComponentSpec {
  /** `receivers.otlp`, `processors.tail_sampling`, ... */
  readonly id: string;
  readonly kind: ComponentKind;
  readonly name: string;
  readonly type: string;
  readonly factory: AnyFactory;
  /** The typed config, defaults applied. */
  readonly config: unknown;
  /** Set for custom modules: the resolved file. */
  readonly module?: string;
  /** The Kafka topics the component reads or writes, when its factory names them. */
  readonly topics?: KafkaTopics;
}

/** ServiceConfig is a validated pipeline file, ready to build. */
export interface ServiceConfig {
  readonly file: string;
  readonly service: ServiceSection;
  readonly components: ReadonlyMap<string, ComponentSpec>;
  readonly pipelines: ReadonlyMap<string, PipelineSection>;
  /** The parsed document as written (for /v1/config, secrets redacted there). */
  readonly document: Readonly<Record<string, TskValue>>;
  /** Parser diagnostics that were not errors (lenient mode). */
  readonly warnings: readonly TskDiagnostic[];
}

/** ComponentCatalog resolves component types: the built-in factories and custom processor modules. */
export interface ComponentCatalog {
  /** The factory of a type, or undefined. */
  get(kind: ComponentKind, type: string): AnyFactory | undefined;
  /** The registered types of a kind, sorted (for error messages). */
  types(kind: ComponentKind): string[];
  /** Loads a custom processor module (a path relative to `baseDir`, or a package name); throws on failure. */
  loadProcessorModule(spec: string, baseDir: string): Promise<{ factory: ProcessorFactory<unknown>; resolved: string }>;
}

/** Options of loadServiceConfig. */
export interface LoadOptions {
  /** Resolves component types (the runtime passes its registry of built-ins). */
  registry: ComponentCatalog;
  /** Environment for @env (default process.env). */
  env?: Record<string, string | undefined>;
  /** Parser diagnostics become errors. */
  strict?: boolean;
}

const KNOWN_SECTIONS = new Set(['service', 'receivers', 'processors', 'exporters', 'pipelines', 'tracing']);

function isObject(v: TskValue | undefined): v is { [k: string]: TskValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** loadServiceConfig parses and validates a pipeline file; throws ConfigError with every issue found. */
export async function loadServiceConfig(file: string, options: LoadOptions): Promise<ServiceConfig> {
  const registry = options.registry;
  const issues: ConfigIssue[] = [];
  const parsed = parseTskFile(file, { env: options.env });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error' || options.strict === true);
  for (const d of errors) issues.push({ code: d.code, path: '', message: d.message, pos: d });
  const doc = parsed.data;
  const positions = parsed.positions;
  const at = (p: string): SourcePos | undefined => positionOf(positions, p);
  const issue = (code: string, p: string, message: string): void => {
    issues.push({ code, path: p, message, pos: at(p) });
  };
  const zodIssues = (base: string, err: ZodError): void => {
    for (const zi of err.issues) {
      if (zi.code === 'unrecognized_keys') {
        for (const key of zi.keys) issue('ERR_CONFIG_UNKNOWN_KEY', joinPath(base, [...zi.path, key]), `unknown key "${key}"`);
      } else {
        issue('ERR_CONFIG_INVALID_VALUE', joinPath(base, zi.path), zi.message);
      }
    }
  };

  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) continue;
    if (!KNOWN_SECTIONS.has(key)) {
      issue('ERR_CONFIG_UNKNOWN_SECTION', key, `unknown section [${key}]; expected one of service, receivers, processors, exporters, pipelines`);
    }
  }

  const serviceRaw = doc.service ?? {};
  const service = serviceSchema.safeParse(serviceRaw);
  if (!service.success) zodIssues('service', service.error);

  const components = new Map<string, ComponentSpec>();
  const baseDir = path.dirname(path.resolve(file));
  for (const { kind, section } of COMPONENT_KINDS) {
    const group = doc[section];
    if (group === undefined) continue;
    if (!isObject(group)) {
      issue('ERR_CONFIG_INVALID_VALUE', section, `[${section}] must hold named sections such as [${section}.NAME]`);
      continue;
    }
    for (const [name, raw] of Object.entries(group)) {
      const id = `${section}.${name}`;
      if (!isObject(raw)) {
        issue('ERR_CONFIG_INVALID_VALUE', id, `[${id}] must be a section, got ${JSON.stringify(raw)}`);
        continue;
      }
      const { type: typeRaw, module: moduleRaw, ...body } = raw;
      let factory: AnyFactory | undefined;
      let modulePath: string | undefined;
      let type = typeof typeRaw === 'string' ? typeRaw : name;
      if (typeRaw !== undefined && typeof typeRaw !== 'string') {
        issue('ERR_CONFIG_INVALID_VALUE', `${id}.type`, 'type must be a string');
        continue;
      }
      if (moduleRaw !== undefined) {
        if (kind !== 'processor' || typeof moduleRaw !== 'string') {
          issue('ERR_CONFIG_INVALID_VALUE', `${id}.module`, 'module is allowed on processors only and must be a path or package name string');
          continue;
        }
        try {
          const loaded = await registry.loadProcessorModule(moduleRaw, baseDir);
          factory = loaded.factory as AnyFactory;
          modulePath = loaded.resolved;
          type = loaded.factory.type;
        } catch (err) {
          issue('ERR_CONFIG_MODULE', `${id}.module`, err instanceof Error ? err.message : String(err));
          continue;
        }
      } else {
        factory = registry.get(kind, type);
        if (!factory) {
          const known = registry.types(kind).join(', ');
          issue('ERR_CONFIG_UNKNOWN_TYPE', typeRaw === undefined ? id : `${id}.type`,
            typeRaw === undefined
              ? `"${name}" is not a known ${kind} type; add type: "<one of ${known}>"`
              : `unknown ${kind} type "${type}"; known types: ${known}`);
          continue;
        }
      }
      const result = factory.configSchema.safeParse(body);
      if (!result.success) {
        zodIssues(id, result.error);
        continue;
      }
      const topics = (factory as { kafkaTopics?: (config: unknown) => KafkaTopics }).kafkaTopics?.(result.data);
      components.set(id, { id, kind, name, type, factory, config: result.data, module: modulePath, topics });
    }
  }

  const pipelines = new Map<string, PipelineSection>();
  const used = new Set<string>();
  const pipelinesRaw = doc.pipelines;
  if (pipelinesRaw === undefined || (isObject(pipelinesRaw) && Object.keys(pipelinesRaw).length === 0)) {
    issue('ERR_CONFIG_NO_PIPELINE', 'pipelines', 'no pipeline declared; add a [pipelines.NAME] section with receivers and exporters');
  } else if (!isObject(pipelinesRaw)) {
    issue('ERR_CONFIG_INVALID_VALUE', 'pipelines', '[pipelines] must hold named sections such as [pipelines.NAME]');
  } else {
    for (const [name, raw] of Object.entries(pipelinesRaw)) {
      const id = `pipelines.${name}`;
      const parsedPipeline = pipelineSchema.safeParse(raw);
      if (!parsedPipeline.success) {
        zodIssues(id, parsedPipeline.error);
        continue;
      }
      const p = parsedPipeline.data;
      for (const { kind, section } of COMPONENT_KINDS) {
        const list = p[section];
        const seen = new Set<string>();
        list.forEach((ref, i) => {
          const refPath = `${id}.${section}[${i}]`;
          const target = `${section}.${ref}`;
          if (seen.has(ref)) issue('ERR_CONFIG_DUPLICATE_REF', refPath, `"${ref}" is listed twice in ${section}`);
          seen.add(ref);
          const spec = components.get(target);
          if (!spec) {
            const declared = doc[section];
            const failedEarlier = isObject(declared) && declared[ref] !== undefined;
            if (!failedEarlier) issue('ERR_CONFIG_DANGLING_REF', refPath, `no ${kind} named "${ref}"; declare [${target}]`);
          }
          used.add(target);
        });
      }
      pipelines.set(name, p);
    }
  }
  for (const id of components.keys()) {
    if (!used.has(id)) issue('ERR_CONFIG_UNUSED', id, `[${id}] is declared but no pipeline uses it`);
  }
  // A receiver that only logs pipelines use must not read a traces topic: with no traces pipeline to take
  // them, its trace messages could only be refused, and the consumer group would skip past them.
  for (const spec of components.values()) {
    if (spec.kind !== 'receiver' || !spec.topics || spec.topics.traces.length === 0) continue;
    const users = [...pipelines.values()].filter((p) => p.receivers.includes(spec.name));
    if (users.length > 0 && users.every((p) => p.signal === 'logs')) {
      const topics = spec.topics.traces.join(', ');
      issue('ERR_CONFIG_INVALID_VALUE', `${spec.id}.topic`,
        `only logs pipelines use [${spec.id}], so it must not read the traces topic ${topics}; set topic: [] and logs_topic`);
    }
  }
  for (const cycle of checkTopicCycles(components, pipelines)) issue('ERR_CONFIG_CYCLE', cycle.path, cycle.message);

  if (issues.length > 0) throw new ConfigError(issues, file);
  return {
    file: path.resolve(file),
    service: service.success ? service.data : serviceSchema.parse({}),
    components,
    pipelines,
    document: doc,
    warnings: parsed.diagnostics,
  };
}
