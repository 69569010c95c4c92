// The admin HTTP server: / and /healthz (process up; `/` is where the OpenTelemetry Collector's
// health_check answers, so its charts' probes work unchanged), /readyz (every component started and its
// dependencies reachable), /metrics (Prometheus text), /v1/decisions/{traceId}, /v1/config, and what an
// extension adds (the web console: /ui/ and its /v1/ endpoints).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DecisionRecord } from '../../sdk/component';
import type { ComponentStatus } from '../service';
import { redact } from './redact';

/** What the admin server asks of the running service. */
export interface AdminSource {
  status(): ComponentStatus[];
  explainDecision(traceId: string): Promise<DecisionRecord | undefined>;
  /** The running config document. */
  configDocument(): unknown;
}

/** AdminExtension answers more paths on the admin port (the console: /ui/ and /v1/); false when not its own. */
export interface AdminExtension {
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean>;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function send(res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(text);
}

/** AdminServer serves the operator endpoints on a loopback address by default. */
export class AdminServer {
  private readonly _server: http.Server;
  private readonly _upSince = new Date();

  constructor(
    private readonly _source: AdminSource,
    private readonly _metrics: Registry,
    private readonly _logger: Logger,
    private readonly _extension?: AdminExtension,
  ) {
    this._server = http.createServer((req, res) => {
      this._handle(req, res).catch((err: unknown) => {
        this._logger.error({ err }, 'admin request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
      });
    });
  }

  private async _handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: `method ${req.method} not allowed` });
    }
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/') {
      // the Collector's health_check body: status, upSince, uptime
      const uptime = `${((Date.now() - this._upSince.getTime()) / 1000).toFixed(3)}s`;
      return send(res, 200, { status: 'Server available', upSince: this._upSince.toISOString(), uptime });
    }
    if (url.pathname === '/readyz') {
      const components = this._source.status();
      const ready = components.every((c) => c.ready);
      return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', components });
    }
    if (url.pathname === '/metrics') {
      return send(res, 200, await this._metrics.metrics(), this._metrics.contentType);
    }
    if (this._extension && (await this._extension.handle(req, res, url))) return;
    if (url.pathname === '/v1/config') return send(res, 200, redact(this._source.configDocument()));
    const decision = /^\/v1\/decisions\/([^/]+)$/.exec(url.pathname);
    if (decision) {
      const traceId = decodeURIComponent(decision[1]).toLowerCase();
      if (!TRACE_ID.test(traceId)) return send(res, 400, { error: 'trace id must be 32 hex characters' });
      const record = await this._source.explainDecision(traceId);
      return record ? send(res, 200, record) : send(res, 404, { error: `no decision known for trace ${traceId}` });
    }
    const endpoints = '/, /healthz, /readyz, /metrics, /v1/decisions/{traceId}, /v1/config';
    return send(res, 404, { error: `no such endpoint ${url.pathname}; try ${endpoints}` });
  }

  /** listen binds `endpoint` ("host:port") and resolves with the bound address. */
  listen(endpoint: string): Promise<AddressInfo> {
    const cut = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, cut).replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(endpoint.slice(cut + 1));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`admin server cannot listen on ${endpoint}: ${err.message}`));
      this._server.once('error', onError);
      this._server.listen(port, host, () => {
        this._server.off('error', onError);
        resolve(this._server.address() as AddressInfo);
      });
    });
  }

  /** close stops the server; idempotent. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this._server.listening) return resolve();
      this._server.close(() => resolve());
      this._server.closeAllConnections();
    });
  }
}
