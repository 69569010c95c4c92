// A counting proxy in front of Jaeger's thrift-over-HTTP collector endpoint, for fault tests that must
// count duplicate deliveries. Jaeger's query API collapses identical span ids (its dedupe adjuster), so
// duplicates are invisible when reading traces back; this proxy decodes each thrift Batch the collector
// posts (with jaeger-client's own IDL and thriftrw), forwards it unchanged to the real Jaeger, and, when
// Jaeger accepted it (2xx), counts every delivered span id. When Jaeger cannot be reached, the client's
// connection is destroyed (as a stopped Jaeger would look), and nothing is counted.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ThriftUtils } from '@opentelemetry/exporter-jaeger/build/src/types';

/** What the proxy saw. */
export interface JaegerProxy {
  /** URL to give the collector as its Jaeger endpoint. */
  readonly endpoint: string;
  /** span id (16 hex) -> times Jaeger accepted it. */
  readonly deliveries: Map<string, number>;
  /** Requests forwarded and accepted / refused by Jaeger / that could not reach it. */
  readonly counts: { accepted: number; refused: number; unreachable: number };
  close(): Promise<void>;
}

interface ThriftSpan {
  spanId: Buffer | number[];
}
interface ThriftBatchStruct {
  rw: { fromBuffer(b: Buffer): { err?: unknown; value?: { spans: ThriftSpan[] } } };
}

function hex(v: Buffer | number[]): string {
  return Buffer.from(v as Buffer)
    .toString('hex')
    .padStart(16, '0');
}

/**
 * startJaegerProxy listens on `host` (default 127.0.0.1, free port) and forwards to `upstream` (…/api/traces).
 */
export async function startJaegerProxy(
  upstream = 'http://127.0.0.1:14268/api/traces',
  host = '127.0.0.1',
): Promise<JaegerProxy> {
  // thriftrw ships no types; it is what jaeger-client (under @opentelemetry/exporter-jaeger) encodes with.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Thrift } = require('thriftrw') as {
    Thrift: new (o: { source: string; allowOptionalArguments: boolean }) => unknown;
  };
  const thrift = new Thrift({
    source: ThriftUtils.loadJaegerThriftDefinition() as string,
    allowOptionalArguments: true,
  }) as { Batch: ThriftBatchStruct };
  const deliveries = new Map<string, number>();
  const counts = { accepted: 0, refused: 0, unreachable: 0 };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
      fetch(upstream, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) })
        .then(async (up) => {
          const text = Buffer.from(await up.arrayBuffer());
          if (up.status >= 200 && up.status < 300) {
            counts.accepted++;
            const decoded = thrift.Batch.rw.fromBuffer(body);
            for (const s of decoded.value?.spans ?? []) {
              const id = hex(s.spanId);
              deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
            }
          } else {
            counts.refused++;
          }
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' });
          res.end(text);
        })
        .catch(() => {
          counts.unreachable++;
          req.socket.destroy();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}/api/traces`,
    deliveries,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** duplicateDeliveries sums, over the given span ids, the deliveries beyond the first. */
export function duplicateDeliveries(proxy: JaegerProxy, spanIds: Iterable<string>): { extra: number; spans: number } {
  let extra = 0;
  let spans = 0;
  for (const id of spanIds) {
    const n = proxy.deliveries.get(id) ?? 0;
    if (n > 1) {
      extra += n - 1;
      spans++;
    }
  }
  return { extra, spans };
}
