// The transport under @opentelemetry/exporter-jaeger. The library's HTTP sender (jaeger-client 3.19
// HTTPSender, verified by reading it and by tests) reports failures only as a string, counts any status
// below 400 (redirects included) as delivered, sets a socket timeout without a handler (a server that
// never answers hangs the export forever), and cannot send custom headers. So we subclass it and replace
// only `flush`: the library still appends spans and encodes the thrift Batch; we POST it with a real
// deadline, headers and TLS, and keep the structured failure (status, Retry-After) for the caller.
// UDP (protocol "udp") uses the library's UDPSender unchanged: fire-and-forget, lost datagrams report success.
//
// The sender is installed into a JaegerExporter through its private `_sender` field (installSender). Both
// touch points (`_sender`, and HTTPSender's `_batch` / `_jaegerThrift` / `_reset`) are pinned by tests in
// test/exporters/jaeger/sender.test.ts, so an upgrade that moves them fails loudly.

import type * as http from 'node:http';
import type { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import { HTTPSender, ThriftUtils, UDPSender } from '@opentelemetry/exporter-jaeger/build/src/types';
import type { Attributes } from '@opentelemetry/api';
import { errorMessage } from '../../pipeline/sdk/errors';
import { ExporterErrorCode, ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import { httpStatusError, postBytes } from '../../pipeline/sdk/exporterhelper/http';
import { tagValue } from './thrift-shape';

/** SenderCallback is jaeger-client's sender callback: spans handled, and an error text on failure. */
type SenderCallback = (numSpans: number, err?: string) => void;

/** The parts of jaeger-client's HTTPSender this file relies on. */
interface HttpSenderInternals {
  _batch: { spans: unknown[] };
  _jaegerThrift: { Batch: { rw: { toBuffer(batch: unknown): { err?: unknown; value: Buffer } } } };
  _reset(): void;
  setProcess(process: { serviceName: string; tags: unknown[] }): void;
  close(): void;
}

const HttpSenderBase = HTTPSender as new (options: Record<string, unknown>) => HttpSenderInternals;

/** JaegerSender is what a JaegerExporter instance sends through. */
export interface JaegerSender {
  /** The failure of the last flush, with status and Retry-After when known; cleared by take. */
  takeFailure(): ExportError | undefined;
  close(): void;
}

/** HttpSenderOptions configure the thrift-over-HTTP transport. */
export interface HttpSenderOptions {
  readonly endpoint: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
  /** Spans buffered before the library flushes on its own; set above the largest export so only our flush sends. */
  readonly maxSpanBatchSize: number;
}

/** ThriftHttpSender is jaeger-client's HTTPSender with a flush that POSTs through postBytes (see the file header). */
export class ThriftHttpSender extends HttpSenderBase implements JaegerSender {
  private _failure?: ExportError;
  private readonly _abort = new AbortController();

  constructor(private readonly _o: HttpSenderOptions) {
    super({ endpoint: _o.endpoint.href, maxSpanBatchSize: _o.maxSpanBatchSize });
  }

  /** flush encodes the buffered spans as one thrift Batch and POSTs it; the callback gets an error text on failure. */
  flush(callback?: SenderCallback): void {
    const n = this._batch.spans.length;
    if (n === 0) {
      callback?.(0);
      return;
    }
    const encoded = this._jaegerThrift.Batch.rw.toBuffer(this._batch);
    this._reset();
    if (encoded.err) {
      this._fail(new ExportError(ExporterErrorCode.BAD_DATA, `thrift encoding failed: ${errorMessage(encoded.err)}`, { retriable: false }), n, callback);
      return;
    }
    const url = this._o.endpoint;
    postBytes(url, encoded.value, {
      headers: { ...this._o.headers, 'content-type': 'application/x-thrift' },
      timeoutMs: this._o.timeoutMs,
      agent: this._o.agent,
      signal: this._abort.signal,
    }).then(
      (res) => {
        const err = httpStatusError(`POST ${url.origin}${url.pathname}`, res);
        if (err) this._fail(err, n, callback);
        else callback?.(n);
      },
      (err: unknown) => this._fail(err instanceof ExportError ? err : new ExportError(ExporterErrorCode.NETWORK, errorMessage(err), { cause: err, retriable: true }), n, callback),
    );
  }

  takeFailure(): ExportError | undefined {
    const f = this._failure;
    this._failure = undefined;
    return f;
  }

  /** close aborts requests in flight and closes the connections. Idempotent. */
  override close(): void {
    if (this._abort.signal.aborted) return;
    this._abort.abort();
    super.close();
    this._o.agent.destroy();
  }

  private _fail(err: ExportError, n: number, callback?: SenderCallback): void {
    this._failure = err;
    callback?.(n, err.message);
  }
}

/** UdpSenderOptions configure the lossy UDP transport (binary thrift to a Jaeger agent, port 6832). */
export interface UdpSenderOptions {
  readonly host: string;
  readonly port: number;
  readonly maxPacketSize: number;
}

/** createUdpSender wraps jaeger-client's UDPSender (binary thrift to an agent); lost datagrams still report success. */
export function createUdpSender(o: UdpSenderOptions): JaegerSender & { setProcess(p: unknown): void } {
  const s = new (UDPSender as new (opts: Record<string, unknown>) => { _client?: { unref(): void }; setProcess(p: unknown): void; close(): void })({
    host: o.host,
    port: o.port,
    maxPacketSize: o.maxPacketSize,
  });
  s._client?.unref();
  const closeOnce = s.close.bind(s);
  let closed = false;
  return Object.assign(s, {
    takeFailure: () => undefined,
    close: () => {
      if (closed) return;
      closed = true;
      closeOnce();
    },
  });
}

/** processOf builds the thrift Process of an exporter instance: the service name and the tags (arrays as JSON). */
export function processOf(serviceName: string, tags: Attributes): { serviceName: string; tags: unknown[] } {
  const list = Object.entries(tags)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([key, v]) => ({ key, value: tagValue(v!) }));
  return { serviceName, tags: ThriftUtils.getThriftTags(list) };
}

/**
 * installSender makes `exporter` send through `sender` with `process` (service name + tags) instead of
 * creating its own sender from the first span it sees.
 */
export function installSender(exporter: JaegerExporter, sender: JaegerSender & { setProcess(p: unknown): void }, process: { serviceName: string; tags: unknown[] }): void {
  sender.setProcess(process);
  (exporter as unknown as { _sender?: unknown })._sender = sender;
}
