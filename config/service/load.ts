// Loads a pipeline file: parses the .tsk text, applies --set overrides, checks every section against the
// schema of the component it declares, resolves custom processor modules, and checks the pipelines' wiring.
// Every problem is reported at once, with file:line:col, before anything starts; parser warnings are kept
// beside the errors. The .tsk dialect accepts some things silently (an unset @env reads as "", the last
// of two equal keys wins, an unknown @function stays text): this is where a pipeline file refuses them.
// The component types come from the catalog the caller passes (the runtime's registry of built-ins and its
// plugin loader): this module knows no concrete component.

import fs from 'node:fs';
import path from 'node:path';
import { parseTsk, parseTskFile, type SourcePos, type TskDiagnostic, type TskNote, type TskValue } from '../tsk/parser';
import type { AnyFactory, KafkaTopics, ProcessorFactory } from '../../pipeline/sdk/component';
import { ConfigError, type ConfigIssue } from './config-error';
import { applyOverrides } from './overrides';
import { joinPath, positionOf } from './paths';
import { pipelineSchema, serviceSchema, type PipelineSection, type ServiceSection } from './service-schema';
import { closest } from './suggest';
import { checkTopicCycles } from './topology';
import { mapZodIssues } from './zod-issues';

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
  /** Warnings: parser diagnostics that are not errors, and unset @env whose "" is a legal value. */
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
  /** Every parser diagnostic becomes an error, warnings included. */
  strict?: boolean;
  /** The file's text, when it does not come from disk (`-` for stdin); `file` is then only its display name. */
  source?: string;
  /** `path=value` overrides (the CLI's --set), applied in order after parsing; value is a .tsk value. */
  overrides?: readonly string[];
}

const KNOWN_SECTIONS = ['service', 'receivers', 'processors', 'exporters', 'pipelines', 'tracing'];

/** The operators the parser evaluates (for "did you mean" on an unknown @function). */
const KNOWN_FUNCTIONS = [
  'env',
  'int',
  'float',
  'bool',
  'string',
  'if',
  'date',
  'cache',
  'metrics',
  'learn',
  'optimize',
];

/**
 * PIPELINE_ERRORS are parser warnings a pipeline file may not have: each means a value is not what was
 * written (text kept in place of a string, a call or a variable; a line or a value dropped).
 */
const PIPELINE_ERRORS: ReadonlySet<string> = new Set([
  'TSK_UNTERMINATED_STRING',
  'TSK_UNKNOWN_OPERATOR',
  'TSK_UNDEFINED_VARIABLE',
  'TSK_BAD_ARGUMENTS',
  'TSK_BAD_CONVERSION',
  'TSK_IGNORED_LINE',
  'TSK_EMPTY_VALUE',
  'TSK_KEY_CONFLICT',
  'TSK_NUMBER_RANGE',
  'TSK_UNSUPPORTED_EXPRESSION',
  'TSK_HOOK_FAILED',
  'TSK_BAD_ELEMENT',
]);

/** The parser's account of what it did instead ("; kept as text: ...") is dropped when the problem is an error. */
const FALLBACK_CLAUSE = /; (kept as|value kept|value used|using|line ignored|ignored|skipped|default used)\b.*$/;

function isObject(v: TskValue | undefined): v is { [k: string]: TskValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const samePlace = (a: SourcePos, b: SourcePos): boolean =>
  a.file === b.file && a.line === b.line && a.column === b.column;
const lastKey = (p: string): string => p.slice(p.lastIndexOf('.') + 1);
const at2 = (p: SourcePos): string => `${p.line}:${p.column}`;

/** withSuggestion appends `; did you mean "x"?` to a message when there is a suggestion. */
function withSuggestion(message: string, suggestion: string | undefined): string {
  return suggestion === undefined ? message : `${message}; did you mean "${suggestion}"?`;
}

/** loadServiceConfig parses and validates a pipeline file; throws ConfigError with every issue found. */
export async function loadServiceConfig(file: string, options: LoadOptions): Promise<ServiceConfig> {
  const registry = options.registry;
  const issues: ConfigIssue[] = [];
  const warnings: TskDiagnostic[] = [];
  const notes: TskNote[] = [];
  const parseOptions = { env: options.env, onNote: (n: TskNote) => notes.push(n) };
  const parsed =
    options.source !== undefined
      ? parseTsk(options.source, { ...parseOptions, file })
      : parseTskFile(file, parseOptions);
  const unknownCalls = notes.filter(
    (n): n is Extract<TskNote, { kind: 'unknown-operator' }> => n.kind === 'unknown-operator',
  );
  for (const d of parsed.diagnostics) {
    if (d.code === 'TSK_UNKNOWN_OPERATOR' && unknownCalls.some((n) => samePlace(n.pos, d))) continue;
    if (d.severity === 'error' || options.strict === true || PIPELINE_ERRORS.has(d.code)) {
      const message = d.severity === 'error' ? d.message : d.message.replace(FALLBACK_CLAUSE, '');
      issues.push({ code: d.code, path: '', message, pos: d });
    } else warnings.push(d);
  }
  for (const n of notes) {
    // [tracing] belongs to the instrumentation kit (initTracing), which judges its own values
    if (n.kind !== 'duplicate-section' && n.path !== null && (n.path === 'tracing' || n.path.startsWith('tracing.'))) {
      if (n.kind === 'unknown-operator')
        warnings.push({
          ...n.pos,
          code: 'TSK_UNKNOWN_OPERATOR',
          severity: 'warning',
          message: `@${n.name} is not a known operator; kept as literal text`,
        });
      continue;
    }
    if (n.kind === 'unknown-operator') {
      const suggestion = closest(n.name, KNOWN_FUNCTIONS);
      issues.push({
        code: 'ERR_CONFIG_UNKNOWN_FUNCTION',
        path: '',
        pos: n.pos,
        suggestion: suggestion && `@${suggestion}`,
        message: withSuggestion(
          `unknown function @${n.name}; functions: @${KNOWN_FUNCTIONS.join(', @')}`,
          suggestion && `@${suggestion}`,
        ),
      });
    } else if (n.kind === 'duplicate-key') {
      issues.push({
        code: 'ERR_CONFIG_DUPLICATE_KEY',
        path: n.path,
        pos: n.pos,
        message: `"${lastKey(n.path)}" is written twice (first at ${at2(n.first)}); remove one`,
      });
    } else if (n.kind === 'duplicate-section') {
      issues.push({
        code: 'ERR_CONFIG_DUPLICATE_SECTION',
        path: n.path,
        pos: n.pos,
        message: `[${n.path}] is declared twice (first at ${at2(n.first)}); merge them into one`,
      });
    }
  }
  const doc = parsed.data;
  const positions = parsed.positions;
  const overridden = applyOverrides(doc, positions, options.overrides ?? [], options.env, issues);
  const at = (p: string): SourcePos | undefined => positionOf(positions, p);
  const issue = (code: string, p: string, message: string, suggestion?: string): void => {
    issues.push({ code, path: p, message: withSuggestion(message, suggestion), pos: at(p), suggestion });
  };
  /** validate parses `raw` with `schema`, maps its issues under `base`; returns the data or undefined. */
  const validate = <T>(
    base: string,
    schema: { safeParse(v: unknown, p: object): { success: boolean; data?: T; error?: { issues: unknown[] } } },
    raw: unknown,
  ): T | undefined => {
    const result = schema.safeParse(raw, { reportInput: true });
    if (result.success) return result.data as T;
    for (const m of mapZodIssues(schema, raw, (result.error?.issues ?? []) as never)) {
      const p = joinPath(base, m.path);
      const pos = m.offset === undefined ? at(p) : withinString(at(p), m.offset, options.source);
      issues.push({ code: m.code, path: p, message: m.message, pos, suggestion: m.suggestion });
    }
    return undefined;
  };
  /** validated holds the sections whose schema accepted them (an unset @env there may be legal). */
  const validated = new Set<string>();

  for (const key of Object.keys(doc)) {
    if (key.startsWith('$')) continue;
    if (!KNOWN_SECTIONS.includes(key)) {
      issue(
        'ERR_CONFIG_UNKNOWN_SECTION',
        key,
        `unknown section [${key}]; expected one of service, receivers, processors, exporters, pipelines`,
        closest(key, KNOWN_SECTIONS),
      );
    }
  }

  const service = validate<ServiceSection>('service', serviceSchema, doc.service ?? {});
  if (service) validated.add('service');

  const components = new Map<string, ComponentSpec>();
  const baseDir = options.source !== undefined ? process.cwd() : path.dirname(path.resolve(file));
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
          issue(
            'ERR_CONFIG_INVALID_VALUE',
            `${id}.module`,
            'module is allowed on processors only and must be a path or package name string',
          );
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
          const types = registry.types(kind);
          const known = types.join(', ');
          issue(
            'ERR_CONFIG_UNKNOWN_TYPE',
            typeRaw === undefined ? id : `${id}.type`,
            typeRaw === undefined
              ? `"${name}" is not a known ${kind} type; add type: "<one of ${known}>"`
              : `unknown ${kind} type "${type}"; known types: ${known}`,
            closest(type, types),
          );
          continue;
        }
      }
      const config = validate<unknown>(id, factory.configSchema, body);
      if (config === undefined) continue;
      validated.add(id);
      const topics = (factory as { kafkaTopics?: (config: unknown) => KafkaTopics }).kafkaTopics?.(config);
      components.set(id, { id, kind, name, type, factory, config, module: modulePath, topics });
    }
  }

  const pipelines = new Map<string, PipelineSection>();
  const used = new Set<string>();
  const pipelinesRaw = doc.pipelines;
  if (pipelinesRaw === undefined || (isObject(pipelinesRaw) && Object.keys(pipelinesRaw).length === 0)) {
    const onlyTracing = doc.tracing !== undefined && COMPONENT_KINDS.every(({ section }) => doc[section] === undefined);
    issue(
      'ERR_CONFIG_NO_PIPELINE',
      'pipelines',
      onlyTracing
        ? 'no pipeline declared: this looks like an instrumentation file ' +
            '(its [tracing] section is read by initTracing ' +
            'in your services, see docs/instrumentation.md), not a pipeline file'
        : 'no pipeline declared; add a [pipelines.NAME] section with receivers and exporters',
    );
  } else if (!isObject(pipelinesRaw)) {
    issue('ERR_CONFIG_INVALID_VALUE', 'pipelines', '[pipelines] must hold named sections such as [pipelines.NAME]');
  } else {
    for (const [name, raw] of Object.entries(pipelinesRaw)) {
      const id = `pipelines.${name}`;
      const p = validate<PipelineSection>(id, pipelineSchema, raw);
      if (p === undefined) continue;
      validated.add(id);
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
            const names = isObject(declared) ? Object.keys(declared) : [];
            if (!failedEarlier) {
              issue(
                'ERR_CONFIG_DANGLING_REF',
                refPath,
                `no ${kind} named "${ref}"; declare [${target}]`,
                closest(ref, names),
              );
            }
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
      issue(
        'ERR_CONFIG_INVALID_VALUE',
        `${spec.id}.topic`,
        `only logs pipelines use [${spec.id}], so it must not read the traces topic ${topics}; ` +
          'set topic: [] and logs_topic',
      );
    }
  }
  for (const cycle of checkTopicCycles(components, pipelines)) issue('ERR_CONFIG_CYCLE', cycle.path, cycle.message);

  const envNotes = notes.filter(
    (n): n is Extract<TskNote, { kind: 'env-unset' }> =>
      n.kind === 'env-unset' && !(n.path !== null && (n.path === 'tracing' || n.path.startsWith('tracing.'))),
  );
  const final = dropConsequences(checkUnsetEnv(envNotes, issues, warnings, validated, overridden));
  if (final.length > 0) throw new ConfigError(sortIssues(final), file, warnings);
  return {
    file: options.source !== undefined ? file : path.resolve(file),
    service: service ?? serviceSchema.parse({}),
    components,
    pipelines,
    document: doc,
    warnings,
  };
}

/** under tells whether `p` is `base` or lies inside it. */
function under(p: string, base: string): boolean {
  return p === base || p.startsWith(`${base}.`) || p.startsWith(`${base}[`);
}

/**
 * checkUnsetEnv decides what an unset @env("X") without default means. Where the schema refused the ""
 * it gave, the schema's issue is replaced by one naming X; where the section was validated and "" was
 * accepted, it is a warning naming X; where the parser could not say where the value went, an error.
 */
function checkUnsetEnv(
  notes: readonly Extract<TskNote, { kind: 'env-unset' }>[],
  issues: readonly ConfigIssue[],
  warnings: TskDiagnostic[],
  validated: ReadonlySet<string>,
  overridden: readonly string[],
): ConfigIssue[] {
  let out = [...issues];
  for (const n of notes) {
    const p = n.path;
    if (p !== null && overridden.some((o) => under(p, o))) continue;
    if (p !== null && issues.some((i) => i.code === 'ERR_CONFIG_UNKNOWN_KEY' && i.path === p)) continue; // said already
    const text = `@env("${n.name}") has no default and ${n.name} is not set`;
    const refused = p === null ? [] : out.filter((i) => i.code === 'ERR_CONFIG_INVALID_VALUE' && under(i.path, p));
    const accepted = p !== null && refused.length === 0 && [...validated].some((v) => under(p, v));
    // elsewhere (a section that failed for another reason, an unknown key) the value was never judged: say so
    if (accepted) {
      warnings.push({ ...n.pos, code: 'WARN_CONFIG_ENV_UNSET', severity: 'warning', message: `${text}; "" is used` });
      continue;
    }
    out = out.filter((i) => !refused.includes(i));
    out.push({
      code: 'ERR_CONFIG_ENV_UNSET',
      path: p ?? '',
      pos: n.pos,
      message: `${text}; set ${n.name} or give a default: @env("${n.name}", value)`,
    });
  }
  return out;
}

/**
 * dropConsequences removes a value error on a line whose text the parser already refused (an unterminated
 * string or an unknown function gives a value nobody wrote; saying it has the wrong format adds nothing).
 */
function dropConsequences(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const refused = new Set(issues.filter((i) => i.path === '' && i.pos).map((i) => `${i.pos?.file}:${i.pos?.line}`));
  return issues.filter(
    (i) => !(i.code === 'ERR_CONFIG_INVALID_VALUE' && i.pos && refused.has(`${i.pos.file}:${i.pos.line}`)),
  );
}

/**
 * withinString moves `pos`, the position of a double-quoted string value, to the character `offset` of its
 * decoded text (an escape such as \" counts as one character there, two in the file). Returns `pos`
 * unchanged when the file cannot be read or the value is not a quoted string on that line.
 */
function withinString(pos: SourcePos | undefined, offset: number, source: string | undefined): SourcePos | undefined {
  if (pos === undefined) return undefined;
  let text: string;
  try {
    text = source ?? fs.readFileSync(pos.file, 'utf8');
  } catch {
    return pos;
  }
  const line = text.split('\n')[pos.line - 1];
  if (line === undefined || line[pos.column - 1] !== '"') return pos;
  let i = pos.column; // 0-based index of the first character after the opening quote
  for (let decoded = 0; decoded < offset && i < line.length && line[i] !== '"'; decoded++) {
    i += line[i] === '\\' ? 2 : 1;
  }
  return { ...pos, column: i + 1 };
}

/** sortIssues orders issues by file, line and column (those without a position last); stable otherwise. */
function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => {
      const pa = a.issue.pos;
      const pb = b.issue.pos;
      if (!pa || !pb) return (pa ? 0 : 1) - (pb ? 0 : 1) || a.i - b.i;
      return pa.file.localeCompare(pb.file) || pa.line - pb.line || pa.column - pb.column || a.i - b.i;
    })
    .map((x) => x.issue);
}
