// The [tracing] section of a .tsk file (the seed's tracing guide), read with our TuskLang parser and
// validated into a typed TracingConfig. Keys are snake_case in the file and camelCase in TypeScript,
// mapped here and nowhere else. @env is resolved when the file is read (at initTracing time), never at import.

import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../config/service/config-error';
import { joinPath, positionOf } from '../config/service/paths';
import {
  parseTskFile,
  type SourcePos,
  type TskDiagnostic,
  type TskHooks,
  type TskObject,
  type TskValue,
} from '../config/tsk/parser';

/** Default OTLP/HTTP (protobuf) traces endpoint: a tusk-collector on this machine (`npm start`). */
export const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';
/** Default Jaeger endpoint for `backend: jaeger`: Jaeger's thrift-over-HTTP collector. */
export const DEFAULT_JAEGER_ENDPOINT = 'http://127.0.0.1:14268/api/traces';
/** Default head-sampling rate: keep every trace and let the collector's tail sampler decide. */
export const DEFAULT_SAMPLING_RATE = 1;
/** Default port of the Prometheus endpoint serving the app's metrics (Prometheus' registered exporter port). */
export const DEFAULT_METRICS_PORT = 9464;
/** Default interface of the Prometheus endpoint: loopback only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** Metric name used when `metrics: true`; the seed writes `@metrics("trace_duration_ms", 0)`. */
export const DEFAULT_TRACE_DURATION_METRIC = 'trace_duration_ms';
/** Default section name. */
export const DEFAULT_SECTION = 'tracing';
/** Key of the marker object our @metrics hook stores in place of the operator: `{ "@metrics": name, initial }`. */
export const METRICS_MARKER = '@metrics';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const OFF_WORDS = new Set(['false', '0', 'no', 'off', 'none']);
const ON_WORDS = new Set(['true', '1', 'yes', 'on']);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The validated [tracing] configuration. */
export interface TracingConfig {
  /** `service_name`: the resource's service.name. Required, never empty. */
  serviceName: string;
  /** `backend`: where spans go. "otlp" (default): OTLP/HTTP protobuf, to tusk-collector by default; "jaeger": Jaeger thrift over HTTP. */
  backend: 'otlp' | 'jaeger';
  /** `endpoint`: the exporter URL. Default DEFAULT_OTLP_ENDPOINT or DEFAULT_JAEGER_ENDPOINT; an OTLP URL without a path gets `/v1/traces`. */
  endpoint: string;
  /** `sampling_rate`: head-sampling probability for new traces, 0..1 (children follow their parent). Default 1; 0 = no new traces sampled. */
  samplingRate: number;
  /** `metrics`: name of the trace-duration histogram (ms) when requested, else undefined (not recorded). */
  traceDurationMetric: string | undefined;
  /** `correlation`: pino logger from the handle adds trace_id/span_id to every line. Default false. */
  correlation: boolean;
  /** `metrics_port`: port of the Prometheus endpoint. Default 9464; 0 = no server (serve `handle.metricsHandler` yourself). */
  metricsPort: number;
  /** `metrics_host`: interface of the Prometheus endpoint. Default "127.0.0.1". */
  metricsHost: string;
  /** `log_level`: level of the handle's pino logger. Default "info". */
  logLevel: (typeof LOG_LEVELS)[number];
}

/** A [tracing] section as written (or as our parser returns it): snake_case keys, .tsk values. */
export type TracingSection = TskObject;

/** Options of resolveTracingConfig and loadTracingSection. */
export interface ResolveOptions {
  /** Section to read from a file. Default "tracing". */
  section?: string;
  /** Variables for @env. Default: process.env at call time. */
  env?: Record<string, string | undefined>;
  /** Keys merged over the section (snake_case, as in the file), e.g. `{ metrics_port: 0 }`. */
  overrides?: TracingSection;
}

/** A [tracing] section read from a file, with where each key was written. */
export interface LoadedSection {
  section: TracingSection;
  file: string;
  sectionName: string;
  positions: ReadonlyMap<string, SourcePos>;
  /** Parser warnings (e.g. TSK_UNKNOWN_OPERATOR for the seed's `@go(...)`). Errors are thrown instead. */
  warnings: TskDiagnostic[];
}

/**
 * tracingParseHooks are the parser hooks the kit reads [tracing] with. `@metrics(name, initial)` becomes
 * the marker object `{ "@metrics": name, initial }`, so "record this metric" survives parsing (the
 * parser's default would keep only `initial`). Pass them to parseTsk/parseTskFile when you parse yourself.
 */
export function tracingParseHooks(): TskHooks {
  return { metrics: (name: string, initial: TskValue): TskValue => ({ [METRICS_MARKER]: name, initial }) };
}

/**
 * loadTracingSection reads `file` with our TuskLang parser (the kit's hooks, @env from `options.env` or
 * process.env now) and returns its [tracing] section. Throws ConfigError when the file has parse errors
 * or no such section; TskParseError when it cannot be read.
 */
export function loadTracingSection(file: string, options: Omit<ResolveOptions, 'overrides'> = {}): LoadedSection {
  const sectionName = options.section ?? DEFAULT_SECTION;
  const parsed = parseTskFile(file, { env: options.env, hooks: tracingParseHooks() });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0)
    throw new ConfigError(
      errors.map((d) => ({ code: d.code, path: '', message: d.message, pos: d })),
      file,
    );
  const section = parsed.data[sectionName];
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new ConfigError(
      [{ code: 'ERR_CONFIG_MISSING_SECTION', path: sectionName, message: `no [${sectionName}] section in ${file}` }],
      file,
    );
  }
  return {
    section,
    file,
    sectionName,
    positions: parsed.positions,
    warnings: parsed.diagnostics.filter((d) => d.severity !== 'error'),
  };
}

/** absent is true for values that mean "not set": a missing key, null, or the '' an unset @env gives. */
function absent(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : String(v);
}

const serviceName = z.unknown().transform((raw, ctx): string => {
  if (absent(raw)) {
    ctx.addIssue({
      code: 'custom',
      message: 'required and must not be empty (the seed reads it with @env("SERVICE_NAME"): set that variable)',
    });
    return z.NEVER;
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    ctx.addIssue({ code: 'custom', message: `must be a string, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  }
  return text(raw);
});

const backend = z.unknown().transform((raw, ctx): 'otlp' | 'jaeger' => {
  if (absent(raw)) return 'otlp';
  const b = text(raw).toLowerCase();
  if (b === 'otlp' || b === 'jaeger') return b;
  ctx.addIssue({ code: 'custom', message: `must be "otlp" or "jaeger", got ${JSON.stringify(raw)}` });
  return z.NEVER;
});

const endpoint = z.unknown().transform((raw, ctx): string | undefined => {
  if (absent(raw)) return undefined;
  const s = text(raw);
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({
      code: 'custom',
      message: `must be an http(s) URL such as "${DEFAULT_OTLP_ENDPOINT}", got ${JSON.stringify(raw)}`,
    });
    return z.NEVER;
  }
  return s;
});

const samplingRate = z.unknown().transform((raw, ctx): number => {
  if (absent(raw)) return DEFAULT_SAMPLING_RATE;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a number from 0 to 1 (the fraction of new traces to keep, e.g. 0.1), got ${JSON.stringify(raw)}`,
    });
    return z.NEVER;
  }
  return n;
});

const metricsKey = z.unknown().transform((raw, ctx): string | undefined => {
  const bad = (why: string): never => {
    ctx.addIssue({
      code: 'custom',
      message: `${why}; write @metrics("trace_duration_ms", 0), a metric name, true or false`,
    });
    return z.NEVER as never;
  };
  let name: string | undefined;
  if (absent(raw) || raw === false || raw === 0) return undefined;
  if (raw === true) name = DEFAULT_TRACE_DURATION_METRIC;
  else if (typeof raw === 'object' && !Array.isArray(raw) && raw !== null && METRICS_MARKER in raw)
    name = text((raw as Record<string, unknown>)[METRICS_MARKER]);
  else if (typeof raw === 'string') {
    const t = raw.trim().toLowerCase();
    if (OFF_WORDS.has(t)) return undefined;
    name = ON_WORDS.has(t) ? DEFAULT_TRACE_DURATION_METRIC : raw.trim();
  } else return bad(`cannot be ${JSON.stringify(raw)}`);
  if (!METRIC_NAME.test(name))
    return bad(`names an invalid metric ${JSON.stringify(name)} (letters, digits, _ and :, not starting with a digit)`);
  return name;
});

const correlation = z.unknown().transform((raw): boolean => {
  if (absent(raw) || raw === false || raw === 0) return false;
  if (typeof raw === 'string' && OFF_WORDS.has(raw.trim().toLowerCase())) return false;
  return true; // any other value, e.g. the seed's literal `@go("tracing.CorrelateLogs")`, turns it on
});

const metricsPort = z.unknown().transform((raw, ctx): number => {
  if (absent(raw)) return DEFAULT_METRICS_PORT;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a port number 0..65535 (0 = no metrics server), got ${JSON.stringify(raw)}`,
    });
    return z.NEVER;
  }
  return n;
});

const metricsHost = z.unknown().transform((raw, ctx): string => {
  if (absent(raw)) return DEFAULT_METRICS_HOST;
  if (typeof raw !== 'string') {
    ctx.addIssue({ code: 'custom', message: `must be a host name or address, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  }
  return raw.trim();
});

const logLevel = z.unknown().transform((raw, ctx): TracingConfig['logLevel'] => {
  if (absent(raw)) return 'info';
  const l = text(raw).toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(l)) return l as TracingConfig['logLevel'];
  ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}` });
  return z.NEVER;
});

/** sectionSchema validates a [tracing] section; unknown keys are errors. */
const sectionSchema = z
  .object({
    service_name: serviceName,
    backend,
    endpoint,
    sampling_rate: samplingRate,
    metrics: metricsKey,
    correlation,
    metrics_port: metricsPort,
    metrics_host: metricsHost,
    log_level: logLevel,
  })
  .strict();

/** otlpUrl completes an OTLP base URL ("http://host:4318") with the traces path. */
function otlpUrl(endpointUrl: string): string {
  const u = new URL(endpointUrl);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}

/**
 * resolveTracingConfig validates a [tracing] section (an object, or the path of a .tsk file to read it
 * from) and returns the typed config. Throws ConfigError listing every problem, each with its key path
 * (`tracing.sampling_rate`) and, for a file, where the key was written.
 */
export function resolveTracingConfig(input: string | TracingSection, options: ResolveOptions = {}): TracingConfig {
  const loaded: LoadedSection | undefined = typeof input === 'string' ? loadTracingSection(input, options) : undefined;
  const sectionName = loaded?.sectionName ?? options.section ?? DEFAULT_SECTION;
  // every known key present (null = not set), so each one's transform runs and applies its default
  const unset = Object.fromEntries(Object.keys(sectionSchema.shape).map((k) => [k, null]));
  const given: TracingSection = loaded ? loaded.section : (input as TracingSection);
  const section = { ...unset, ...given, ...(options.overrides ?? {}) };
  const result = sectionSchema.safeParse(section);
  if (!result.success) {
    const issues: ConfigIssue[] = [];
    for (const zi of result.error.issues) {
      const keys = zi.code === 'unrecognized_keys' ? zi.keys : [undefined];
      for (const key of keys) {
        const p = joinPath(sectionName, key === undefined ? zi.path : [...zi.path, key]);
        const pos = loaded ? positionOf(loaded.positions, p) : undefined;
        if (key !== undefined)
          issues.push({
            code: 'ERR_CONFIG_UNKNOWN_KEY',
            path: p,
            message: `unknown key "${key}" (known: ${Object.keys(sectionSchema.shape).join(', ')})`,
            pos,
          });
        else issues.push({ code: 'ERR_CONFIG_INVALID_VALUE', path: p, message: zi.message, pos });
      }
    }
    throw new ConfigError(issues, loaded?.file ?? `[${sectionName}]`);
  }
  const c = result.data;
  const ep =
    c.endpoint === undefined
      ? c.backend === 'jaeger'
        ? DEFAULT_JAEGER_ENDPOINT
        : DEFAULT_OTLP_ENDPOINT
      : c.backend === 'otlp'
        ? otlpUrl(c.endpoint)
        : c.endpoint;
  return {
    serviceName: c.service_name,
    backend: c.backend,
    endpoint: ep,
    samplingRate: c.sampling_rate,
    traceDurationMetric: c.metrics,
    correlation: c.correlation,
    metricsPort: c.metrics_port,
    metricsHost: c.metrics_host,
    logLevel: c.log_level,
  };
}
