// The end-to-end run's timing proxy: both systems export kept traces over OTLP/HTTP to this proxy, which
// forwards each request unchanged to Jaeger (and answers with Jaeger's answer), and notes when each trace
// first arrived. The load generator reports when it sent each trace (trace number g, in the trace id, see
// loadgen/templates.ts), so "sent -> exported to Jaeger" lag is measured the same way for both systems,
// outside both. It also checks that every trace that must be kept (error or slow) arrived.

import http from 'node:http';
import zlib from 'node:zlib';
import { splitTracesByTraceId } from '../../pipeline/sdk/otlp';
import { traceNumberOf } from '../loadgen/templates';

/** One accepted request as the load generator reports it: [g0, traces, sentAtMs, mustKeep indexes]. */
export type AcceptedRequest = [number, number, number, number[]];

class GrowableF64 {
  a = new Float64Array(1 << 16);
  set(i: number, v: number): void {
    if (i >= this.a.length) {
      let n = this.a.length;
      while (n <= i) n *= 2;
      const b = new Float64Array(n);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
  get(i: number): number {
    return i < this.a.length ? this.a[i] : 0;
  }
}

export class TimingProxy {
  private _server?: http.Server;
  private readonly _agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly _sent = new GrowableF64();
  private readonly _arrived = new GrowableF64();
  private readonly _mustKeep = new Set<number>();
  port = 0;
  requests = 0;
  forwardErrors = 0;
  keptSpans = 0;
  keptTraces = 0;
  mustKeepSent = 0;
  mustKeepArrived = 0;
  unknownTraces = 0;
  lagsMs: number[] = [];

  /** @param forward base URL of Jaeger's OTLP/HTTP receiver, e.g. http://127.0.0.1:14318 */
  constructor(private readonly _forward: string) {}

  async start(port: number): Promise<void> {
    this.port = port;
    this._server = http.createServer((req, res) => this._handle(req, res));
    this._server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this._server!.listen(port, '127.0.0.1', resolve));
  }

  /** reset forgets everything (between runs). */
  reset(): void {
    this.requests =
      this.forwardErrors =
      this.keptSpans =
      this.keptTraces =
      this.mustKeepSent =
      this.mustKeepArrived =
      this.unknownTraces =
        0;
    this.lagsMs = [];
    this._sent.a.fill(0);
    this._arrived.a.fill(0);
    this._mustKeep.clear();
  }

  /** onAccepted records the load generator's report of accepted requests. */
  onAccepted(requests: AcceptedRequest[]): void {
    for (const [g0, n, at, keep] of requests) {
      for (let j = 0; j < n; j++) this._sent.set(g0 + j, at);
      for (const j of keep) {
        this._mustKeep.add(g0 + j);
        this.mustKeepSent++;
        if (this._arrived.get(g0 + j) > 0) this.mustKeepArrived++;
      }
    }
  }

  private _note(body: Buffer, now: number): void {
    let split;
    try {
      split = splitTracesByTraceId(body);
    } catch {
      return;
    }
    for (const c of split.chunks) {
      this.keptSpans += c.spanCount;
      const g = traceNumberOf(c.traceId);
      if (this._arrived.get(g) > 0) continue;
      this._arrived.set(g, now);
      this.keptTraces++;
      const sent = this._sent.get(g);
      if (sent > 0) this.lagsMs.push(now - sent);
      else this.unknownTraces++;
      if (this._mustKeep.has(g)) this.mustKeepArrived++;
    }
  }

  private _handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const now = Date.now();
      const raw = Buffer.concat(parts);
      this.requests++;
      try {
        this._note(req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw, now);
      } catch {
        // not ours to judge: Jaeger answers
      }
      const u = new URL(req.url ?? '/v1/traces', this._forward);
      const headers: http.OutgoingHttpHeaders = {
        'content-type': req.headers['content-type'] ?? 'application/x-protobuf',
        'content-length': raw.length,
      };
      if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
      const fwd = http.request(
        {
          agent: this._agent,
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers,
          timeout: 30_000,
        },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (d: Buffer) => chunks.push(d));
          up.on('end', () => {
            const h: http.OutgoingHttpHeaders = {};
            if (up.headers['content-type']) h['content-type'] = up.headers['content-type'];
            if (up.headers['retry-after']) h['retry-after'] = up.headers['retry-after'];
            res.writeHead(up.statusCode ?? 502, h);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      fwd.on('timeout', () => fwd.destroy(new Error('timeout')));
      fwd.on('error', () => {
        this.forwardErrors++;
        if (!res.headersSent) res.writeHead(503, { 'retry-after': '1' });
        res.end();
      });
      fwd.end(raw);
    });
  }

  async stop(): Promise<void> {
    this._agent.destroy();
    if (this._server)
      await new Promise<void>((r) => {
        this._server!.closeAllConnections();
        this._server!.close(() => r());
      });
  }
}

/** quantile of a list of numbers (nearest rank), undefined when empty. */
export function quantile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
