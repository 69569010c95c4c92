// Self-tracing settings from the OpenTelemetry SDK environment variables, under what the pipeline file
// says: the resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, read by @opentelemetry/resources'
// envDetector) and the OTLP trace exporter (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT,
// _COMPRESSION, _PROTOCOL). A value written in the file wins over the environment, as in the SDKs and the
// Collector. A malformed variable is ignored with a warning that names it; it never stops the process.

import { getNumberFromEnv, getStringFromEnv, parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { envDetector } from '@opentelemetry/resources';

/** DEFAULT_SELF_TRACING_ENDPOINT is where self-traces go when neither the file nor the environment says. */
export const DEFAULT_SELF_TRACING_ENDPOINT = 'http://127.0.0.1:14318/v1/traces';

/** DEFAULT_SELF_TRACING_SERVICE_NAME is the service.name of self-traces when nothing sets it. */
export const DEFAULT_SELF_TRACING_SERVICE_NAME = 'tusk-collector';

/** What the pipeline file sets explicitly; undefined where it says nothing. */
export interface ExplicitSelfTracing {
  /** `[service] name`. */
  readonly serviceName?: string;
  /** `self_tracing.endpoint`. */
  readonly endpoint?: string;
}

/** ResolvedSelfTracing is what the self-tracing provider and exporter are built from. */
export interface ResolvedSelfTracing {
  /** Resource attributes, service.name included. */
  readonly resource: Record<string, string>;
  /** OTLP/HTTP protobuf URL of the traces endpoint. */
  readonly url: string;
  /** Where `url` came from, for messages. */
  readonly urlFrom: 'config' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'default';
  /** Request headers (OTEL_EXPORTER_OTLP_HEADERS, the TRACES_ ones winning key by key). */
  readonly headers: Record<string, string>;
  /** Export timeout in milliseconds, when the environment sets a valid one. */
  readonly timeoutMillis?: number;
  /** One sentence per ignored or malformed variable. */
  readonly warnings: readonly string[];
}

/** specific returns the TRACES_ variable `suffix` when set (an empty value is unset), else the generic one. */
function specific(suffix: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const value = getStringFromEnv(name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function isHttpUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** badResourceEntry names the first OTEL_RESOURCE_ATTRIBUTES entry that is not a percent-encoded key=value. */
function badResourceEntry(raw: string): string | undefined {
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    if (parts.length !== 2 || parts[0].trim() === '') return `"${entry}" is not key=value`;
    try {
      decodeURIComponent(parts[0]);
      decodeURIComponent(parts[1]);
    } catch {
      return `"${entry}" is not valid percent-encoding`;
    }
  }
  return undefined;
}

function resourceFromEnv(warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(envDetector.detect().attributes ?? {})) if (typeof v === 'string') out[k] = v;
  const raw = getStringFromEnv('OTEL_RESOURCE_ATTRIBUTES');
  const bad = raw === undefined ? undefined : badResourceEntry(raw);
  if (bad !== undefined) warnings.push(`OTEL_RESOURCE_ATTRIBUTES is ignored: ${bad} (percent-encode ',' and '=')`);
  return out;
}

/** headersFromEnv parses the header variables with the SDK's parser and names the entries it drops. */
function headersFromEnv(warnings: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const raw = getStringFromEnv(name);
    if (raw === undefined) continue;
    for (const entry of raw.split(',')) {
      if (entry.trim() === '') continue;
      const parsed = parseKeyPairsIntoRecord(entry);
      if (Object.keys(parsed).length === 0) {
        const key = entry.split('=')[0].trim();
        warnings.push(`${name}: the entry "${key}" is ignored (expected key=value, percent-encoded)`);
      }
      Object.assign(headers, parsed);
    }
  }
  return headers;
}

function urlFromEnv(warnings: string[]): Pick<ResolvedSelfTracing, 'url' | 'urlFrom'> | undefined {
  const traces = getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces !== undefined) {
    if (isHttpUrl(traces)) return { url: traces, urlFrom: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' };
    warnings.push(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is ignored: "${traces}" is not an http(s) URL`);
  }
  const base = getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== undefined) {
    // The generic endpoint is a base URL: the signal's path is appended (OTLP/HTTP).
    const url = `${base}${base.endsWith('/') ? '' : '/'}v1/traces`;
    if (isHttpUrl(base)) return { url, urlFrom: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
    warnings.push(`OTEL_EXPORTER_OTLP_ENDPOINT is ignored: "${base}" is not an http(s) URL`);
  }
  return undefined;
}

/** exportOptionsFromEnv reads the timeout and checks compression (the exporter reads it) and protocol. */
function exportOptionsFromEnv(warnings: string[]): Pick<ResolvedSelfTracing, 'timeoutMillis'> {
  const out: { timeoutMillis?: number } = {};
  const timeout = specific('TIMEOUT');
  if (timeout !== undefined) {
    const ms = getNumberFromEnv(timeout.name);
    if (ms !== undefined && Number.isFinite(ms) && ms > 0) out.timeoutMillis = ms;
    else warnings.push(`${timeout.name} is ignored: "${timeout.value}" is not a number of milliseconds above 0`);
  }
  const compression = specific('COMPRESSION');
  if (compression !== undefined) {
    const v = compression.value.trim();
    if (v !== 'gzip' && v !== 'none') warnings.push(`${compression.name} is ignored: "${v}" is not gzip or none`);
  }
  const protocol = specific('PROTOCOL');
  if (protocol !== undefined && protocol.value.trim() !== 'http/protobuf') {
    warnings.push(
      `${protocol.name}="${protocol.value}" is ignored: self-tracing sends OTLP/HTTP protobuf (http/protobuf) only`,
    );
  }
  return out;
}

/**
 * resolveSelfTracing combines what the pipeline file sets explicitly with the OpenTelemetry environment
 * variables (read from process.env): the file wins, then the signal-specific variable, then the generic one,
 * then the default. service.name: `[service] name`, else OTEL_SERVICE_NAME, else service.name in
 * OTEL_RESOURCE_ATTRIBUTES, else "tusk-collector". It never throws on a malformed variable.
 */
export function resolveSelfTracing(explicit: ExplicitSelfTracing): ResolvedSelfTracing {
  const warnings: string[] = [];
  const resource: Record<string, string> = {
    'service.name': DEFAULT_SELF_TRACING_SERVICE_NAME,
    'service.namespace': 'tusk-collector',
    ...resourceFromEnv(warnings),
  };
  if (explicit.serviceName !== undefined) resource['service.name'] = explicit.serviceName;
  const headers = headersFromEnv(warnings);
  const options = exportOptionsFromEnv(warnings);
  const target =
    explicit.endpoint !== undefined
      ? { url: explicit.endpoint, urlFrom: 'config' as const }
      : (urlFromEnv(warnings) ?? { url: DEFAULT_SELF_TRACING_ENDPOINT, urlFrom: 'default' as const });
  return { resource, ...target, headers, ...options, warnings };
}
