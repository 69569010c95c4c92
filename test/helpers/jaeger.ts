// Reads traces back from the real Jaeger's HTTP query API (127.0.0.1:16686 by default).

export const JAEGER_QUERY = process.env.JAEGER_QUERY ?? 'http://127.0.0.1:16686';

/** The parts of Jaeger's /api/traces/{id} answer the tests look at. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  startTime: number;
  duration: number;
  tags: Array<{ key: string; type: string; value: unknown }>;
  logs: Array<{ timestamp: number; fields: Array<{ key: string; type: string; value: unknown }> }>;
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

/** getTrace returns the trace, or undefined when Jaeger does not know it (404). */
export async function getTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${JAEGER_QUERY}/api/traces/${traceId}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`jaeger query answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

/** waitForTrace polls until the trace has at least `minSpans` spans, or the deadline passes (then undefined). */
export async function waitForTrace(
  traceId: string,
  minSpans: number,
  timeoutMs = 30_000,
): Promise<JaegerTrace | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: JaegerTrace | undefined;
  while (Date.now() < deadline) {
    last = await getTrace(traceId);
    if (last && last.spans.length >= minSpans) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}
