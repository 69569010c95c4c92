// The console's client of the admin server's /v1/ endpoints (docs/console.md), and the shapes they answer.

/** A failed call: the HTTP status and the server's message in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> | undefined,
  ) {
    super(message);
  }
}

/** getJson fetches a /v1/ endpoint; non-2xx answers throw ApiError with the server's `error` text. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, "the collector's admin server is not answering (is tusk-collector running?)", undefined);
  }
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const msg = typeof body?.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, res.status === 401 ? `${msg} (open /ui/?token=YOUR_TOKEN)` : msg, body);
  }
  return body as T;
}

export interface KeyValue {
  key: string;
  value: string | number | boolean;
}
export interface Span {
  spanId: string;
  parentId: string | null;
  service: string;
  operation: string;
  startUs: number;
  durationUs: number;
  error: boolean;
  status: { code: string; message: string };
  kind: string;
  attributes: KeyValue[];
  resource: KeyValue[];
  events: Array<{ timeUs: number; fields: KeyValue[] }>;
  links: Array<{ traceId: string; spanId: string; type: string }>;
}
export interface Trace {
  traceId: string;
  startUs: number;
  durationUs: number;
  services: string[];
  spans: Span[];
}
export interface TraceSummary {
  traceId: string;
  rootService: string;
  rootOperation: string;
  startUs: number;
  durationUs: number;
  spanCount: number;
  errorCount: number;
  services: string[];
}
export interface Decision {
  traceId: string;
  decision: 'sampled' | 'not_sampled';
  policy: string;
  reason: string;
  inputs?: Record<string, string | number | boolean>;
  decidedAt: number;
  decidedBy?: string;
  explanation?: string;
  service?: string;
  operation?: string;
  rootDurationUs?: number;
}
export interface Point {
  t: number;
  v: number;
}
export interface PolicyFigures {
  name: string;
  type: string;
  keptPerSec: number;
  droppedPerSec: number;
  kept15m: Point[];
  dropped15m: Point[];
}
export interface SamplerFigures {
  id: string;
  pipeline: string;
  keptPerSec: number;
  droppedPerSec: number;
  state: string;
  replicaId?: string;
  policies: PolicyFigures[];
  latency: Array<{
    service: string;
    operation: string;
    p50Us: number;
    p95Us: number;
    p99Us: number;
    count: number;
    thresholds: Array<{ policy: string; thresholdUs: number | null }>;
  }>;
  services: Array<{
    service: string;
    errorRate: number;
    baseline: number;
    degraded: boolean;
    boost: number;
    boostUntil: number | null;
    aboveThreshold: boolean;
  }>;
  targets: Array<{
    policy: string;
    key: string;
    targetPerSec: number;
    seenPerSec: number | null;
    keptPerSec: number | null;
  }>;
  buffer: { traces: number; spans: number; bytes: number; exportingBytes: number };
}
export interface GraphNode {
  id: string;
  kind: string;
  name: string;
  type: string;
  ready: boolean;
  degraded: boolean;
  detail: string;
  rates: Record<string, number>;
}
export interface PipelineView {
  generatedAt: number;
  replica: string | null;
  pipelines: Array<{ name: string; signal: string; stages: GraphNode[][] }>;
  buffered: { traces: number; spans: number; bytes: number; exportingBytes: number };
  decisionLagSeconds: { p50: number | null; p99: number | null };
  kafkaLag: Array<{ topic: string; partition: number; lag: number }>;
  dependencies: Array<{ name: string; ready: boolean; degraded: boolean; detail: string }>;
  series: Record<string, Point[]>;
}
export interface Status {
  service: string;
  file: string;
  mode: string;
  replica: string | null;
  pipelines: string[];
  uptimeSeconds: number;
  ready: boolean;
  jaegerQuery: string;
  ringSamples: number;
  ringIntervalMs: number;
}
export interface Replica {
  id: string;
  pipelines: string[];
  adminUrl: string | null;
  version: string;
  hostname: string;
  startedAt: number;
  lastSeen: number;
  self: boolean;
  stale: boolean;
}
export type Replicas = { mode: string } & (
  | {
      available: true;
      self: Omit<Replica, 'self' | 'stale'>;
      replicas: Replica[];
      refreshMs: number;
      ttlMs: number;
      refreshedAt: number;
      error: string | null;
    }
  | { available: false; reason: string }
);
