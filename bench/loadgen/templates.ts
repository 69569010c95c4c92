// Pre-encoded requests for the load generator. A pool of ExportTraceServiceRequest templates is built
// once with our codec (pipeline/sdk/otlp encodeTraces); sending copies a template and overwrites its trace
// ids in place (their byte offsets are recorded at build time), so every trace sent is unique and the
// generator does no protobuf work per request.
//
// Trace ids sent: bytes 0-11 a seeded hash of (seed, trace number), bytes 12-15 the trace number g
// (uint32, big-endian): the sink of the end-to-end benchmark reads g back to find when the trace was sent.

import { encodeTraces } from '../../pipeline/sdk/otlp';
import { DEFAULT_MODEL, buildRequest, generateTrace, type ModelOptions, type Profile } from './model';
import { Rng, mix32 } from './random';

/** One template: encoded bytes and, per trace, where its 16 id bytes sit and what it is. */
export interface RequestTemplate {
  bytes: Buffer;
  spans: number;
  traces: Array<{ offsets: number[]; spans: number; error: boolean; slow: boolean; resources: number }>;
  /** Sum over traces of the resources (services) each spans: the OTel Collector's kafka exporter writes one message per (trace, resource, scope). */
  traceResources: number;
}

/** TemplatePool is the set of templates a run cycles through. */
export interface TemplatePool {
  profile: Profile;
  templates: RequestTemplate[];
  /** Mean encoded bytes per span over the pool. */
  bytesPerSpan: number;
  spansPerTrace: number;
}

export interface PoolOptions {
  seed: number;
  profile: Profile;
  /** Templates in the pool (distinct request shapes). */
  templates?: number;
  /** Spans per request, about (traces are whole: a request holds complete traces). */
  spansPerRequest?: number;
  model?: Partial<ModelOptions>;
}

/** buildPool generates and encodes the templates; deterministic for a seed. */
export function buildPool(opts: PoolOptions): TemplatePool {
  const model: ModelOptions = { ...DEFAULT_MODEL, ...opts.model, profile: opts.profile };
  const rng = new Rng(opts.seed);
  const count = opts.templates ?? 48;
  const target = opts.spansPerRequest ?? 256;
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const templates: RequestTemplate[] = [];
  let bytes = 0;
  let spans = 0;
  let traces = 0;
  for (let t = 0; t < count; t++) {
    const gen = [];
    let n = 0;
    while (n < target) {
      const tr = generateTrace(rng, model, nowNs - BigInt(rng.int(0, 5_000_000)) * 1000n);
      gen.push(tr);
      n += tr.spans.length;
    }
    const buf = Buffer.from(encodeTraces(buildRequest(gen, model, rng)));
    const info = gen.map((tr) => {
      const id = Buffer.from(tr.traceId, 'hex');
      const offsets: number[] = [];
      for (let at = buf.indexOf(id); at >= 0; at = buf.indexOf(id, at + 16)) offsets.push(at);
      if (offsets.length !== tr.spans.length)
        throw new Error(`template ${t}: trace id found ${offsets.length} times for ${tr.spans.length} spans`);
      return {
        offsets,
        spans: tr.spans.length,
        error: tr.error,
        slow: tr.slow,
        resources: new Set(tr.spans.map((x) => x.service)).size,
      };
    });
    templates.push({ bytes: buf, spans: n, traces: info, traceResources: info.reduce((a, x) => a + x.resources, 0) });
    bytes += buf.length;
    spans += n;
    traces += gen.length;
  }
  return { profile: opts.profile, templates, bytesPerSpan: bytes / spans, spansPerTrace: spans / traces };
}

/** writeTraceId writes the id of trace number g into `out` at `at`. */
export function writeTraceId(out: Buffer, at: number, seed: number, g: number): void {
  const h1 = mix32((seed ^ 0x5bd1e995) + g * 3);
  const h2 = mix32(h1 ^ (g + 0x27d4eb2f));
  const h3 = mix32(h2 ^ seed);
  out.writeUInt32BE((h1 | 1) >>> 0, at);
  out.writeUInt32BE(h2, at + 4);
  out.writeUInt32BE(h3, at + 8);
  out.writeUInt32BE(g >>> 0, at + 12);
}

/** traceNumberOf reads g back from a lowercase hex trace id written by writeTraceId. */
export function traceNumberOf(traceIdHex: string): number {
  return parseInt(traceIdHex.slice(24, 32), 16);
}

/** A request ready to send: bytes (a fresh copy), the first trace number and its traces. */
export interface MaterializedRequest {
  body: Buffer;
  spans: number;
  g0: number;
  traces: number;
  /** (trace, resource) pairs: the number of Kafka messages the OTel Collector's exporter makes of it. */
  traceResources: number;
  /** Indexes (0-based, from g0) of traces every policy set must keep: error or slow. */
  mustKeep: number[];
}

/**
 * materialize copies template `k % pool` and gives its traces the numbers g0, g0+1, ...
 * The copy costs one memcpy; the template itself is never touched, so concurrent sends are safe.
 */
export function materialize(pool: TemplatePool, k: number, g0: number, seed: number): MaterializedRequest {
  const tpl = pool.templates[k % pool.templates.length];
  const body = Buffer.allocUnsafe(tpl.bytes.length);
  tpl.bytes.copy(body);
  const mustKeep: number[] = [];
  tpl.traces.forEach((tr, j) => {
    const at0 = tr.offsets[0];
    writeTraceId(body, at0, seed, g0 + j);
    for (let x = 1; x < tr.offsets.length; x++) body.copy(body, tr.offsets[x], at0, at0 + 16);
    if (tr.error || tr.slow) mustKeep.push(j);
  });
  return { body, spans: tpl.spans, g0, traces: tpl.traces.length, traceResources: tpl.traceResources, mustKeep };
}
