// Load generation for fault tests: traces made by the real OpenTelemetry JS SDK (BasicTracerProvider),
// encoded by the official @opentelemetry/otlp-transformer protobuf serializer, and POSTed as OTLP/HTTP
// requests by a small client that records, for every span, whether the receiver acknowledged it (200).
// Unlike the SDK's own exporter, this client lets a test choose which spans go in which request and
// when (so a trace's spans arrive over several requests, spread in time), and it sees every status code
// (the SDK exporter retries 503s silently). Open loop with a bounded number of requests in flight;
// refused requests (503/429/502/504, network errors) are retried after Retry-After or a backoff, within
// a bounded number of attempts. runPlannedLoad is the same client for any planned item (log records:
// test/helpers/otlp-logs.ts).

import { SpanKind, SpanStatusCode, context, trace, type Context } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

/** One span of a planned trace and when (ms after the load starts) it is sent. */
export interface PlannedSpan {
  readonly span: ReadableSpan;
  readonly spanId: string;
  readonly sendAtMs: number;
}

/** A planned trace: its spans in send order. */
export interface PlannedTrace {
  readonly traceId: string;
  readonly index: number;
  readonly error: boolean;
  readonly rootSpanId: string;
  readonly spans: readonly PlannedSpan[];
  /** When its first span is sent (ms after start). */
  readonly startMs: number;
  /** When its last span is sent (ms after start). */
  readonly endMs: number;
}

/** Options of planTraces. */
export interface PlanOptions {
  service: string;
  /** Operation name of every root span (the adaptive policy keys on service:operation). */
  rootName: string;
  /** Number of traces. */
  count: number;
  /** Traces start evenly over this many ms. */
  durationMs: number;
  /** Child spans per trace (each trace has 1 + children spans). */
  children: number;
  /** Every n-th trace (index % n === n - 1) has an ERROR child; 0 = none. */
  errorEvery: number;
  /** Which child fails: `rotate` (index % children, default) or `last` (the last child sent before the root). */
  errorChild?: 'rotate' | 'last';
  /** A trace's spans are sent spread over this many ms: children first, the root last. 0 = all at once. */
  spreadMs: number;
  /** Offset added to every send time (ms). Default 0. */
  offsetMs?: number;
  /** Root span duration in ms (default 20). */
  rootDurationMs?: number;
}

class Collect implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * planTraces records `count` traces with the SDK (explicit start/end times) and plans when each span is
 * sent. Child i of a trace is sent at start + i * spread / children, the root at start + spread.
 */
export function planTraces(o: PlanOptions): PlannedTrace[] {
  const collect = new Collect();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.service, 'deployment.environment': 'faults' }),
    spanProcessors: [collect],
  });
  const tracer = provider.getTracer('tusk-faults', '1.0.0');
  const offset = o.offsetMs ?? 0;
  const rootMs = o.rootDurationMs ?? 20;
  const out: PlannedTrace[] = [];
  const base = Date.now();
  for (let i = 0; i < o.count; i++) {
    const startMs = offset + Math.floor((i * o.durationMs) / o.count);
    const t0 = base + startMs;
    const error = o.errorEvery > 0 && i % o.errorEvery === o.errorEvery - 1;
    const errorChild = !error ? -1 : o.errorChild === 'last' ? o.children - 1 : i % Math.max(1, o.children);
    collect.spans.length = 0;
    const root = tracer.startSpan(o.rootName, {
      kind: SpanKind.SERVER,
      startTime: t0,
      attributes: { 'http.method': 'GET', 'faults.index': i },
    });
    const ctx: Context = trace.setSpan(context.active(), root);
    const step = rootMs / (o.children + 1);
    for (let c = 0; c < o.children; c++) {
      const child = tracer.startSpan(
        `step-${c}`,
        { kind: SpanKind.INTERNAL, startTime: t0 + step * c, attributes: { 'step.index': c } },
        ctx,
      );
      if (c === errorChild) child.setStatus({ code: SpanStatusCode.ERROR, message: 'injected failure' });
      child.end(t0 + step * (c + 1));
    }
    root.end(t0 + rootMs);
    const ended = [...collect.spans];
    const rootSpan = ended.find((s) => s.spanContext().spanId === root.spanContext().spanId)!;
    const children = ended.filter((s) => s !== rootSpan);
    const spans: PlannedSpan[] = children.map((s, c) => ({
      span: s,
      spanId: s.spanContext().spanId,
      sendAtMs: startMs + (o.children > 0 ? Math.floor((c * o.spreadMs) / o.children) : 0),
    }));
    spans.push({ span: rootSpan, spanId: rootSpan.spanContext().spanId, sendAtMs: startMs + o.spreadMs });
    out.push({
      traceId: root.spanContext().traceId,
      index: i,
      error,
      rootSpanId: rootSpan.spanContext().spanId,
      spans,
      startMs,
      endMs: startMs + o.spreadMs,
    });
  }
  void provider.shutdown();
  return out;
}

/** encodeSpans serializes spans as an OTLP ExportTraceServiceRequest (protobuf) with the official serializer. */
export function encodeSpans(spans: ReadableSpan[]): Uint8Array {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  if (!body) throw new Error('serializer returned nothing');
  return body;
}

/** The outcome of one POST. `status` 0 = network error / timeout. */
export interface PostResult {
  status: number;
  retryAfterMs?: number;
  error?: string;
}

/** postOtlp sends one OTLP/HTTP protobuf request and returns its status (never throws). */
export async function postOtlp(url: string, body: Uint8Array, timeoutMs = 30_000): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    const ra = res.headers.get('retry-after');
    return { status: res.status, retryAfterMs: ra !== null && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined };
  } catch (err) {
    return {
      status: 0,
      error:
        err instanceof Error ? `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}` : String(err),
    };
  }
}

/** Options of runLoad. */
export interface LoadOptions {
  url: string;
  /** How often due spans are gathered into requests (ms). Default 100. */
  tickMs?: number;
  /** Most spans per request. Default 200. */
  maxSpansPerRequest?: number;
  /** Most requests in flight; due spans wait for a free slot. Default 8. */
  maxInFlight?: number;
  /** Attempts per request (first + retries) for retryable answers. Default 10. */
  maxAttempts?: number;
  /** Hard deadline of the whole load after the last planned send (ms): spans unsent by then stay unacked. Default 60000. */
  drainMs?: number;
  /** Per-request timeout (ms). Default 30000. */
  requestTimeoutMs?: number;
  /** Called with each answer (for timelines). */
  onAnswer?: (r: PostResult, spans: number, attempt: number, atMs: number) => void;
  /** Stop early when this returns true (checked every tick). */
  stop?: () => boolean;
}

/** What happened to the load. */
export interface LoadResult {
  /** Span ids acknowledged with 200. */
  readonly acked: Set<string>;
  /** Span ids whose request ended without a 200 (attempts exhausted, deadline, or a non-retryable answer). */
  readonly failed: Set<string>;
  /** Span ids never sent (deadline or stop). */
  readonly unsent: Set<string>;
  /** Count of answers by status (0 = network error). */
  readonly statuses: Map<number, number>;
  /** Requests that got a non-retryable, non-200 answer: status -> count. */
  readonly nonRetryable: Map<number, number>;
  /** Item id -> when (epoch ms) its request was first sent. */
  readonly sentAt: Map<string, number>;
  /** Requests made (attempts). */
  requests: number;
  /** 503 answers that carried Retry-After. */
  retryAfterSeen: number;
  elapsedMs: number;
}

const RETRYABLE = new Set([0, 429, 502, 503, 504]);

/** traceAcked says whether every span of `t` was acknowledged. */
export function traceAcked(t: PlannedTrace, acked: ReadonlySet<string>): boolean {
  return t.spans.every((s) => acked.has(s.spanId));
}

/** runLoad sends the planned spans at their times and resolves when every span is acked, failed or unsent. */
export function runLoad(plan: readonly PlannedTrace[], opts: LoadOptions): Promise<LoadResult> {
  return runPlannedLoad(
    plan.flatMap((t) => t.spans),
    (s) => s.spanId,
    (spans) => encodeSpans(spans.map((s) => s.span)),
    opts,
  );
}

/**
 * runPlannedLoad sends any planned items (ids from `idOf`, request bodies from `encode`) at their `sendAtMs` like
 * runLoad, to opts.url; the result's span-id sets hold the items' ids (maxSpansPerRequest bounds items per request).
 */
export async function runPlannedLoad<T extends { readonly sendAtMs: number }>(
  items: readonly T[],
  idOf: (item: T) => string,
  encode: (batch: T[]) => Uint8Array,
  opts: LoadOptions,
): Promise<LoadResult> {
  const tickMs = opts.tickMs ?? 100;
  const maxSpans = opts.maxSpansPerRequest ?? 200;
  const maxInFlight = opts.maxInFlight ?? 8;
  const maxAttempts = opts.maxAttempts ?? 10;
  const queue: T[] = [...items].sort((a, b) => a.sendAtMs - b.sendAtMs);
  const lastSend = queue.length > 0 ? queue[queue.length - 1].sendAtMs : 0;
  const deadline = lastSend + (opts.drainMs ?? 60_000);
  const result: LoadResult = {
    acked: new Set(),
    failed: new Set(),
    unsent: new Set(),
    statuses: new Map(),
    nonRetryable: new Map(),
    sentAt: new Map(),
    requests: 0,
    retryAfterSeen: 0,
    elapsedMs: 0,
  };
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let next = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const sendRequest = async (spans: T[]): Promise<void> => {
    const body = encode(spans);
    const firstSent = Date.now();
    for (const s of spans) result.sentAt.set(idOf(s), firstSent);
    for (let attempt = 1; ; attempt++) {
      const r = await postOtlp(opts.url, body, opts.requestTimeoutMs ?? 30_000);
      result.requests++;
      result.statuses.set(r.status, (result.statuses.get(r.status) ?? 0) + 1);
      if (r.status === 503 && r.retryAfterMs !== undefined) result.retryAfterSeen++;
      opts.onAnswer?.(r, spans.length, attempt, elapsed());
      if (r.status === 200) {
        for (const s of spans) result.acked.add(idOf(s));
        return;
      }
      if (!RETRYABLE.has(r.status)) {
        result.nonRetryable.set(r.status, (result.nonRetryable.get(r.status) ?? 0) + 1);
        break;
      }
      if (attempt >= maxAttempts || elapsed() > deadline) break;
      const wait = Math.min(5000, r.retryAfterMs ?? Math.min(4000, 250 * 2 ** (attempt - 1)));
      await new Promise((res) => setTimeout(res, Math.min(wait, Math.max(0, deadline - elapsed()))));
    }
    for (const s of spans) result.failed.add(idOf(s));
  };

  while (next < queue.length && elapsed() <= deadline && !(opts.stop?.() ?? false)) {
    const now = elapsed();
    while (next < queue.length && queue[next].sendAtMs <= now && inFlight < maxInFlight) {
      const batch: T[] = [];
      while (next < queue.length && queue[next].sendAtMs <= now && batch.length < maxSpans) batch.push(queue[next++]);
      inFlight++;
      const p: Promise<void> = sendRequest(batch).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((res) => setTimeout(res, tickMs));
  }
  for (; next < queue.length; next++) result.unsent.add(idOf(queue[next]));
  await Promise.all([...pending]);
  result.elapsedMs = elapsed();
  return result;
}

/** statusSummary formats the status counts, e.g. "200x120 503x7". */
export function statusSummary(m: ReadonlyMap<number, number>): string {
  return [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s === 0 ? 'neterr' : s}x${n}`)
    .join(' ');
}
