// The web console on the admin server: serves the bundled UI (dist/console, built by `npm run build`) at
// /ui/, answers the /v1/ endpoints of api.ts and the decision stream of stream.ts, and, when a token is
// configured, requires it on /ui/ and every /v1/ endpoint (Authorization: Bearer, or the cookie set by opening
// /ui/?token=...).

import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConsoleApi, NotFound, type ConsoleSource } from './api';
import { ConsoleError } from './errors';
import { JaegerQuery } from './jaeger-query';
import { MetricsRing, type MetricsRingOptions } from './ring';
import { packageRoot } from '../package-info';
import { DecisionStreams, type DecisionStreamOptions } from './stream';

/** Options of the console. */
export interface ConsoleOptions {
  /** Base URL of Jaeger's query API. */
  readonly jaegerQuery: string;
  /** Bearer token; empty = no token required. */
  readonly token: string;
  /** Folder with the built UI; default <package>/dist/console. */
  readonly staticDir?: string;
  readonly ring?: MetricsRingOptions;
  readonly jaegerTimeoutMs?: number;
  /** Limits of the decision stream (/v1/decisions/stream). */
  readonly stream?: DecisionStreamOptions;
}

const COOKIE = 'tusk_console_token';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.json': 'application/json',
};

/** defaultStaticDir is where `npm run build` puts the UI bundle. */
export function defaultStaticDir(): string {
  return path.join(packageRoot(), 'dist', 'console');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Console serves the UI and its endpoints; start() begins sampling metrics, stop() ends it (idempotent). */
export class Console {
  readonly ring: MetricsRing;
  private readonly _api: ConsoleApi;
  private readonly _streams: DecisionStreams;
  private readonly _staticDir: string;

  constructor(
    source: ConsoleSource,
    metrics: Registry,
    private readonly _opts: ConsoleOptions,
    private readonly _logger: Logger,
  ) {
    this.ring = new MetricsRing(metrics, _opts.ring);
    this._api = new ConsoleApi(source, this.ring, new JaegerQuery(_opts.jaegerQuery, _opts.jaegerTimeoutMs));
    this._streams = new DecisionStreams(() => source.insightProviders(), _opts.stream);
    this._staticDir = _opts.staticDir ?? defaultStaticDir();
  }

  /** Decision streams open now. */
  get openStreams(): number {
    return this._streams.open;
  }

  start(): void {
    this.ring.start();
  }

  /** stop ends the metrics sampling and every open decision stream; idempotent. */
  stop(): void {
    this.ring.stop();
    this._streams.closeAll();
  }

  /** authorized tells whether a request may see /ui/ and /v1/ (always true without a token). */
  authorized(req: http.IncomingMessage): boolean {
    const token = this._opts.token;
    if (token === '') return true;
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Bearer ') && sameSecret(auth.slice(7).trim(), token)) return true;
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === COOKIE && sameSecret(decodeURIComponent(v.join('=')), token)) return true;
    }
    return false;
  }

  /**
   * handle answers the request when it is the console's (or refuses it without the token); resolves false
   * for paths the admin server answers itself (/healthz, /readyz, /metrics, /v1/decisions/{id}, /v1/config).
   */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    const p = url.pathname;
    const isUi = p === '/ui' || p.startsWith('/ui/');
    if (!isUi && !p.startsWith('/v1/')) return false;
    if (isUi && this._opts.token !== '' && url.searchParams.has('token')) {
      const given = url.searchParams.get('token') ?? '';
      if (sameSecret(given, this._opts.token)) {
        res.writeHead(303, {
          location: '/ui/',
          'set-cookie': `${COOKIE}=${encodeURIComponent(given)}; Path=/; HttpOnly; SameSite=Strict`,
        });
        res.end();
        return true;
      }
    }
    if (!this.authorized(req)) {
      if (isUi) {
        res.writeHead(401, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(
          '<!doctype html><title>tusk-collector console</title><p>This console needs its token: open ' +
            '<code>/ui/?token=YOUR_TOKEN</code> (service.console.token or TUSK_ADMIN_TOKEN).</p>\n',
        );
      } else {
        res.setHeader('www-authenticate', 'Bearer realm="tusk-collector"');
        sendJson(res, 401, {
          error: 'this endpoint needs the console token: send Authorization: Bearer <token>',
          code: 'ERR_CONSOLE_UNAUTHORIZED',
        });
      }
      return true;
    }
    if (isUi) {
      if (p === '/ui') {
        res.writeHead(302, { location: '/ui/' });
        res.end();
        return true;
      }
      this._static(p.slice('/ui/'.length), res);
      return true;
    }
    try {
      if (p === '/v1/decisions/stream') {
        this._streams.handle(req, res, url.searchParams);
        return true;
      }
      const body = await this._api.route(p, url.searchParams);
      if (body === undefined) return false;
      if (body instanceof NotFound) sendJson(res, 404, body.body);
      else sendJson(res, 200, body);
    } catch (err) {
      if (err instanceof ConsoleError) {
        if (err.status === 503) res.setHeader('retry-after', '10');
        sendJson(res, err.status, { error: err.message, code: err.code });
      } else {
        this._logger.error({ err, path: p }, 'console endpoint failed');
        sendJson(res, 500, {
          error: `internal error: ${err instanceof Error ? err.message : String(err)}`,
          code: 'ERR_CONSOLE_INTERNAL',
        });
      }
    }
    return true;
  }

  private _static(rel: string, res: http.ServerResponse): void {
    const file = rel === '' ? 'index.html' : rel;
    const full = path.resolve(this._staticDir, file);
    if (!full.startsWith(path.resolve(this._staticDir) + path.sep)) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(full);
    } catch {
      if (file === 'index.html') {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`the console is not built: run \`npm run build\` (no ${full})\n`);
      } else sendJson(res, 404, { error: `no such console file ${rel}` });
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(full)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(data);
  }
}
