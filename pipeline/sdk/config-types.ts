// Building blocks for component config schemas (zod): durations ("10s"), byte sizes ("20MiB"),
// and numbers/booleans that also accept the strings @env produces, with clear messages when they don't fit.

import { z } from 'zod';

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
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

/** duration is a config field holding a time span; the parsed value is milliseconds. */
export function duration(opts: { min?: number; max?: number } = {}) {
  return z.unknown().transform((raw, ctx): number => {
    const ms = parseDuration(raw);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "10s", "250ms" or "2m", got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) ctx.addIssue({ code: 'custom', message: `must be at least ${opts.min}ms, got ${ms}ms` });
    if (opts.max !== undefined && ms > opts.max) ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max}ms, got ${ms}ms` });
    return ms;
  });
}

/** byteSize is a config field holding a size; the parsed value is bytes. */
export function byteSize(opts: { min?: number; max?: number } = {}) {
  return z.unknown().transform((raw, ctx): number => {
    const bytes = parseByteSize(raw);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a size such as "20MiB", "512KiB" or a number of bytes, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    if (opts.min !== undefined && bytes < opts.min) ctx.addIssue({ code: 'custom', message: `must be at least ${opts.min} bytes, got ${bytes}` });
    if (opts.max !== undefined && bytes > opts.max) ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max} bytes, got ${bytes}` });
    return bytes;
  });
}

function numericString(raw: unknown): unknown {
  if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return raw;
}

/** int is an integer field that also accepts a decimal string (values from @env arrive as strings). */
export function int(opts: { min?: number; max?: number } = {}) {
  let schema = z.number({ error: (i) => `expected an integer, got ${JSON.stringify(i.input)}` }).int();
  if (opts.min !== undefined) schema = schema.min(opts.min);
  if (opts.max !== undefined) schema = schema.max(opts.max);
  return z.preprocess(numericString, schema);
}

/** num is a number field that also accepts a numeric string. */
export function num(opts: { min?: number; max?: number } = {}) {
  let schema = z.number({ error: (i) => `expected a number, got ${JSON.stringify(i.input)}` });
  if (opts.min !== undefined) schema = schema.min(opts.min);
  if (opts.max !== undefined) schema = schema.max(opts.max);
  return z.preprocess(numericString, schema);
}

/** bool is a boolean field that also accepts "true"/"false"/"1"/"0"/"yes"/"no"/"on"/"off". */
export function bool() {
  return z.preprocess((raw) => {
    if (typeof raw !== 'string') return raw;
    const t = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    return raw;
  }, z.boolean({ error: (i) => `expected true or false, got ${JSON.stringify(i.input)}` }));
}

/** stringList accepts an array of strings, or one string with comma-separated items (as @env gives). */
export function stringList() {
  return z.preprocess(
    (raw) => (typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw),
    z.array(z.string()),
  );
}

/** hostPort is a "host:port" listen or connect address. */
export function hostPort() {
  return z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]*):\d{1,5}$/, 'expected "host:port", e.g. "0.0.0.0:4318"');
}
