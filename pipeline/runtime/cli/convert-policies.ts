// Converts the OpenTelemetry Collector's tail_sampling policies to ours: a policy's settings come out of
// the block named after its type (`status_code: {status_codes: [ERROR]}` -> `codes: ["ERROR"]`), keys are
// renamed where they differ, and the Collector's deprecated top-level `invert_match` veto becomes a `drop`
// policy. Whatever has no counterpart is reported (with its path, for the YAML line) instead of written.

import type { Converter, YamlPath } from './convert-model';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Per type: Collector key -> our key (null: accepted and left out, with a note). */
const KEYS: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  always_sample: {},
  latency: { threshold_ms: 'threshold_ms', upper_threshold_ms: 'upper_threshold_ms' },
  numeric_attribute: { key: 'key', min_value: 'min', max_value: 'max', invert_match: 'invert_match' },
  probabilistic: { hash_salt: 'hash_salt', sampling_percentage: 'percentage' },
  status_code: { status_codes: 'codes' },
  string_attribute: {
    key: 'key',
    values: 'values',
    enabled_regex_matching: 'regex',
    invert_match: 'invert_match',
    cache_max_size: null,
  },
  boolean_attribute: { key: 'key', value: 'value', invert_match: 'invert_match' },
  trace_state: { key: 'key', values: 'values' },
  trace_flags: {},
  rate_limiting: { spans_per_second: 'spans_per_second' },
  bytes_limiting: { bytes_per_second: 'bytes_per_second', burst_capacity: 'burst_capacity' },
  span_count: { min_spans: 'min_spans', max_spans: 'max_spans' },
  ottl_condition: { error_mode: 'error_mode', span: 'span', spanevent: 'spanevent' },
};

const NOTES: Readonly<Record<string, string>> = {
  cache_max_size: 'cache_max_size (the regex result cache) has no use here; left out',
};

/** convertPolicy converts one Collector policy at `path`; undefined when it cannot be converted at all. */
export function convertPolicy(raw: unknown, path: YamlPath, c: Converter): Obj | undefined {
  if (!isObj(raw)) {
    c.drop(path, 'a policy must be a mapping');
    return undefined;
  }
  const type = raw.type;
  if (typeof type !== 'string') {
    c.drop(path, 'policy without a type');
    return undefined;
  }
  const out: Obj = {};
  if (raw.name !== undefined) out.name = String(raw.name);
  out.type = type;
  for (const k of Object.keys(raw)) {
    if (k !== 'name' && k !== 'type' && k !== type)
      c.drop([...path, k], `"${k}" is not the settings block of a ${type} policy`);
  }
  const block = raw[type];
  if (block !== undefined && block !== null && !isObj(block)) {
    c.drop([...path, type], `the ${type} settings must be a mapping`);
    return undefined;
  }
  if (block === undefined && type !== 'always_sample' && type !== 'trace_flags' && KEYS[type] !== undefined) {
    c.drop(path, `${type} policy without its "${type}" settings block`);
    return undefined;
  }
  const settings: Obj = (block as Obj | null | undefined) ?? {};
  const at = (k: string): YamlPath => [...path, type, k];

  switch (type) {
    case 'and':
    case 'drop': {
      const subs = settings[`${type}_sub_policy`];
      out.policies = convertList(subs, at(`${type}_sub_policy`), c);
      unknownKeys(settings, [`${type}_sub_policy`], path, type, c);
      if ((out.policies as Obj[]).length > 0) return out;
      c.drop(path, `${type} policy left without sub-policies`);
      return undefined;
    }
    case 'not': {
      const sub = convertPolicy(settings.not_sub_policy, at('not_sub_policy'), c);
      if (sub !== undefined) out.policy = sub;
      unknownKeys(settings, ['not_sub_policy'], path, type, c);
      return out;
    }
    case 'composite':
      return convertComposite(settings, out, path, c);
    default:
      break;
  }
  const keys = KEYS[type];
  if (keys === undefined) {
    c.drop(path, `policy type "${type}" has no counterpart here`);
    return undefined;
  }
  for (const [k, v] of Object.entries(settings)) {
    if (!(k in keys)) {
      c.drop(at(k), `${type}.${k} has no counterpart here`);
      continue;
    }
    const ours = keys[k];
    if (ours === null) {
      c.note(at(k), NOTES[k] ?? `${k} left out`);
      continue;
    }
    out[ours] = v;
  }
  return finish(type, out, path, c);
}

/** finish applies the per-type value rules (Collector defaults and spellings). */
function finish(type: string, out: Obj, path: YamlPath, c: Converter): Obj {
  switch (type) {
    case 'probabilistic': {
      const pct = Number(out.percentage ?? 0);
      if (pct > 100) c.note([...path, type, 'sampling_percentage'], `${pct}% keeps everything, as 100% does`);
      out.percentage = pct > 100 ? 100 : (out.percentage ?? 0);
      out.hash_algorithm = 'fnv1a64';
      break;
    }
    case 'latency':
      out.threshold_ms ??= 0;
      if (out.upper_threshold_ms === 0) delete out.upper_threshold_ms;
      break;
    case 'span_count':
      if (out.max_spans === 0) delete out.max_spans;
      break;
    case 'numeric_attribute':
      // The Collector reads an unset max_value as no upper bound.
      if (out.max === 0 && out.min !== undefined && Number(out.min) > 0) delete out.max;
      break;
    case 'string_attribute':
      if (out.regex === false) delete out.regex;
      break;
    default:
      break;
  }
  if (out.invert_match === false) delete out.invert_match;
  return out;
}

function unknownKeys(settings: Obj, known: readonly string[], path: YamlPath, type: string, c: Converter): void {
  for (const k of Object.keys(settings))
    if (!known.includes(k)) c.drop([...path, type, k], `${type}.${k} has no counterpart here`);
}

function convertList(raw: unknown, path: YamlPath, c: Converter): Obj[] {
  if (!Array.isArray(raw)) {
    c.drop(path, 'expected a list of policies');
    return [];
  }
  const out: Obj[] = [];
  raw.forEach((p, i) => {
    const q = convertPolicy(p, [...path, i], c);
    if (q !== undefined) out.push(q);
  });
  return out;
}

function convertComposite(settings: Obj, out: Obj, path: YamlPath, c: Converter): Obj {
  const at = (k: string): YamlPath => [...path, 'composite', k];
  out.max_total_spans_per_second = settings.max_total_spans_per_second;
  const subs = convertList(settings.composite_sub_policy, at('composite_sub_policy'), c);
  out.policies = subs;
  // The Collector asks the sub-policies in composite_sub_policy order, whatever policy_order says.
  const names = subs.map((s) => s.name);
  const order = settings.policy_order;
  if (Array.isArray(order) && JSON.stringify(order) !== JSON.stringify(names)) {
    c.note(at('policy_order'), 'the Collector evaluates composite_sub_policy in its own order; that order is kept');
  }
  if (names.every((n) => typeof n === 'string')) out.policy_order = names;
  const alloc = settings.rate_allocation;
  out.rate_allocation = Array.isArray(alloc)
    ? alloc.filter(isObj).map((a) => ({ policy: String(a.policy), percent: Number(a.percent ?? 0) }))
    : [];
  unknownKeys(
    settings,
    ['max_total_spans_per_second', 'policy_order', 'composite_sub_policy', 'rate_allocation'],
    path,
    'composite',
    c,
  );
  return out;
}

const INVERTIBLE = new Set(['string_attribute', 'numeric_attribute', 'boolean_attribute']);

/**
 * convertPolicies converts the top-level list. A top-level `invert_match` policy is the Collector's
 * deprecated "inverted" decision: a match vetoes the trace (as `drop` does), and its "sample" vote counts
 * only when no other policy voted "not sampled", which never changes the outcome once any ordinary policy
 * runs. So it becomes a `drop` of the non-inverted match, and stays as an inverted policy only when every
 * other non-drop policy is inverted too.
 */
export function convertPolicies(raw: unknown, path: YamlPath, c: Converter): Obj[] {
  const list = convertList(raw, path, c);
  const inverted = (p: Obj): boolean => INVERTIBLE.has(String(p.type)) && p.invert_match === true;
  const ordinary = list.filter((p) => p.type !== 'drop' && !inverted(p));
  const out: Obj[] = [];
  list.forEach((p, i) => {
    if (!inverted(p)) {
      out.push(p);
      return;
    }
    const { invert_match: _, ...match } = p;
    const name = String(p.name ?? `policy-${i}`);
    out.push({ name: `${name} (invert_match veto)`, type: 'drop', policies: [{ ...match, name: `${name} (match)` }] });
    if (ordinary.length === 0) out.push(p);
    c.note(
      [...path, i],
      ordinary.length === 0
        ? `top-level invert_match: a drop policy vetoes matching traces, as the Collector's inverted decision does`
        : 'top-level invert_match: becomes a drop policy (the Collector\'s inverted "sample" vote never decides ' +
            'next to other policies)',
    );
  });
  return out;
}
