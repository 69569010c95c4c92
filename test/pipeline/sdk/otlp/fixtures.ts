// Test fixtures for the OTLP codec: realistic SDK spans (several resources, scopes and traces; attributes
// of every SDK type, events, links, statuses, all span kinds) made with the official OpenTelemetry SDK
// and encoded with the official transformer, from a seeded random generator so failures reproduce.

import { context, trace, SpanKind, SpanStatusCode, type Attributes, type Link, type Span } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { rng } from '../../../helpers/random';

export interface FixtureOptions {
  seed?: number;
  /** Number of traces. */
  traces?: number;
  /** Max spans per trace (at least 1). */
  maxSpansPerTrace?: number;
  /** Number of distinct resources (providers). */
  resources?: number;
  /** Add events, links and the full attribute zoo (false: lean ~260-byte spans for benchmarks). */
  rich?: boolean;
}

export interface Fixture {
  spans: ReadableSpan[];
  /** The spans as the official SDK encodes them: an ExportTraceServiceRequest. */
  request: Uint8Array;
}

const KINDS = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];

function richAttributes(rand: () => number, i: number): Attributes {
  return {
    'http.method': ['GET', 'POST', 'PUT'][i % 3],
    'http.status_code': 200 + Math.floor(rand() * 300),
    'db.rows': -Math.floor(rand() * 1e6),
    'big.int': 9007199254740991,
    ratio: rand(),
    'cache.hit': rand() < 0.5,
    'unicode.text': 'héllo → 世界 ' + i,
    'tags.list': ['a', 'b', String(i)],
    'nums.list': [1, 2, i],
    'floats.list': [0.5, 1.25],
    'bools.list': [true, false],
    'empty.string': '',
  };
}

function leanAttributes(t: number, s: number): Attributes {
  return {
    'http.method': 'GET',
    'http.route': `/api/v${t % 4}/items`,
    'http.url': `https://shop.example.com/api/v${t % 4}/items?page=${s}`,
    'http.status_code': 200,
    'net.peer.name': `cart-db-${t % 3}`,
  };
}

/** makeFixture builds SDK spans and their official OTLP/protobuf encoding. */
export async function makeFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const rand = rng(opts.seed ?? 1);
  const nTraces = opts.traces ?? 10;
  const maxSpans = opts.maxSpansPerTrace ?? 6;
  const nResources = opts.resources ?? 2;
  const rich = opts.rich ?? true;
  const exporter = new InMemorySpanExporter();
  const providers: BasicTracerProvider[] = [];
  for (let i = 0; i < nResources; i++) {
    providers.push(
      new BasicTracerProvider({
        resource: resourceFromAttributes({
          'service.name': `svc-${i}`,
          'service.version': `1.${i}.0`,
          'host.cores': 8 + i,
          'deployment.canary': i % 2 === 1,
          region: ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3],
        }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      }),
    );
  }
  const base = 1_700_000_000_000; // ms
  const links: Link[] = [];
  for (let t = 0; t < nTraces; t++) {
    const provider = providers[t % providers.length];
    const tracer = provider.getTracer(`scope-${t % 3}`, `0.${t % 3}.1`, {
      schemaUrl: t % 3 === 2 ? 'https://opentelemetry.io/schemas/1.21.0' : undefined,
    });
    const nSpans = 1 + Math.floor(rand() * maxSpans);
    const startNs = Math.floor(rand() * 1e9);
    const startSec = Math.floor(base / 1000) + t;
    const opened: Span[] = [];
    for (let s = 0; s < nSpans; s++) {
      const parent = s === 0 ? undefined : opened[Math.floor(rand() * opened.length)];
      const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
      const span = tracer.startSpan(
        s === 0 ? `GET /api/v${t % 4}/items` : `op-${s} ${t % 5}`,
        {
          kind: KINDS[(t + s) % KINDS.length],
          startTime: [startSec, (startNs + s * 1013) % 1e9],
          attributes: rich ? richAttributes(rand, s) : leanAttributes(t, s),
          links: rich && links.length > 0 && s % 2 === 1 ? [links[Math.floor(rand() * links.length)]] : undefined,
        },
        ctx,
      );
      if (rich && s % 2 === 0) {
        span.addEvent(`event-${s}`, { 'event.attr': s, 'event.flag': true }, [startSec, (startNs + 500) % 1e9]);
        span.addEvent('bare-event', [startSec + 1, 7]);
      }
      if (rich && s === 0)
        links.push({ context: span.spanContext(), attributes: { 'link.kind': 'follows', 'link.n': t } });
      const r = rand();
      if (r < 0.2) span.setStatus({ code: SpanStatusCode.ERROR, message: `failure ${t}/${s}` });
      else if (r < 0.4) span.setStatus({ code: SpanStatusCode.OK });
      opened.push(span);
    }
    for (let s = opened.length - 1; s >= 0; s--) {
      opened[s].end([startSec + 2, (startNs + s * 777_777) % 1e9]);
    }
  }
  await Promise.all(providers.map((p) => p.forceFlush()));
  const spans = exporter.getFinishedSpans().slice();
  const request = ProtobufTraceSerializer.serializeRequest(spans);
  if (!request) throw new Error('serializer returned nothing');
  await Promise.all(providers.map((p) => p.shutdown()));
  return { spans, request };
}
