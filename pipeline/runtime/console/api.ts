// The console's JSON endpoints under /v1/ (listed in docs/console.md): status, health, traces search and
// trace by id (proxied to Jaeger's query API), recent decisions, sampling figures, the pipeline graph with
// live rates from the metrics ring, and the effective config with secrets redacted. Every answer is JSON;
// errors are `{ error, code }` with a status that says whose fault it is.

import type { DecisionRecord } from '../../sdk/component';
import type { DecisionSummary, InsightsProvider, SamplingInsights } from '../../sdk/insights';
import type { ReplicasView } from '../replicas';
import type { ComponentStatus } from '../service';
import { redact } from '../admin/redact';
import { ConsoleError } from './errors';
import type { JaegerQuery } from './jaeger-query';
import type { Labels, MetricsRing, Point } from './ring';

/** A pipeline of the loaded config as the graph shows it. */
export interface PipelineShape {
  readonly name: string;
  readonly signal: string;
  readonly receivers: readonly string[];
  readonly processors: readonly string[];
  readonly exporters: readonly string[];
}

/** The outcome of the last configuration reload. */
export interface ReloadResult {
  readonly at: number;
  readonly ok: boolean;
  readonly trigger: string;
  readonly problems: readonly string[];
}

/** What the console endpoints ask of the running service. */
export interface ConsoleSource {
  readonly serviceName: string;
  readonly startedAt: number;
  status(): ComponentStatus[];
  explainDecision(traceId: string): Promise<DecisionRecord | undefined>;
  insightProviders(): Array<{ id: string; pipeline: string; provider: InsightsProvider }>;
  pipelines(): PipelineShape[];
  /** Component id -> { type, config with defaults filled in }. */
  components(): Array<{ id: string; type: string; config: unknown }>;
  configFile(): string;
  configDocument(): unknown;
  serviceSection(): unknown;
  lastReload(): ReloadResult | undefined;
  /** The replicas seen through Redis; undefined when this process has no Redis settings. */
  replicas?(): ReplicasView | undefined;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
/** The policy name of a trace no policy sampled (tail_sampling's decisions metric and ledger). */
const NO_POLICY = '(none)';
const DURATION = /^\d+(\.\d+)?(us|µs|ms|s|m|h)$/;
const MAX_LIMIT = 1500;

function int(v: string | null, def: number, min: number, max: number, name: string): number {
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', `${name} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

/** parseTags reads `k=v` pairs separated by spaces or a JSON object. */
export function parseTags(text: string | null): Record<string, string> {
  if (text === null || text.trim() === '') return {};
  const t = text.trim();
  if (t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new ConsoleError(
        400,
        'ERR_CONSOLE_BAD_PARAM',
        'tags: not valid JSON; write k=v pairs separated by spaces, or a JSON object',
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', 'tags: a JSON object is expected');
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
  const out: Record<string, string> = {};
  for (const pair of t.split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', `tags: "${pair}" is not k=v`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** checkTraceId lower-cases a trace id and refuses anything that is not 32 hex characters. */
export function checkTraceId(raw: string): string {
  const id = raw.trim().toLowerCase();
  if (!TRACE_ID.test(id)) {
    throw new ConsoleError(
      400,
      'ERR_CONSOLE_BAD_TRACE_ID',
      `"${raw.slice(0, 80)}" is not a trace id: a trace id is 32 hexadecimal characters`,
    );
  }
  return id;
}

/** labelIs matches a component label written as its name (`otlp`) or its id (`receivers.otlp`). */
function labelIs(key: string, kind: string, name: string): (l: Labels) => boolean {
  const id = `${kind}.${name}`;
  return (l) => l[key] === name || l[key] === id;
}

/** ConsoleApi answers the console's /v1/ endpoints. */
export class ConsoleApi {
  constructor(
    private readonly _src: ConsoleSource,
    private readonly _ring: MetricsRing,
    private readonly _jaeger: JaegerQuery,
  ) {}

  /** route answers `path` (already known to start with /v1/), or undefined when it is not a console endpoint. */
  async route(path: string, q: URLSearchParams): Promise<unknown> {
    if (path === '/v1/status') return this.status();
    if (path === '/v1/health') return this.health();
    if (path === '/v1/services') return { services: await this._jaeger.services() };
    const ops = /^\/v1\/services\/([^/]+)\/operations$/.exec(path);
    if (ops) return { operations: await this._jaeger.operations(decodeURIComponent(ops[1])) };
    if (path === '/v1/traces') return this.searchTraces(q);
    const trace = /^\/v1\/traces\/([^/]*)$/.exec(path);
    if (trace) return this.trace(decodeURIComponent(trace[1]));
    if (path === '/v1/decisions') return this.decisions(q);
    if (path === '/v1/sampling') return this.sampling();
    if (path === '/v1/pipeline') return this.pipeline();
    if (path === '/v1/replicas') return this.replicas();
    if (path === '/v1/config/effective') return this.effectiveConfig();
    return undefined;
  }

  private _samplers(): Array<{ id: string; pipeline: string; provider: InsightsProvider; insights: SamplingInsights }> {
    return this._src.insightProviders().map((p) => ({ ...p, insights: p.provider.insights() }));
  }

  private _mode(): 'cluster' | 'embedded' {
    return this._src.components().some((c) => c.type === 'kafka') ? 'cluster' : 'embedded';
  }

  status() {
    const replicaIds = this._samplers()
      .map((s) => s.insights.replicaId)
      .filter((r): r is string => r !== undefined);
    const status = this._src.status();
    return {
      service: this._src.serviceName,
      file: this._src.configFile(),
      mode: this._mode(),
      replica: replicaIds[0] ?? null,
      pipelines: this._src.pipelines().map((p) => p.name),
      startedAt: this._src.startedAt,
      uptimeSeconds: Math.round((Date.now() - this._src.startedAt) / 1000),
      ready: status.every((c) => c.ready),
      jaegerQuery: this._jaeger.baseUrl,
      ringSamples: this._ring.size,
      ringIntervalMs: this._ring.intervalMs,
    };
  }

  /** replicas lists the cluster's replicas, or says in words why this one cannot. */
  replicas(): ReplicasView & { mode: string } {
    const mode = this._mode();
    const view = this._src.replicas?.();
    if (view !== undefined) return { ...view, mode };
    return {
      mode,
      available: false,
      reason:
        mode === 'embedded'
          ? 'embedded mode: the whole pipeline runs in this one process, there are no other replicas'
          : 'this replica has no Redis settings (no tail_sampling processor with state "redis" in its pipeline ' +
            "file), so it cannot see the other replicas: open a sampler replica's console for the list",
    };
  }

  health() {
    const components = this._src.status();
    return { status: components.every((c) => c.ready) ? 'ready' : 'not ready', components };
  }

  async searchTraces(q: URLSearchParams) {
    const service = q.get('service')?.trim() ?? '';
    if (service === '')
      throw new ConsoleError(
        400,
        'ERR_CONSOLE_BAD_PARAM',
        'service is required (Jaeger searches one service at a time)',
      );
    for (const k of ['minDuration', 'maxDuration'] as const) {
      const v = q.get(k);
      if (v && !DURATION.test(v))
        throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', `${k} "${v}" is not a duration such as 250ms, 1.5s or 2m`);
    }
    const now = Date.now();
    const lookbackMs = int(q.get('lookbackMinutes'), 60, 1, 7 * 24 * 60, 'lookbackMinutes') * 60_000;
    const endMs = int(q.get('end'), now, 0, Number.MAX_SAFE_INTEGER, 'end');
    const startMs = int(q.get('start'), endMs - lookbackMs, 0, Number.MAX_SAFE_INTEGER, 'start');
    if (startMs > endMs) throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', 'start must be before end');
    const traces = await this._jaeger.search({
      service,
      operation: q.get('operation') || undefined,
      tags: parseTags(q.get('tags')),
      minDuration: q.get('minDuration') || undefined,
      maxDuration: q.get('maxDuration') || undefined,
      errorsOnly: q.get('errors') === 'true' || q.get('errors') === '1',
      startUs: startMs * 1000,
      endUs: endMs * 1000,
      limit: int(q.get('limit'), 20, 1, MAX_LIMIT, 'limit'),
    });
    return { traces };
  }

  /**
   * trace answers the spans from Jaeger with this collector's decision. A trace Jaeger does not have is a 404
   * whose body still carries the decision, so a dropped trace opens its "dropped because" panel.
   */
  async trace(raw: string) {
    const id = checkTraceId(raw);
    const [decision, found] = await Promise.all([
      this._src.explainDecision(id),
      this._jaeger.trace(id).then(
        (t) => ({ t, err: undefined }),
        (err: unknown) => ({ t: undefined, err }),
      ),
    ]);
    if (found.err !== undefined && !decision)
      throw found.err instanceof Error ? found.err : new Error(String(found.err));
    if (found.t === undefined) {
      const why = found.err instanceof Error ? found.err.message : undefined;
      const dropped = decision?.policy === NO_POLICY ? 'because no policy kept it' : `by policy ${decision?.policy}`;
      const message =
        why ??
        (decision?.decision === 'not_sampled'
          ? `trace ${id} was dropped ${dropped}, so Jaeger does not have it`
          : decision
            ? `trace ${id} was kept by policy ${decision.policy} but Jaeger does not have it (yet)`
            : `no trace ${id} in Jaeger and no decision about it here`);
      return new NotFound({
        error: message,
        code: found.err ? 'ERR_CONSOLE_JAEGER_UNREACHABLE' : 'ERR_CONSOLE_TRACE_NOT_FOUND',
        traceId: id,
        decision: decision ?? null,
      });
    }
    return { trace: found.t, decision: decision ?? null };
  }

  decisions(q: URLSearchParams) {
    const outcome = q.get('outcome');
    if (outcome && outcome !== 'sampled' && outcome !== 'not_sampled') {
      throw new ConsoleError(400, 'ERR_CONSOLE_BAD_PARAM', 'outcome must be sampled or not_sampled');
    }
    const policy = q.get('policy') || undefined;
    const since = int(q.get('since'), 0, 0, Number.MAX_SAFE_INTEGER, 'since');
    const limit = int(q.get('limit'), 100, 1, 1000, 'limit');
    const all: DecisionSummary[] = [];
    for (const { provider } of this._src.insightProviders()) all.push(...(provider.recentDecisions?.(1000) ?? []));
    const decisions = all
      .filter((d) => (!outcome || d.decision === outcome) && (!policy || d.policy === policy) && d.decidedAt > since)
      .sort((a, b) => b.decidedAt - a.decidedAt)
      .slice(0, limit);
    return { decisions, now: Date.now() };
  }

  sampling() {
    const processors = this._samplers().map(({ id, pipeline, insights }) => {
      const name = id.split('@')[0].replace(/^processors\./, '');
      const mine = (decision: string) => (l: Labels) => l.processor === name && l.decision === decision;
      const named = [...insights.policies, { name: NO_POLICY, type: 'no policy kept the trace' }];
      const policies = named.map((p) => {
        const kept = (l: Labels) => mine('sampled')(l) && l.policy === p.name;
        const dropped = (l: Labels) => mine('not_sampled')(l) && l.policy === p.name;
        return {
          ...p,
          keptPerSec: this._ring.rate('tusk_sampler_decisions_total', kept),
          droppedPerSec: this._ring.rate('tusk_sampler_decisions_total', dropped),
          kept15m: this._ring.rateSeries('tusk_sampler_decisions_total', kept),
          dropped15m: this._ring.rateSeries('tusk_sampler_decisions_total', dropped),
        };
      });
      const keptNow = this._ring.rate('tusk_sampler_decisions_total', mine('sampled'));
      return {
        id,
        pipeline,
        keptPerSec: keptNow,
        droppedPerSec: this._ring.rate('tusk_sampler_decisions_total', mine('not_sampled')),
        ...insights,
        policies,
      };
    });
    return { generatedAt: Date.now(), processors };
  }

  pipeline() {
    const status = new Map(this._src.status().map((c) => [c.id.split('@')[0], c]));
    const types = new Map(this._src.components().map((c) => [c.id, c.type]));
    const r = this._ring;
    const nodeRates = (kind: 'receivers' | 'processors' | 'exporters', name: string): Record<string, number> => {
      if (kind === 'receivers') {
        const m = labelIs('receiver', kind, name);
        if (types.get(`receivers.${name}`) === 'kafka')
          return { consumed: r.rate('tusk_kafka_consumed_messages_total', m) };
        return {
          accepted: r.rate('tusk_receiver_spans_total', (l) => m(l) && l.outcome === 'accepted'),
          refused: r.rate('tusk_receiver_spans_total', (l) => m(l) && l.outcome !== 'accepted'),
        };
      }
      if (kind === 'processors') {
        const m = labelIs('processor', kind, name);
        return {
          kept: r.rate('tusk_sampler_decisions_total', (l) => m(l) && l.decision === 'sampled'),
          dropped: r.rate('tusk_sampler_decisions_total', (l) => m(l) && l.decision === 'not_sampled'),
        };
      }
      const m = labelIs('exporter', kind, name);
      return {
        exported: r.rate('tusk_exporter_sent_spans_total', m) + r.rate('tusk_kafka_produced_messages_total', m),
        failed: r.rate('tusk_exporter_failed_spans_total', m) + r.rate('tusk_kafka_produce_errors_total', m),
      };
    };
    const node = (kind: 'receivers' | 'processors' | 'exporters', name: string) => {
      const id = `${kind}.${name}`;
      const s = status.get(id);
      return {
        id,
        kind: kind.slice(0, -1),
        name,
        type: types.get(id) ?? name,
        ready: s?.ready ?? false,
        degraded: s?.degraded ?? false,
        detail: s?.detail ?? '',
        rates: nodeRates(kind, name),
      };
    };
    const pipelines = this._src.pipelines().map((p) => {
      const stages = [
        p.receivers.map((n) => node('receivers', n)),
        ...p.processors.map((n) => [node('processors', n)]),
        p.exporters.map((n) => node('exporters', n)),
      ];
      // A processor that does not decide (no kept/dropped series) passes on what it got: its edge shows the
      // rates before it.
      for (let i = 1; i < stages.length - 1; i++) {
        const [n] = stages[i];
        if (
          n.kind === 'processor' &&
          !r.has('tusk_sampler_decisions_total', labelIs('processor', 'processors', n.name))
        ) {
          const sum: Record<string, number> = {};
          for (const prev of stages[i - 1]) for (const [k, v] of Object.entries(prev.rates)) sum[k] = (sum[k] ?? 0) + v;
          stages[i] = [{ ...n, rates: sum }];
        }
      }
      return { name: p.name, signal: p.signal, stages };
    });
    const lag = (q: number) => {
      const v = r.quantile('tusk_sampler_decision_lag_seconds', q);
      return v === undefined ? null : v;
    };
    const series: Record<string, Point[]> = {
      accepted: r.rateSeries('tusk_receiver_spans_total', (l) => l.outcome === 'accepted'),
      refused: r.rateSeries('tusk_receiver_spans_total', (l) => l.outcome !== 'accepted'),
      kept: r.rateSeries('tusk_sampler_decisions_total', (l) => l.decision === 'sampled'),
      dropped: r.rateSeries('tusk_sampler_decisions_total', (l) => l.decision === 'not_sampled'),
      exported: r.rateSeries('tusk_exporter_sent_spans_total'),
      failed: r.rateSeries('tusk_exporter_failed_spans_total'),
      bufferedTraces: r.gaugeSeries('tusk_sampler_traces_buffered'),
    };
    const samplers = this._samplers();
    return {
      generatedAt: Date.now(),
      replica: samplers.map((s) => s.insights.replicaId).find((x) => x !== undefined) ?? null,
      pipelines,
      buffered: {
        traces: samplers.reduce((n, s) => n + s.insights.buffer.traces, 0),
        spans: samplers.reduce((n, s) => n + s.insights.buffer.spans, 0),
        bytes: samplers.reduce((n, s) => n + s.insights.buffer.bytes, 0),
        exportingBytes: samplers.reduce((n, s) => n + s.insights.buffer.exportingBytes, 0),
      },
      decisionLagSeconds: { p50: lag(0.5), p99: lag(0.99) },
      kafkaLag: r
        .latestBy('tusk_kafka_consumer_lag')
        .map(({ labels, value }) => ({ topic: labels.topic ?? '', partition: Number(labels.partition), lag: value })),
      dependencies: this._dependencies(),
      series,
    };
  }

  /** Kafka, Redis and each exporter: ready or not, and why, from the components' own health reports. */
  private _dependencies(): Array<{ name: string; ready: boolean; degraded: boolean; detail: string }> {
    const types = new Map(this._src.components().map((c) => [c.id, c]));
    const out: Array<{ name: string; ready: boolean; degraded: boolean; detail: string }> = [];
    for (const s of this._src.status()) {
      const id = s.id.split('@')[0];
      const c = types.get(id);
      const detail = s.detail ?? '';
      if (c?.type === 'kafka')
        out.push({ name: `kafka (${id})`, ready: s.ready, degraded: s.degraded ?? false, detail });
      else if (id.startsWith('exporters.'))
        out.push({ name: id, ready: s.ready, degraded: s.degraded ?? false, detail });
      else if (c?.type === 'tail_sampling') {
        const state = (c.config as { state?: string } | undefined)?.state ?? 'memory';
        out.push({
          name: state === 'redis' ? `redis (${id})` : `state: memory (${id})`,
          ready: s.ready && !s.degraded,
          degraded: s.degraded ?? false,
          detail,
        });
      }
    }
    return out;
  }

  effectiveConfig() {
    return {
      file: this._src.configFile(),
      service: redact(this._src.serviceSection()),
      components: this._src.components().map((c) => ({ id: c.id, type: c.type, config: redact(c.config) })),
      pipelines: this._src.pipelines(),
      document: redact(this._src.configDocument()),
      lastReload: this._src.lastReload() ?? null,
    };
  }
}

/** NotFound is an answer sent with status 404 and its body (the trace endpoint's "not in Jaeger"). */
export class NotFound {
  constructor(readonly body: Record<string, unknown>) {}
}
