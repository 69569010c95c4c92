// Helpers for the exporter integration tests against the REAL Jaeger of scripts/stack: start/stop it with
// the project's scripts, fetch a trace back from the query API (bounded polling), and compare what Jaeger
// stored with the OTLP spans that were sent, field by field.

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { OtlpResourceSpans, OtlpSpan } from '../../pipeline/sdk/otlp';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');

/** JAEGER_QUERY is the Jaeger query API of the local stack. */
export const JAEGER_QUERY = 'http://127.0.0.1:16686';
/** JAEGER_THRIFT is Jaeger's thrift-over-HTTP collector endpoint. */
export const JAEGER_THRIFT = 'http://127.0.0.1:14268/api/traces';
/** JAEGER_OTLP_HTTP / JAEGER_OTLP_GRPC are Jaeger's OTLP receivers. */
export const JAEGER_OTLP_HTTP = 'http://127.0.0.1:14318';
export const JAEGER_OTLP_GRPC = '127.0.0.1:14317';

/** JaegerTag is a tag as the query API returns it. */
export interface JaegerTag {
  key: string;
  type: string;
  value: unknown;
}
/** JaegerSpan is a span as the query API returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  startTime: number;
  duration: number;
  tags: JaegerTag[];
  logs: Array<{ timestamp: number; fields: JaegerTag[] }>;
  processID: string;
}
/** JaegerTrace is one trace of the query API. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}

/** jaegerUp tells whether the query API answers. */
export async function jaegerUp(): Promise<boolean> {
  try {
    const res = await fetch(`${JAEGER_QUERY}/api/services`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** stack runs scripts/stack/<script>.sh jaeger (up: idempotent, installs/builds if needed). */
export async function stack(script: 'up' | 'down'): Promise<void> {
  await run('bash', [path.join(REPO, 'scripts/stack', `${script}.sh`), 'jaeger'], { cwd: REPO, timeout: 25 * 60_000 });
}

/** ensureJaeger starts Jaeger through the stack scripts when its query API does not answer; fails if it still does not. */
export async function ensureJaeger(): Promise<void> {
  if (await jaegerUp()) return;
  await stack('up');
  expect(await jaegerUp(), 'Jaeger query API on 127.0.0.1:16686 after scripts/stack/up.sh jaeger').to.equal(true);
}

/**
 * fetchTrace polls GET /api/traces/{id} until it holds `spans` spans or `deadlineMs` passes; returns what it
 * has then (undefined when the trace never appeared).
 */
export async function fetchTrace(
  traceId: string,
  spans: number,
  deadlineMs = 15_000,
): Promise<JaegerTrace | undefined> {
  const until = Date.now() + deadlineMs;
  let last: JaegerTrace | undefined;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${JAEGER_QUERY}/api/traces/${traceId}`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) {
        const body = (await res.json()) as { data: JaegerTrace[] | null };
        last = body.data?.[0];
        if (last && last.spans.length >= spans) return last;
      }
    } catch {
      // Jaeger restarting: poll again.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

/** tagMap indexes tags by key: [type, value]. */
export function tagMap(tags: readonly JaegerTag[]): Record<string, [string, unknown]> {
  return Object.fromEntries(tags.map((t) => [t.key, [t.type, t.value]]));
}

/** Which exporter path stored the trace; tag typing and the scope tag names differ between the two. */
export type Path = 'thrift' | 'otlp';

/**
 * expectSameTrace checks every span Jaeger returned against the OTLP spans that were sent: ids, parent
 * reference, links, operation name, process service name and tags, start time and duration in µs, span
 * tags with their types, status tags, logs (time in µs, fields).
 */
export function expectSameTrace(
  got: JaegerTrace | undefined,
  sent: readonly OtlpResourceSpans[],
  how: Path,
  expectedTags: (s: OtlpSpan) => Record<string, [string, unknown]>,
): void {
  expect(got, 'trace in Jaeger').to.not.equal(undefined);
  const trace = got!;
  const all = sent.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ s, rs, scope: ss.scope }))));
  expect(trace.spans.map((s) => s.spanID).sort()).to.deep.equal(all.map((x) => x.s.spanId).sort());
  for (const { s, rs, scope } of all) {
    const j = trace.spans.find((x) => x.spanID === s.spanId)!;
    const where = `span ${s.name} (${how})`;
    expect(j.traceID, where).to.equal(s.traceId);
    expect(j.operationName, where).to.equal(s.name);
    expect(j.startTime, `${where} startTime µs`).to.equal(Number(s.startTimeUnixNano / 1000n));
    expect(j.duration, `${where} duration µs`).to.equal(Number((s.endTimeUnixNano - s.startTimeUnixNano) / 1000n));
    const refs = j.references.map((r) => [r.refType, r.traceID, r.spanID]);
    const wantRefs = [
      ...(s.parentSpanId ? [['CHILD_OF', s.traceId, s.parentSpanId]] : []),
      ...s.links.map((l) => ['FOLLOWS_FROM', l.traceId, l.spanId]),
    ];
    expect(refs, `${where} references`).to.have.deep.members(wantRefs);
    const proc = trace.processes[j.processID];
    const resAttrs = Object.fromEntries(
      rs.resource.attributes.map((a) => [a.key, a.value.type === 'string' ? a.value.value : undefined]),
    );
    expect(proc.serviceName, `${where} service`).to.equal(resAttrs['service.name']);
    const procTags = tagMap(proc.tags ?? []);
    for (const [k, v] of Object.entries(resAttrs)) {
      if (k === 'service.name') continue;
      expect(procTags[k], `${where} process tag ${k}`).to.deep.equal(['string', v]);
    }
    const tags = tagMap(j.tags);
    const want = expectedTags(s);
    const scopeName = how === 'thrift' ? 'otel.library.name' : 'otel.scope.name';
    const scopeVersion = how === 'thrift' ? 'otel.library.version' : 'otel.scope.version';
    want[scopeName] = ['string', scope.name];
    want[scopeVersion] = ['string', scope.version];
    if (s.status.code !== 0) want['otel.status_code'] = ['string', s.status.code === 2 ? 'ERROR' : 'OK'];
    if (s.status.message) want['otel.status_description'] = ['string', s.status.message];
    if (s.status.code === 2) want.error = ['bool', true];
    const kinds = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
    if (s.kind > 1 || (how === 'otlp' && s.kind === 1)) want['span.kind'] = ['string', kinds[s.kind]];
    expect(tags, `${where} tags`).to.deep.include(want);
    const extra = Object.keys(tags).filter(
      (k) => !(k in want) && !k.startsWith('otel.dropped') && k !== 'otel.event.dropped_attributes_count',
    );
    expect(extra, `${where} unexpected tags`).to.deep.equal([]);
    expect(
      j.logs.map((l) => l.timestamp),
      `${where} log times µs`,
    ).to.deep.equal(s.events.map((e) => Number(e.timeUnixNano / 1000n)));
    s.events.forEach((e, i) => {
      const fields = tagMap(j.logs[i].fields);
      expect(fields.event, `${where} event name`).to.deep.equal(['string', e.name]);
      for (const a of e.attributes) expect(fields, `${where} event field ${a.key}`).to.have.property(a.key);
    });
  }
}
