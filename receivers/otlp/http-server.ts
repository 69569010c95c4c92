// OTLP/HTTP transport of the otlp receiver (node:http / node:https): POST /v1/traces and /v1/logs with
// protobuf or JSON bodies, gzip/deflate/zstd, size limits before and after decompression, the shared
// in-flight budget, bearer auth, CORS, and answers in the request's own content type.

import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { errorMessage } from '../../pipeline/sdk/errors';
import { isOtlpDecodeError, otlpJsonToProtobuf, type OtlpSignal } from '../../pipeline/sdk/otlp';
import { decompressZstdBounded } from '../../pipeline/sdk/zstd';
import type { OtlpReceiverConfig } from './config';
import { refuse, RequestError, type TransportOptions } from './handler';
import { exportResponseBody, statusBody, type Body, type ExportOk } from './responses';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

type Encoding = 'proto' | 'json';

const CONTENT_TYPES: Readonly<Record<string, Encoding>> = {
  'application/x-protobuf': 'proto',
  'application/protobuf': 'proto',
  'application/json': 'json',
};
const DEFAULT_CORS_HEADERS = ['content-type', 'content-encoding', 'authorization', 'accept', 'x-requested-with'];

/** OtlpHttpServerOptions is what the HTTP server needs from the receiver. */
export type OtlpHttpServerOptions = TransportOptions<OtlpReceiverConfig['http']>;

function originAllowed(origin: string, allowed: readonly string[]): boolean {
  for (const pattern of allowed) {
    if (pattern === '*' || pattern === origin) return true;
    if (pattern.includes('*')) {
      const re = new RegExp(
        `^${pattern
          .split('*')
          .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
          .join('[^/]*')}$`,
      );
      if (re.test(origin)) return true;
    }
  }
  return false;
}

/** OtlpHttpServer serves OTLP/HTTP; one instance per receiver. */
export class OtlpHttpServer {
  private readonly _server: http.Server;
  private readonly _active = new Set<http.ServerResponse>();
  private _draining = false;
  private _idle: (() => void) | undefined;

  constructor(private readonly _o: OtlpHttpServerOptions) {
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => this._onRequest(req, res);
    this._server = _o.tls
      ? https.createServer(
          {
            cert: _o.tls.cert,
            key: _o.tls.key,
            ca: _o.tls.ca,
            requestCert: _o.tls.ca !== undefined,
            rejectUnauthorized: _o.tls.ca !== undefined,
          },
          listener,
        )
      : http.createServer(listener);
    this._server.keepAliveTimeout = 65_000;
  }

  /** listen binds host:port; resolves with the bound address ("host:port"). */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this._server.once('error', onError);
      this._server.listen({ host, port }, () => {
        this._server.removeListener('error', onError);
        this._server.on('error', (err) => this._o.logger.error({ err }, 'OTLP/HTTP server error'));
        const addr = this._server.address();
        resolve(
          typeof addr === 'object' && addr !== null
            ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
            : String(addr),
        );
      });
    });
  }

  /** inflightRequests is the number of requests not answered yet. */
  get inflightRequests(): number {
    return this._active.size;
  }

  /** stopAccepting closes the listener and idle keep-alive connections; new requests on open ones get 503. */
  stopAccepting(): void {
    this._draining = true;
    this._server.close();
    this._server.closeIdleConnections();
  }

  /** drained resolves when no request is being processed. */
  drained(): Promise<void> {
    if (this._active.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this._idle = resolve;
    });
  }

  /** closeAll drops every connection (after the drain or its timeout). */
  closeAll(): void {
    this._server.closeAllConnections();
  }

  private _onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this._active.add(res);
    res.on('close', () => {
      this._active.delete(res);
      if (this._active.size === 0 && this._idle) {
        const idle = this._idle;
        this._idle = undefined;
        idle();
      }
    });
    this._handle(req, res).catch((err: unknown) => {
      this._o.logger.error({ err }, 'OTLP/HTTP request failed unexpectedly');
      if (!res.headersSent) this._send(res, 'json', 500, statusBody(13, 'internal error').json, {});
      else res.destroy();
    });
  }

  private async _handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const c = this._o.config;
    const path = (req.url ?? '/').split('?', 1)[0];
    const signal: OtlpSignal | undefined =
      path === c.traces_path ? 'traces' : path === c.logs_path ? 'logs' : undefined;
    const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0].trim().toLowerCase();
    const encoding: Encoding = CONTENT_TYPES[mediaType] ?? 'json';
    const cors = this._corsHeaders(req);

    let reserved = 0;
    try {
      if (signal === undefined)
        throw refuse.notFound(`unknown path ${path}; OTLP/HTTP accepts ${c.traces_path} and ${c.logs_path}`);
      if (req.method === 'OPTIONS' && c.cors_allowed_origins.length > 0) return this._preflight(req, res, cors);
      if (req.method !== 'POST')
        throw refuse.methodNotAllowed(c.cors_allowed_origins.length > 0 ? 'POST, OPTIONS' : 'POST');
      if (signal === 'logs' && !this._o.handler.logsEnabled)
        throw refuse.notFound(`${c.logs_path}: this receiver feeds no logs pipeline`);
      if (this._o.auth && !this._o.auth.check(req.headers.authorization)) throw refuse.unauthenticated();
      if (CONTENT_TYPES[mediaType] === undefined) {
        throw refuse.unsupportedMedia(
          `unsupported content type ${JSON.stringify(mediaType)}; use application/x-protobuf or application/json`,
        );
      }
      const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
      if (!['', 'identity', 'gzip', 'x-gzip', 'deflate', 'zstd'].includes(contentEncoding)) {
        throw refuse.unsupportedMedia(
          `unsupported content encoding ${JSON.stringify(contentEncoding)}; use gzip, deflate, zstd or none`,
        );
      }
      if (this._draining) throw refuse.draining(this._o.retryAfterMs);
      const limit = c.max_request_body_size;
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > limit)
        throw refuse.tooLarge(`request body of ${declared} bytes is over the limit of ${limit} bytes`);

      // Body, counted against the in-flight budget as it arrives.
      const chunks: Buffer[] = [];
      let size = 0;
      await new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (err: Error) => {
          failed = true;
          reject(err);
        };
        req.on('data', (chunk: Buffer) => {
          if (failed) return;
          size += chunk.length;
          if (size > limit) return fail(refuse.tooLarge(`request body is over the limit of ${limit} bytes`));
          if (!this._o.budget.tryAcquire(chunk.length)) {
            return fail(refuse.overBudget(this._o.retryAfterMs));
          }
          reserved += chunk.length;
          chunks.push(chunk);
        });
        req.on('end', resolve);
        req.on('error', fail);
        req.on('close', () => {
          if (!req.readableEnded) fail(new Error('client closed the connection before the body was complete'));
        });
      });
      this._o.metrics.received('http', signal, size);
      let body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);

      if (body.length > 0 && contentEncoding !== '' && contentEncoding !== 'identity') {
        body = await decompress(body, contentEncoding, limit);
        if (!this._o.budget.tryAcquire(body.length)) {
          throw refuse.overBudget(this._o.retryAfterMs);
        }
        reserved += body.length;
      }

      let ok: ExportOk = { accepted: 0, rejected: 0 };
      if (body.length > 0) {
        let proto: Uint8Array = body;
        if (encoding === 'json') {
          try {
            proto = otlpJsonToProtobuf(body.toString('utf8'), signal);
          } catch (err) {
            if (isOtlpDecodeError(err)) throw refuse.invalid(errorMessage(err));
            throw err;
          }
        }
        ok = await this._o.handler.export('http', signal, proto);
      }
      const response = exportResponseBody(signal, ok);
      this._o.metrics.request('http', signal, ok.rejected > 0 ? 'partial' : 'success');
      this._send(res, encoding, 200, encoding === 'proto' ? response.proto : response.json, cors);
    } catch (err) {
      if (!(err instanceof RequestError)) {
        if (req.destroyed || res.destroyed) return; // client went away mid-body: nobody to answer
        throw err;
      }
      this._o.metrics.request('http', signal ?? 'unknown', err.outcome);
      this._answerError(req, res, encoding, err, cors);
    } finally {
      this._o.budget.release(reserved);
    }
  }

  private _answerError(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    encoding: Encoding,
    err: RequestError,
    cors: Record<string, string>,
  ): void {
    const headers: Record<string, string> = { ...cors, ...err.headers };
    if (err.retryAfterMs !== undefined)
      headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    const body: Body = statusBody(err.grpcCode, err.message, err.retryAfterMs);
    const complete = req.readableEnded;
    if (!complete) headers.Connection = 'close'; // the body was not read: do not reuse the connection
    this._send(res, encoding, err.httpStatus, encoding === 'proto' ? body.proto : body.json, headers);
    if (!complete) {
      // Discard what the client still sends (so it can read the answer), but not for long.
      req.removeAllListeners('data');
      req.resume();
      const timer = setTimeout(() => req.socket.destroy(), 2000);
      timer.unref();
      req.once('end', () => clearTimeout(timer));
    }
  }

  private _send(
    res: http.ServerResponse,
    encoding: Encoding,
    status: number,
    body: Uint8Array | string,
    headers: Record<string, string>,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const payload =
      typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    res.writeHead(status, {
      ...headers,
      'Content-Type': encoding === 'proto' ? 'application/x-protobuf' : 'application/json',
      'Content-Length': String(payload.length),
    });
    res.end(payload);
  }

  private _corsHeaders(req: http.IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    const allowed = this._o.config.cors_allowed_origins;
    if (origin === undefined || allowed.length === 0 || !originAllowed(origin, allowed)) return {};
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  private _preflight(req: http.IncomingMessage, res: http.ServerResponse, cors: Record<string, string>): void {
    if (cors['Access-Control-Allow-Origin'] === undefined) {
      res.writeHead(403, { 'Content-Length': '0' });
      res.end();
      return;
    }
    const extra = this._o.config.cors_allowed_headers.map((h) => h.toLowerCase());
    const allowedHeaders = new Set([...DEFAULT_CORS_HEADERS, ...extra]);
    const requested = (req.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '');
    res.writeHead(204, {
      ...cors,
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': (requested.length > 0
        ? requested.filter((h) => allowedHeaders.has(h))
        : [...allowedHeaders]
      ).join(', '),
      'Access-Control-Max-Age': '7200',
      'Content-Length': '0',
    });
    res.end();
  }
}

/**
 * decompress inflates a gzip/deflate/zstd body without ever holding much more than `limit` bytes of output
 * (bombs): zlib stops as soon as the output passes `limit`; zstd is refused from its frame headers before
 * decompressing when it could exceed it (pipeline/sdk/zstd.ts).
 */
async function decompress(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  const opts = { maxOutputLength: limit };
  try {
    if (encoding === 'zstd') return await decompressZstdBounded(body, limit);
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(body, opts);
    try {
      return await inflate(body, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') return await inflateRaw(body, opts); // raw deflate without zlib header
      throw err;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
      throw refuse.tooLarge(`decompressed request body is over the limit of ${limit} bytes`);
    throw refuse.invalid(`cannot decompress ${encoding} body: ${errorMessage(err)}`);
  }
}
