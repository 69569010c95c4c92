// Building blocks for component config schemas (zod): durations ("10s", a unit is required), byte sizes
// ("20MiB"), numbers/booleans that also accept the strings @env produces, "host:port" addresses with the port
// range checked, and key hints for the config loader's "unknown key" errors. Every message says what was
// expected and what was found ("must be between 0 and 100, got 150").

import { z } from 'zod';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** parseDuration turns "1.5s", "250ms", "2m30s" or a number of milliseconds into milliseconds; undefined if malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]];
    consumed = part.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

/** parseByteSize turns "20MiB", "512 KiB", "1GB" or a number of bytes into bytes; undefined if malformed. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(value.trim());
  if (!m) return undefined;
  const unit = m[2] === '' ? 1 : SIZE_UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

/** formatMs renders milliseconds the way a config would write them ("1.5s", "250ms", "2m", "0s"). */
export function formatMs(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && Number.isInteger((ms / size) * 1000)) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** unitlessDuration returns the number when raw is a bare number (or numeric string) other than 0. */
function unitlessDuration(raw: unknown): number | undefined {
  const numeric = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw);
  const n = typeof raw === 'number' ? raw : numeric ? Number(raw) : NaN;
  return Number.isFinite(n) && n !== 0 ? n : undefined;
}

/**
 * duration is a config field holding a time span such as "10s", "250ms" or "2m30s"; the parsed value is
 * milliseconds. A bare number other than 0 is refused (is `10` ten seconds or ten milliseconds?); the error
 * suggests both spellings (params.suggestion holds the more likely one).
 */
export function duration(opts: { min?: number; max?: number } = {}) {
  return tagDuration(
    z.unknown().transform((raw, ctx): number => {
      const bare = unitlessDuration(raw);
      if (bare !== undefined) {
        const likely = bare >= 100 ? `${bare}ms` : `${bare}s`;
        const other = bare >= 100 ? `${bare}s` : `${bare}ms`;
        ctx.addIssue({
          code: 'custom',
          message: `a duration needs a unit: write "${likely}" or "${other}", got ${JSON.stringify(raw)}`,
          params: { suggestion: likely },
        });
        return z.NEVER;
      }
      const ms = parseDuration(raw);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a duration such as "10s", "250ms" or "2m", got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      const range = rangeMessage(ms, opts, formatMs);
      if (range !== undefined) ctx.addIssue({ code: 'custom', message: range });
      return ms;
    }),
  );
}

const durationSchemas = new WeakSet<object>();

function tagDuration<T extends object>(schema: T): T {
  durationSchemas.add(schema);
  return schema;
}

/** isDurationSchema tells whether a schema was made by duration() (its parsed value is milliseconds). */
export function isDurationSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && durationSchemas.has(schema);
}

/**
 * rangeMessage says how `value` misses [min, max] ("must be between 0 and 100, got 150"), or undefined
 * when it is inside. `show` renders a bound or the value (milliseconds as "10s", bytes as a number).
 */
export function rangeMessage(
  value: number,
  opts: { min?: number; max?: number },
  show: (n: number) => string = String,
): string | undefined {
  const { min, max } = opts;
  const below = min !== undefined && value < min;
  const above = max !== undefined && value > max;
  if (!below && !above) return undefined;
  const got = `got ${show(value)}`;
  if (min !== undefined && max !== undefined) return `must be between ${show(min)} and ${show(max)}, ${got}`;
  return below ? `must be at least ${show(min as number)}, ${got}` : `must be at most ${show(max as number)}, ${got}`;
}

/** byteSize is a config field holding a size; the parsed value is bytes. */
export function byteSize(opts: { min?: number; max?: number } = {}) {
  return z.unknown().transform((raw, ctx): number => {
    const bytes = parseByteSize(raw);
    if (bytes === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a size such as "20MiB", "512KiB" or a number of bytes, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    }
    const range = rangeMessage(bytes, opts, (n) => `${n} bytes`);
    if (range !== undefined) ctx.addIssue({ code: 'custom', message: range });
    return bytes;
  });
}

function numericString(raw: unknown): unknown {
  if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return raw;
}

/** numberField is a number (or numeric string) checked against the range, with one message naming both bounds. */
function numberField(kind: 'an integer' | 'a number', opts: { min?: number; max?: number }) {
  const schema = z
    .number({ error: (i) => `expected ${kind}, got ${i.input === undefined ? 'nothing' : JSON.stringify(i.input)}` })
    .superRefine((n, ctx) => {
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `expected ${kind}, got ${n}` });
        return;
      }
      if (kind === 'an integer' && !Number.isInteger(n)) {
        ctx.addIssue({ code: 'custom', message: `expected an integer, got ${n}` });
      }
      const range = rangeMessage(n, opts);
      if (range !== undefined) ctx.addIssue({ code: 'custom', message: range });
    });
  return z.preprocess(numericString, schema);
}

/** int is an integer field that also accepts a decimal string (values from @env arrive as strings). */
export function int(opts: { min?: number; max?: number } = {}) {
  return numberField('an integer', opts);
}

/** num is a number field that also accepts a numeric string. */
export function num(opts: { min?: number; max?: number } = {}) {
  return numberField('a number', opts);
}

/** bool is a boolean field that also accepts "true"/"false"/"1"/"0"/"yes"/"no"/"on"/"off". */
export function bool() {
  return z.preprocess(
    (raw) => {
      if (typeof raw !== 'string') return raw;
      const t = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      return raw;
    },
    z.boolean({ error: (i) => `expected true or false, got ${JSON.stringify(i.input)}` }),
  );
}

/** stringList accepts an array of strings, or one string with comma-separated items (as @env gives). */
export function stringList() {
  return z.preprocess(
    (raw) =>
      typeof raw === 'string'
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : raw,
    z.array(z.string()),
  );
}

/** MAX_PORT is the largest TCP port. */
export const MAX_PORT = 65535;

/** hostPort is a "host:port" listen or connect address; the port must be 0..65535 (0 = any free port). */
export function hostPort() {
  return z
    .string({ error: (i) => `expected "host:port", e.g. "0.0.0.0:4318", got ${JSON.stringify(i.input)}` })
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]*):\d{1,5}$/, 'expected "host:port", e.g. "0.0.0.0:4318"')
    .superRefine((text, ctx) => {
      const port = Number(/:(\d{1,5})$/.exec(text)?.[1] ?? '0');
      if (port > MAX_PORT) {
        ctx.addIssue({ code: 'custom', message: `port must be between 0 and ${MAX_PORT}, got ${port}` });
      }
    });
}

/** KeyHint is our name for a key the user wrote (a string), or a note explaining what to write instead. */
export type KeyHint = string | { readonly note: string };

const keyHintRegistry = new WeakMap<object, Readonly<Record<string, KeyHint>>>();

/**
 * withKeyHints attaches hints for keys the schema does not take but users write, e.g. the OpenTelemetry
 * Collector's name of a key we spell differently (`status_codes` for `codes`). The config loader adds the
 * hint to the "unknown key" error. Returns the same schema.
 */
export function withKeyHints<T extends object>(schema: T, hints: Readonly<Record<string, KeyHint>>): T {
  keyHintRegistry.set(schema, hints);
  return schema;
}

/** keyHintsOf returns the hints attached with withKeyHints, if any. */
export function keyHintsOf(schema: object): Readonly<Record<string, KeyHint>> | undefined {
  return keyHintRegistry.get(schema);
}
