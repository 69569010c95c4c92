// A local stand-in for Jaeger's thrift-over-HTTP collector: decodes every POSTed thrift Batch with
// jaeger-client's own IDL, records it with its headers, and answers with a scripted status.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

// jaeger-client and thriftrw ship no types; both are dependencies of @opentelemetry/exporter-jaeger.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Thrift } = require('thriftrw') as {
  Thrift: new (o: { source: string; allowOptionalArguments: boolean }) => unknown;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ThriftUtils = require('jaeger-client/dist/src/thrift').default as { loadJaegerThriftDefinition(): string };

/** A decoded thrift tag. */
export interface Tag {
  key: string;
  vType: string;
  vStr: string;
  vDouble: number;
  vBool: boolean;
}
/** A decoded thrift span. */
export interface Span {
  traceIdLow: Buffer;
  traceIdHigh: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  operationName: string;
  references: Array<{ refType: string; spanId: Buffer }> | null;
  flags: number;
  startTime: Buffer;
  duration: Buffer;
  tags: Tag[] | null;
  logs: Array<{ timestamp: Buffer; fields: Tag[] }> | null;
}
/** A decoded thrift batch with the request's headers. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  process: { serviceName: string; tags: Tag[] | null };
  spans: Span[];
}

/** Reply decides each answer: status and headers (or 'hang' to never answer). */
export type Reply = (n: number, batch: Received) => { status: number; headers?: Record<string, string> } | 'hang';

const thrift = new Thrift({ source: ThriftUtils.loadJaegerThriftDefinition(), allowOptionalArguments: true });

/** hex renders an 8-byte id buffer as 16 hex chars. */
export const hex = (b: Buffer) => b.toString('hex');

/** ThriftServer records batches; `url` is its /api/traces endpoint. */
export class ThriftServer {
  readonly received: Received[] = [];
  private _srv?: http.Server;
  url = '';

  constructor(public reply: Reply = () => ({ status: 202 })) {}

  async start(): Promise<this> {
    this._srv = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const decoded = (
          thrift as unknown as {
            Batch: { rw: { readFrom(b: Buffer, o: number): { err?: unknown; value: Omit<Received, 'headers'> } } };
          }
        ).Batch.rw.readFrom(Buffer.concat(parts), 0);
        if (decoded.err) {
          res.statusCode = 400;
          res.end(String(decoded.err));
          return;
        }
        const batch = { headers: req.headers, ...decoded.value };
        this.received.push(batch);
        const r = this.reply(this.received.length, batch);
        if (r === 'hang') return;
        for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
        res.statusCode = r.status;
        res.end();
      });
    });
    await new Promise<void>((r) => this._srv!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this._srv.address() as AddressInfo).port}/api/traces`;
    return this;
  }

  /** spans returns every received span. */
  spans(): Array<Span & { service: string }> {
    return this.received.flatMap((b) => b.spans.map((s) => ({ ...s, service: b.process.serviceName })));
  }

  async stop(): Promise<void> {
    this._srv?.closeAllConnections();
    await new Promise<void>((r) => (this._srv ? this._srv.close(() => r()) : r()));
  }
}
