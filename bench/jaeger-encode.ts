// Micro benchmark of the `jaeger` exporter's CPU per span: decoded OTLP traces (the loadgen workload,
// "prod" profile: production attributes, k8s resources, events) turned into the thrift request bodies the
// exporter POSTs, with no network. Batches of 100 one-trace chunks, grouped per resource and cut at 100
// spans per request as the exporter does. process.cpuUsage() (user + system) around each round; the
// median of the rounds is reported in spans per CPU-second, with a digest of every body so two versions
// can be checked to send the same bytes. Bounded: at most `rounds` rounds over `traces` traces (defaults
// 7 x 2000), and no new round after 60 CPU-seconds.
// Run: npx tsx bench/jaeger-encode.ts [traces] [rounds]

import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { OtlpResourceSpans } from '../pipeline/sdk/otlp';
import { readableSpansFromOtlp } from '../exporters/jaeger/convert';
import { JaegerInstance, resourceKey, serviceNameOf } from '../exporters/jaeger/instances';
import type { ResourceIdentity } from '../exporters/jaeger/instances';
import { ThriftHttpSender } from '../exporters/jaeger/sender';
import { forJaegerThrift, spanResourceFor } from '../exporters/jaeger/thrift-shape';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Attributes } from '@opentelemetry/api';
import { buildRequest, DEFAULT_MODEL, generateTrace, SERVICE_COUNT } from './loadgen/model';
import type { ModelOptions } from './loadgen/model';
import { Rng } from './loadgen/random';

const TRACES_PER_BATCH = 100;
const MAX_SPANS_PER_REQUEST = 100;
const PODS_PER_SERVICE = 3;
/** Rounds stop early once this much CPU time was spent measuring. */
const MAX_CPU_SECONDS = 60;

/**
 * The workload: one decoded chunk (the resource spans of one trace) per trace, in batches. A fleet of
 * PODS_PER_SERVICE pods per service: each span's resource is one of its service's pods.
 */
function workload(traces: number): OtlpResourceSpans[][][] {
  const opts: ModelOptions = { ...DEFAULT_MODEL, profile: 'prod' };
  const rng = new Rng(42);
  const now = 1_760_000_000_000_000_000n;
  const pods = new Map<string, OtlpResourceSpans['resource'][]>();
  while ([...pods.values()].reduce((n, p) => n + p.length, 0) < SERVICE_COUNT * PODS_PER_SERVICE) {
    for (const rs of buildRequest([generateTrace(rng, opts, now)], opts, rng)) {
      const svc = serviceOf(rs);
      const list = pods.get(svc) ?? [];
      if (list.length < PODS_PER_SERVICE) pods.set(svc, [...list, rs.resource]);
    }
  }
  const batches: OtlpResourceSpans[][][] = [];
  for (let t = 0; t < traces; t++) {
    if (t % TRACES_PER_BATCH === 0) batches.push([]);
    const chunk = buildRequest([generateTrace(rng, opts, now + BigInt(t) * 1_000_000n)], opts, rng);
    for (const rs of chunk) rs.resource = rng.pick(pods.get(serviceOf(rs))!);
    batches[batches.length - 1].push(chunk);
  }
  return batches;
}

function serviceOf(rs: OtlpResourceSpans): string {
  const v = rs.resource.attributes.find((a) => a.key === 'service.name')!.value;
  return v.type === 'string' ? v.value : '';
}

/** A ThriftHttpSender whose flush encodes the batch as it would and keeps the body instead of POSTing it. */
class CapturingSender extends ThriftHttpSender {
  bodies: Buffer[] = [];

  override flush(callback?: (numSpans: number, err?: string) => void): void {
    const n = this._batch.spans.length;
    const encoded = this._jaegerThrift.Batch.rw.toBuffer(this._batch);
    this._reset();
    if (encoded.err) throw new Error(String(encoded.err));
    this.bodies.push(encoded.value);
    callback?.(n);
  }
}

function withoutServiceName(attrs: Attributes): Attributes {
  const { ['service.name']: _omit, ...rest } = attrs;
  return rest;
}

/** encodeAll runs the exporter's conversion + the library's encoding over every batch; returns the bodies. */
async function encodeAll(batches: OtlpResourceSpans[][][]): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  const instances = new Map<string, { inst: JaegerInstance; sender: CapturingSender }>();
  const agent = new http.Agent();
  const signal = new AbortController().signal;
  for (const chunks of batches) {
    const groups = new Map<string, { identity: ResourceIdentity; spans: ReadableSpan[] }>();
    for (const decoded of chunks) {
      for (const g of readableSpansFromOtlp(decoded)) {
        const identity = { serviceName: serviceNameOf(g.resourceAttributes), attributes: g.resourceAttributes };
        const key = resourceKey(identity);
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { identity, spans: [] }));
        const resource = spanResourceFor(g.resourceAttributes, true);
        for (const s of g.spans) group.spans.push(forJaegerThrift(s, resource));
      }
    }
    for (const [key, g] of groups) {
      let entry = instances.get(key);
      if (!entry) {
        const sender = new CapturingSender({
          endpoint: new URL('http://127.0.0.1:9/api/traces'), headers: {}, timeoutMs: 5000, agent, maxSpanBatchSize: MAX_SPANS_PER_REQUEST + 1,
        });
        const inst = new JaegerInstance(g.identity, withoutServiceName(g.identity.attributes), () => sender, 7000, () => undefined);
        instances.set(key, (entry = { inst, sender }));
      }
      for (let i = 0; i < g.spans.length; i += MAX_SPANS_PER_REQUEST) {
        await entry.inst.export(g.spans.slice(i, i + MAX_SPANS_PER_REQUEST), signal);
        bodies.push(...entry.sender.bodies);
        entry.sender.bodies = [];
      }
    }
  }
  await Promise.all([...instances.values()].map((e) => e.inst.kill()));
  return bodies;
}

async function main(): Promise<void> {
  const traces = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 7);
  const batches = workload(traces);
  const spans = batches.flat(2).reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
  const first = await encodeAll(batches);
  const bytes = first.reduce((n, b) => n + b.length, 0);
  const digest = createHash('sha256');
  for (const b of first) digest.update(b);
  console.log(`node ${process.version}; ${traces} traces, ${spans} spans -> ${first.length} requests, ${bytes} bytes; sha256 ${digest.digest('hex').slice(0, 16)}`);
  const rates: number[] = [];
  let spent = 0;
  for (let r = 0; r < rounds && spent < MAX_CPU_SECONDS; r++) {
    const before = process.cpuUsage();
    await encodeAll(batches);
    const used = process.cpuUsage(before);
    const seconds = (used.user + used.system) / 1e6;
    spent += seconds;
    rates.push(spans / seconds);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`spans per CPU-second: median ${Math.round(median)} over ${rates.length} rounds (min ${Math.round(rates[0])}, max ${Math.round(rates[rates.length - 1])})`);
}

void main();
