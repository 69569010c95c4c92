// One HTTP POST with a real deadline, TLS options and keep-alive, and the status classification the
// exporters share: 2xx ok; 408/429/502/503/504 retriable (Retry-After honoured); other 4xx permanent;
// other 5xx retriable; redirects are failures (a 3xx never counts as delivered).

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { TlsConfig } from './config';
import { ExporterErrorCode, ExportError } from './errors';

/** HttpResponse is what came back from a POST. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** PostOptions describe one POST. */
export interface PostOptions {
  readonly headers: Readonly<Record<string, string>>;
  /** Deadline of the whole request (connect, send, answer), in ms. */
  readonly timeoutMs: number;
  /** Connection pool (keep-alive, TLS). */
  readonly agent: http.Agent;
  /** Aborting cancels the request. */
  readonly signal?: AbortSignal;
  /** Largest response body kept, in bytes (the rest is read and dropped). Default 64 KiB. */
  readonly maxResponseBytes?: number;
}

/** TlsMaterial is the tls section with its files read. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
}

/** loadTls reads the files named by a tls section (throws when one cannot be read). */
export function loadTls(tls: TlsConfig): TlsMaterial {
  return {
    ca: tls.ca_file ? fs.readFileSync(tls.ca_file) : undefined,
    cert: tls.cert_file ? fs.readFileSync(tls.cert_file) : undefined,
    key: tls.key_file ? fs.readFileSync(tls.key_file) : undefined,
    rejectUnauthorized: !tls.insecure_skip_verify,
    servername: tls.server_name_override || undefined,
  };
}

/** createAgent builds a keep-alive agent for the endpoint's scheme (TLS material used for https only). */
export function createAgent(endpoint: URL, tls: TlsMaterial, maxSockets: number): http.Agent {
  if (endpoint.protocol === 'https:') return new https.Agent({ keepAlive: true, maxSockets, ...tls });
  return new http.Agent({ keepAlive: true, maxSockets });
}

/**
 * postBytes sends `body` and resolves with the answer, whatever its status. It rejects with a retriable
 * ExportError NETWORK when no answer could be read and TIMEOUT when `timeoutMs` passed first.
 */
export function postBytes(url: URL, body: Uint8Array, opts: PostOptions): Promise<HttpResponse> {
  const maxKeep = opts.maxResponseBytes ?? 64 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: ExportError | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const request = url.protocol === 'https:' ? https.request : http.request;
    const req = request(url, {
      method: 'POST',
      agent: opts.agent,
      headers: { ...opts.headers, 'content-length': String(body.byteLength) },
    });
    const timer = setTimeout(() => {
      finish(
        new ExportError(
          ExporterErrorCode.TIMEOUT,
          `POST ${url.origin}${url.pathname}: no answer within ${opts.timeoutMs}ms`,
          { retriable: true },
        ),
      );
      req.destroy();
    }, opts.timeoutMs);
    const onAbort = () => {
      finish(
        new ExportError(ExporterErrorCode.NETWORK, `POST ${url.origin}${url.pathname}: aborted`, { retriable: true }),
      );
      req.destroy();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    req.on('error', (err) => {
      finish(
        new ExportError(ExporterErrorCode.NETWORK, `POST ${url.origin}${url.pathname}: ${err.message}`, {
          cause: err,
          retriable: true,
        }),
      );
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      let kept = 0;
      res.on('data', (d: Buffer) => {
        if (kept < maxKeep) {
          parts.push(d);
          kept += d.length;
        }
      });
      res.on('error', (err) => {
        finish(
          new ExportError(
            ExporterErrorCode.NETWORK,
            `POST ${url.origin}${url.pathname}: reading the answer: ${err.message}`,
            { cause: err, retriable: true },
          ),
        );
      });
      res.on('end', () =>
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
    });
    req.end(body);
  });
}

/** parseRetryAfter reads a Retry-After header (delay-seconds or an HTTP date) as milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** RETRIABLE_HTTP_STATUSES are the 4xx/5xx answers worth retrying (OTLP/HTTP spec: 429, 502, 503, 504; plus 408). */
export const RETRIABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/**
 * httpStatusError turns a non-2xx answer into an ExportError: permanent for 4xx other than 408/429 (and for
 * 3xx, since following redirects with trace data is not done); retriable for 408, 429 and every 5xx. The
 * Retry-After header becomes `retryAfterMs`. Returns undefined for 2xx.
 */
export function httpStatusError(what: string, res: HttpResponse): ExportError | undefined {
  const s = res.status;
  if (s >= 200 && s < 300) return undefined;
  const retriable = RETRIABLE_HTTP_STATUSES.has(s) || s >= 500;
  const type = String(res.headers['content-type'] ?? '');
  const readable = res.body.length > 0 && (type.startsWith('text/') || type.includes('json'));
  const detail = readable
    ? `: ${res.body.toString('utf8', 0, Math.min(res.body.length, 300)).replace(/\s+/g, ' ').trim()}`
    : '';
  return new ExportError(ExporterErrorCode.HTTP_STATUS, `${what}: HTTP ${s}${detail}`, {
    status: s,
    retriable,
    retryAfterMs: retriable ? parseRetryAfter(res.headers['retry-after']) : undefined,
  });
}
