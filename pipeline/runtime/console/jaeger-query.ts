// Client of Jaeger's HTTP query API (the base URL is service.console.jaeger_query): traces search, trace by
// id, services and operations, turned into the console's own shapes (docs/console.md) so that the UI and
// scripts do not depend on Jaeger's JSON. Failures are ConsoleErrors with an HTTP status and plain words.

import { ConsoleError } from './errors';

/** A key and value (span tag, resource attribute, event field). */
export interface KeyValue {
  readonly key: string;
  readonly value: string | number | boolean;
}

/** One span as the console shows it. Times in microseconds since the epoch. */
export interface ConsoleSpan {
  readonly spanId: string;
  /** Parent span id, or null for a root (or a span whose parent is not in the trace). */
  readonly parentId: string | null;
  readonly service: string;
  readonly operation: string;
  readonly startUs: number;
  readonly durationUs: number;
  readonly error: boolean;
  readonly status: { readonly code: 'UNSET' | 'OK' | 'ERROR'; readonly message: string };
  readonly kind: string;
  readonly attributes: readonly KeyValue[];
  readonly resource: readonly KeyValue[];
  readonly events: ReadonlyArray<{ readonly timeUs: number; readonly fields: readonly KeyValue[] }>;
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string; readonly type: string }>;
}

/** One trace with every span. */
export interface ConsoleTrace {
  readonly traceId: string;
  readonly startUs: number;
  readonly durationUs: number;
  readonly services: readonly string[];
  readonly spans: readonly ConsoleSpan[];
}

/** A search result row. */
export interface TraceSummary {
  readonly traceId: string;
  readonly rootService: string;
  readonly rootOperation: string;
  readonly startUs: number;
  readonly durationUs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  readonly services: readonly string[];
}

/** Search parameters (as the console's GET /v1/traces takes them). */
export interface TraceSearch {
  readonly service: string;
  readonly operation?: string;
  /** Tag filters, all must match. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Durations as Jaeger reads them ("120ms", "1.5s"). */
  readonly minDuration?: string;
  readonly maxDuration?: string;
  readonly errorsOnly?: boolean;
  /** Time range, unix microseconds. */
  readonly startUs: number;
  readonly endUs: number;
  readonly limit: number;
}

/** Most traces fetched from Jaeger for one errors-only search. */
const ERRORS_FETCH_MAX = 1500;

interface JaegerKV {
  key: string;
  type?: string;
  value: unknown;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  startTime: number;
  duration: number;
  processID: string;
  references?: Array<{ refType: string; traceID: string; spanID: string }>;
  tags?: JaegerKV[];
  logs?: Array<{ timestamp: number; fields?: JaegerKV[] }>;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: JaegerKV[] }>;
}

function kv(list: readonly JaegerKV[] | undefined): KeyValue[] {
  return (list ?? []).map(({ key, value }) => ({
    key,
    value:
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : JSON.stringify(value),
  }));
}

function tag(list: readonly KeyValue[], key: string): string | number | boolean | undefined {
  return list.find((t) => t.key === key)?.value;
}

/** toConsoleTrace converts one Jaeger trace. Exported for tests. */
export function toConsoleTrace(t: JaegerTrace): ConsoleTrace {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const spans = t.spans.map((s): ConsoleSpan => {
    const attributes = kv(s.tags);
    const proc = t.processes[s.processID];
    const statusTag = String(tag(attributes, 'otel.status_code') ?? '').toUpperCase();
    const error = tag(attributes, 'error') === true || tag(attributes, 'error') === 'true' || statusTag === 'ERROR';
    const parent = (s.references ?? []).find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID);
    return {
      spanId: s.spanID,
      parentId: parent && ids.has(parent.spanID) ? parent.spanID : null,
      service: proc?.serviceName ?? 'unknown',
      operation: s.operationName,
      startUs: s.startTime,
      durationUs: s.duration,
      error,
      status: {
        code: error ? 'ERROR' : statusTag === 'OK' ? 'OK' : 'UNSET',
        message: String(tag(attributes, 'otel.status_description') ?? ''),
      },
      kind: String(tag(attributes, 'span.kind') ?? ''),
      attributes,
      resource: kv(proc?.tags),
      events: (s.logs ?? []).map((l) => ({ timeUs: l.timestamp, fields: kv(l.fields) })),
      links: (s.references ?? [])
        .filter((r) => r !== parent)
        .map((r) => ({ traceId: r.traceID, spanId: r.spanID, type: r.refType })),
    };
  });
  spans.sort((a, b) => a.startUs - b.startUs);
  const startUs = spans.length > 0 ? spans[0].startUs : 0;
  const endUs = spans.reduce((m, s) => Math.max(m, s.startUs + s.durationUs), startUs);
  return {
    traceId: t.traceID,
    startUs,
    durationUs: endUs - startUs,
    services: [...new Set(spans.map((s) => s.service))].sort(),
    spans,
  };
}

/** summarize turns a trace into a search result row. */
export function summarize(t: ConsoleTrace): TraceSummary {
  const root = t.spans.find((s) => s.parentId === null) ?? t.spans[0];
  return {
    traceId: t.traceId,
    rootService: root?.service ?? '',
    rootOperation: root?.operation ?? '',
    startUs: t.startUs,
    durationUs: t.durationUs,
    spanCount: t.spans.length,
    errorCount: t.spans.filter((s) => s.error).length,
    services: t.services,
  };
}

/** JaegerQuery calls one Jaeger query API with a deadline per request. */
export class JaegerQuery {
  private readonly _base: string;

  constructor(
    baseUrl: string,
    private readonly _timeoutMs = 5000,
  ) {
    this._base = baseUrl.replace(/\/+$/, '');
  }

  /** The base URL used (shown when Jaeger cannot be reached). */
  get baseUrl(): string {
    return this._base;
  }

  private async _get(path: string): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(this._base + path, {
        signal: AbortSignal.timeout(this._timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
      const code = (inner as { code?: unknown }).code;
      const text = inner instanceof Error ? inner.message : String(inner);
      const cause = typeof code === 'string' ? `${code}: ${text}` : text;
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new ConsoleError(
        timedOut ? 504 : 502,
        'ERR_CONSOLE_JAEGER_UNREACHABLE',
        timedOut
          ? `Jaeger query API at ${this._base} did not answer within ${this._timeoutMs} ms`
          : `Jaeger query API at ${this._base} is unreachable (${cause}); check service.console.jaeger_query`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ConsoleError(
        502,
        'ERR_CONSOLE_JAEGER_BAD_ANSWER',
        `Jaeger query API at ${this._base} answered ${res.status} with a body that is not JSON`,
      );
    }
    return { status: res.status, body };
  }

  private static _data<T>(body: unknown): T[] {
    const data = (body as { data?: unknown } | undefined)?.data;
    return Array.isArray(data) ? (data as T[]) : [];
  }

  /** services lists the services Jaeger knows. */
  async services(): Promise<string[]> {
    const { status, body } = await this._get('/api/services');
    if (status !== 200)
      throw new ConsoleError(502, 'ERR_CONSOLE_JAEGER_BAD_ANSWER', `Jaeger answered ${status} to /api/services`);
    return JaegerQuery._data<string>(body).sort();
  }

  /** operations lists a service's operation names. */
  async operations(service: string): Promise<string[]> {
    const { status, body } = await this._get(`/api/services/${encodeURIComponent(service)}/operations`);
    if (status !== 200)
      throw new ConsoleError(
        502,
        'ERR_CONSOLE_JAEGER_BAD_ANSWER',
        `Jaeger answered ${status} to the operations of ${service}`,
      );
    return JaegerQuery._data<{ name?: string } | string>(body)
      .map((o) => (typeof o === 'string' ? o : (o.name ?? '')))
      .filter((n) => n !== '')
      .sort();
  }

  /** search finds traces; newest first. */
  async search(q: TraceSearch): Promise<TraceSummary[]> {
    // Errors only: Jaeger's tag search does not find the `error` tag on every storage (v2 turns it into the span
    // status), so more traces are fetched and those with an error span are kept here.
    const fetchLimit = q.errorsOnly ? Math.min(ERRORS_FETCH_MAX, Math.max(q.limit * 10, 200)) : q.limit;
    const params = new URLSearchParams({
      service: q.service,
      start: String(q.startUs),
      end: String(q.endUs),
      limit: String(fetchLimit),
    });
    if (q.operation) params.set('operation', q.operation);
    const tags: Record<string, string> = { ...(q.tags ?? {}) };
    if (Object.keys(tags).length > 0) params.set('tags', JSON.stringify(tags));
    if (q.minDuration) params.set('minDuration', q.minDuration);
    if (q.maxDuration) params.set('maxDuration', q.maxDuration);
    const { status, body } = await this._get(`/api/traces?${params.toString()}`);
    if (status !== 200) {
      const msg = (body as { errors?: Array<{ msg?: string }> } | undefined)?.errors?.[0]?.msg;
      throw new ConsoleError(
        status >= 400 && status < 500 ? 400 : 502,
        'ERR_CONSOLE_JAEGER_SEARCH',
        `Jaeger rejected the search: ${msg ?? `status ${status}`}`,
      );
    }
    const rows = JaegerQuery._data<JaegerTrace>(body).map((t) => summarize(toConsoleTrace(t)));
    return rows
      .filter((r) => !q.errorsOnly || r.errorCount > 0)
      .sort((a, b) => b.startUs - a.startUs)
      .slice(0, q.limit);
  }

  /** trace fetches one trace, or undefined when Jaeger does not have it. */
  async trace(traceId: string): Promise<ConsoleTrace | undefined> {
    const { status, body } = await this._get(`/api/traces/${traceId}`);
    if (status === 404) return undefined;
    if (status !== 200)
      throw new ConsoleError(502, 'ERR_CONSOLE_JAEGER_BAD_ANSWER', `Jaeger answered ${status} for trace ${traceId}`);
    const t = JaegerQuery._data<JaegerTrace>(body)[0];
    return t === undefined || t.spans.length === 0 ? undefined : toConsoleTrace(t);
  }
}
