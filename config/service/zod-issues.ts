// The one place where schema (zod) issues become our messages. Zod's own English wording ("Invalid
// discriminator value", "Too big: expected number to be <=100") never reaches the user: an issue whose
// message is zod's default is rewritten from its code; a message a schema author wrote is kept. Unknown
// keys, enum values and discriminators get a "did you mean", found by walking the schema to the issue's
// path, and keys the schema marks with withKeyHints (e.g. the Collector's names) get their hint.

import { z } from 'zod';
import { keyHintsOf, type KeyHint } from '../../pipeline/sdk/config-types';
import { closest } from './suggest';

/** MappedIssue is one schema problem in our words; `path` is relative to the validated value. */
export interface MappedIssue {
  readonly code: 'ERR_CONFIG_UNKNOWN_KEY' | 'ERR_CONFIG_UNKNOWN_TYPE' | 'ERR_CONFIG_INVALID_VALUE';
  readonly path: readonly PropertyKey[];
  readonly message: string;
  /** The likely intended key or value, when one is close enough. */
  readonly suggestion?: string;
  /**
   * Where in a string value the problem is (0-based, in the decoded string), when a custom issue says so
   * with `params: { offset }` (e.g. the column of an OTTL parse error); the loader turns it into a column.
   */
  readonly offset?: number;
}

type Issue = z.core.$ZodIssue;
/** The structural view of a zod schema this module reads: its definition, through `_zod.def`. */
export interface Def {
  type: string;
  [k: string]: unknown;
}

const defaultMessages = z.locales.en().localeError;

/** defOf is a schema's definition (`_zod.def`), or undefined for a non-schema. */
export function defOf(schema: unknown): Def | undefined {
  const zod = (schema as { _zod?: { def?: Def } } | null)?._zod;
  return zod?.def;
}

/** unwrap steps through wrappers (optional, default, preprocess, lazy, ...), calling `visit` on each layer. */
export function unwrap(schema: unknown, visit: (s: unknown) => void = () => undefined): unknown {
  let cur = schema;
  for (let guard = 0; guard < 32; guard++) {
    visit(cur);
    const def = defOf(cur);
    if (!def) return cur;
    if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
      cur = def.innerType;
    } else if (def.type === 'pipe') {
      cur = defOf(def.in)?.type === 'transform' ? def.out : def.in;
    } else if (def.type === 'lazy') {
      cur = (def.getter as () => unknown)();
    } else return cur;
  }
  return cur;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** options lists the members of a union that may fit `data` (one, for a discriminated union); [schema] otherwise. */
export function options(schema: unknown, data: unknown): unknown[] {
  const def = defOf(schema);
  if (def?.type !== 'union') return [schema];
  const all = def.options as unknown[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator === undefined || !isRecord(data)) return all;
  const hit = all.find((o) => literalValues(shapeOf(o)?.[discriminator]).includes(data[discriminator] as never));
  return hit === undefined ? all : [hit];
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  const def = defOf(unwrap(schema));
  return def?.type === 'object' ? (def.shape as Record<string, unknown>) : undefined;
}

/** literalValues lists the values a literal or enum schema accepts. */
function literalValues(schema: unknown): unknown[] {
  const def = defOf(unwrap(schema));
  if (def?.type === 'literal') return def.values as unknown[];
  if (def?.type === 'enum') return Object.values(def.entries as Record<string, unknown>);
  return [];
}

interface Located {
  /** Candidate schemas at the path (several when a union could not be narrowed). */
  schemas: unknown[];
  data: unknown;
  hints: Record<string, KeyHint>;
}

/** locate walks `segments` from the root schema and data; hints are gathered from the last step's layers. */
function locate(root: unknown, rootData: unknown, segments: readonly PropertyKey[]): Located {
  let schemas = [root];
  let data = rootData;
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const s of schemas) {
      for (const o of options(unwrap(s), data)) {
        const def = defOf(unwrap(o));
        if (def?.type === 'object') {
          const child = (def.shape as Record<string, unknown>)[String(seg)];
          if (child !== undefined) next.push(child);
        } else if (def?.type === 'array') next.push(def.element);
        else if (def?.type === 'record') next.push(def.valueType);
      }
    }
    schemas = next;
    data = isRecord(data) || Array.isArray(data) ? (data as Record<PropertyKey, unknown>)[seg as string] : undefined;
  }
  const hints: Record<string, KeyHint> = {};
  for (const s of schemas) {
    const collect = (layer: unknown) => Object.assign(hints, keyHintsOf(layer as object) ?? {});
    for (const o of options(unwrap(s, collect), data)) unwrap(o, collect);
  }
  return { schemas, data, hints };
}

/** knownKeys lists the keys the object schema(s) at a location accept. */
function knownKeys(at: Located): string[] {
  const keys = new Set<string>();
  for (const s of at.schemas) {
    for (const o of options(unwrap(s), at.data)) for (const k of Object.keys(shapeOf(o) ?? {})) keys.add(k);
  }
  return [...keys];
}

/** show renders a written value for a message. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list [...]',
  object: 'a section or an inline object {...}',
  record: 'a section or an inline object {...}',
};

function isDefault(issue: Issue): boolean {
  const text = defaultMessages?.(issue as never);
  const message = typeof text === 'string' ? text : text?.message;
  return message === issue.message;
}

function sizeOf(issue: Extract<Issue, { code: 'too_big' | 'too_small' }>): string {
  const bound = String(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  const n = Number(bound);
  switch (issue.origin) {
    case 'array':
    case 'set':
      return `${bound} item${n === 1 ? '' : 's'}`;
    case 'string':
      return `${bound} character${n === 1 ? '' : 's'}`;
    default:
      return bound;
  }
}

/** describe gives our message for one issue (other than unrecognized_keys), with a suggestion when found. */
function describe(issue: Issue, root: unknown, data: unknown): Omit<MappedIssue, 'path'> {
  const input = (issue as { input?: unknown }).input;
  const invalid = (message: string, suggestion?: string): Omit<MappedIssue, 'path'> => ({
    code: 'ERR_CONFIG_INVALID_VALUE',
    message: suggestion ? `${message}; did you mean "${suggestion}"?` : message,
    suggestion,
  });
  if (issue.code === 'custom') {
    const params = issue.params as { suggestion?: unknown; offset?: unknown } | undefined;
    const suggestion = params?.suggestion;
    return {
      code: 'ERR_CONFIG_INVALID_VALUE',
      message: issue.message,
      suggestion: typeof suggestion === 'string' ? suggestion : undefined,
      ...(typeof params?.offset === 'number' ? { offset: params.offset } : {}),
    };
  }
  if (issue.code === 'invalid_union') {
    const disc = (issue as { discriminator?: string }).discriminator;
    const allowed = ((issue as { options?: unknown[] }).options ?? []).map(String);
    if (disc !== undefined) {
      const value = isRecord(input) ? input[disc] : undefined;
      if (value === undefined) return invalid(`missing "${disc}"; one of: ${allowed.join(', ')}`);
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      const message = `unknown ${disc} ${show(value)}; known: ${allowed.join(', ')}`;
      return {
        code: 'ERR_CONFIG_UNKNOWN_TYPE',
        message: suggestion ? `${message}; did you mean "${suggestion}"?` : message,
        suggestion,
      };
    }
    // a plain union: explain the branch that got furthest (not a bare type or literal mismatch)
    const branches = issue.errors.filter((b) => b.length > 0);
    const shallow = (b: Issue[]) => b.every((i) => i.code === 'invalid_type' || i.code === 'invalid_value');
    const best = branches.find((b) => !shallow(b));
    if (best) return describe({ ...best[0], input } as Issue, root, data);
    if (!isDefault(issue)) return invalid(issue.message);
    return invalid(`${show(input)} is not an accepted value here`);
  }
  if (!isDefault(issue)) return invalid(issue.message);
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return invalid('is required');
      return invalid(`expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${show(input)}`);
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      const suggestion = typeof input === 'string' ? closest(input, allowed) : undefined;
      if (allowed.length === 1) return invalid(`must be ${show(issue.values[0])}, got ${show(input)}`);
      return invalid(`must be one of ${issue.values.map((v) => show(v)).join(', ')}, got ${show(input)}`, suggestion);
    }
    case 'too_big':
      return invalid(
        `must be at most ${sizeOf(issue)}${issue.inclusive === false ? ' (exclusive)' : ''}, got ${show(input)}`,
      );
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return invalid('must not be empty');
      if (issue.origin === 'array' && Number(issue.minimum) === 1) return invalid('needs at least one item');
      return invalid(
        `must be at least ${sizeOf(issue)}${issue.inclusive === false ? ' (exclusive)' : ''}, got ${show(input)}`,
      );
    case 'invalid_format':
      return invalid(
        `has the wrong format (${issue.format === 'regex' ? `must match ${String(issue.pattern)}` : issue.format}), ` +
          `got ${show(input)}`,
      );
    case 'not_multiple_of':
      return invalid(`must be a multiple of ${String(issue.divisor)}, got ${show(input)}`);
    default:
      return invalid(`is not valid here, got ${show(input)}`);
  }
}

/**
 * mapZodIssues turns the issues of `schema.safeParse(data, { reportInput: true })` into our issues:
 * one per unknown key (with a suggestion or the schema's key hint), the rest described from their code.
 */
export function mapZodIssues(schema: unknown, data: unknown, issues: readonly Issue[]): MappedIssue[] {
  const out: MappedIssue[] = [];
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') {
      out.push({ path: issue.path, ...describe(issue, schema, data) });
      continue;
    }
    const at = locate(schema, data, issue.path);
    const keys = knownKeys(at);
    for (const key of issue.keys) {
      const hint = Object.hasOwn(at.hints, key) ? at.hints[key] : undefined;
      let message = `unknown key "${key}"`;
      let suggestion: string | undefined;
      if (typeof hint === 'string') {
        suggestion = hint;
        message += `; did you mean "${hint}"? ("${key}" is the OpenTelemetry Collector's name)`;
      } else if (hint !== undefined) {
        message += `; ${hint.note}`;
      } else {
        suggestion = closest(key, keys);
        if (suggestion !== undefined) message += `; did you mean "${suggestion}"?`;
      }
      out.push({ code: 'ERR_CONFIG_UNKNOWN_KEY', path: [...issue.path, key], message, suggestion });
    }
  }
  return out;
}
