// Micro benchmark of the `jaeger` exporter's CPU per span: decoded OTLP traces (the loadgen workload,
// "prod" profile: production attributes, k8s resources, events) turned into the thrift request bodies the
// exporter POSTs, with no network. Batches of 100 one-trace chunks, grouped per resource and cut at 100
// spans per request as the exporter does. process.cpuUsage() (user + system) around each round; the
// median of the rounds is reported in spans per CPU-second, with a digest of every body so two versions
// can be checked to send the same bytes. Bounded: at most `rounds` rounds over `traces` traces (defaults
// 7 x 2000), and no new round after 60 CPU-seconds.
// Run: npx tsx bench/jaeger-encode.ts [traces] [rounds]

import { createHash } from 'node:crypto';
import type { OtlpResourceSpans } from '../pipeline/sdk/otlp';
import { batchesFromOtlp } from '../exporters/jaeger/convert';
import { loadJaegerThrift } from '../exporters/jaeger/thrift';
import type { JaegerThrift } from '../exporters/jaeger/thrift';
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

/** encodeAll runs the exporter's conversion and encoding over every batch; returns the request bodies. */
function encodeAll(thrift: JaegerThrift, batches: OtlpResourceSpans[][][]): Buffer[] {
  const bodies: Buffer[] = [];
  for (const chunks of batches) {
    for (const b of batchesFromOtlp(chunks, 'process_tags', MAX_SPANS_PER_REQUEST))
      bodies.push(thrift.encodeBatch(b.batch));
  }
  return bodies;
}

function main(): void {
  const traces = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 7);
  const batches = workload(traces);
  const spans = batches.flat(2).reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);
  const thrift = loadJaegerThrift();
  const first = encodeAll(thrift, batches);
  const bytes = first.reduce((n, b) => n + b.length, 0);
  const digest = createHash('sha256');
  for (const b of first) digest.update(b);
  console.log(
    `node ${process.version}; ${traces} traces, ${spans} spans -> ${first.length} requests, ${bytes} bytes; ` +
      `sha256 ${digest.digest('hex').slice(0, 16)}`,
  );
  const rates: number[] = [];
  let spent = 0;
  for (let r = 0; r < rounds && spent < MAX_CPU_SECONDS; r++) {
    const before = process.cpuUsage();
    encodeAll(thrift, batches);
    const used = process.cpuUsage(before);
    const seconds = (used.user + used.system) / 1e6;
    spent += seconds;
    rates.push(spans / seconds);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(
    `spans per CPU-second: median ${Math.round(median)} over ${rates.length} rounds ` +
      `(min ${Math.round(rates[0])}, max ${Math.round(rates[rates.length - 1])})`,
  );
}

main();
