// The transports of the `jaeger` exporter. HTTP: one thrift Batch per POST to the collector's /api/traces,
// with a real deadline, custom headers, TLS and a structured failure (status, Retry-After), through the
// exporters' shared postBytes; 3xx and 4xx other than 408/429 are permanent, 408/429/5xx retriable. UDP: the
// agent's one-way `emitBatch` message, spans packed into datagrams of at most max_packet_size bytes;
// fire-and-forget, so a datagram lost on the way still counts as sent.

import * as dgram from 'node:dgram';
import type * as http from 'node:http';
import { ExporterErrorCode, ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import { httpStatusError, postBytes } from '../../pipeline/sdk/exporterhelper/http';
import type { JaegerThrift, ThriftBatch, ThriftSpan } from './thrift';

/** JaegerSender delivers one thrift batch per call; it rejects with an ExportError whose `retriable` drives retries. */
export interface JaegerSender {
  send(batch: ThriftBatch, signal: AbortSignal): Promise<void>;
  /** close aborts sends in flight and releases sockets. Idempotent. */
  close(): void;
}

/** HttpSenderOptions configure the thrift-over-HTTP transport. */
export interface HttpSenderOptions {
  readonly endpoint: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
  /** POSTs in flight at once (the agent's sockets); more wait for a free one before their deadline starts. */
  readonly maxConcurrent: number;
}

/**
 * HttpSender POSTs each batch as `application/x-thrift` to a Jaeger collector, at most `maxConcurrent` at a
 * time: a batch waits for a free connection before its `timeoutMs` deadline starts.
 */
export class HttpSender implements JaegerSender {
  private readonly _closed = new AbortController();
  private readonly _headers: Readonly<Record<string, string>>;
  private _inFlight = 0;
  private readonly _waiting: Array<() => void> = [];

  constructor(
    private readonly _thrift: JaegerThrift,
    private readonly _o: HttpSenderOptions,
  ) {
    this._headers = { ..._o.headers, 'content-type': 'application/x-thrift' };
  }

  async send(batch: ThriftBatch, signal: AbortSignal): Promise<void> {
    const body = this._thrift.encodeBatch(batch);
    const url = this._o.endpoint;
    const abort = AbortSignal.any([signal, this._closed.signal]);
    await this._acquire(abort);
    try {
      const res = await postBytes(url, body, {
        headers: this._headers,
        timeoutMs: this._o.timeoutMs,
        agent: this._o.agent,
        signal: abort,
      });
      const err = httpStatusError(`POST ${url.origin}${url.pathname}`, res);
      if (err) throw err;
    } finally {
      this._release();
    }
  }

  close(): void {
    if (this._closed.signal.aborted) return;
    this._closed.abort();
    this._o.agent.destroy();
  }

  /** _acquire resolves once a connection slot is free; rejects retriably when `signal` aborts first. */
  private _acquire(signal: AbortSignal): Promise<void> {
    const aborted = () => new ExportError(ExporterErrorCode.NETWORK, 'export aborted', { retriable: true });
    if (signal.aborted) return Promise.reject(aborted());
    if (this._inFlight < this._o.maxConcurrent) {
      this._inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this._inFlight++;
        resolve();
      };
      const onAbort = () => {
        this._waiting.splice(this._waiting.indexOf(grant), 1);
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this._waiting.push(grant);
    });
  }

  private _release(): void {
    this._inFlight--;
    this._waiting.shift()?.();
  }
}

/** UdpSenderOptions configure the lossy UDP transport (binary thrift to a Jaeger agent, port 6832). */
export interface UdpSenderOptions {
  readonly host: string;
  readonly port: number;
  /** Largest datagram, in bytes. */
  readonly maxPacketSize: number;
}

/**
 * UdpSender sends each batch as one or more `emitBatch` datagrams, packing spans in order while they fit. A
 * span that cannot fit in a datagram on its own rejects the whole batch permanently (BAD_DATA) before
 * anything is sent; a socket error rejects retriably (NETWORK).
 */
export class UdpSender implements JaegerSender {
  private _socket?: dgram.Socket;

  constructor(
    private readonly _thrift: JaegerThrift,
    private readonly _o: UdpSenderOptions,
  ) {}

  async send(batch: ThriftBatch, signal: AbortSignal): Promise<void> {
    for (const spans of this.pack(batch)) {
      if (signal.aborted) throw new ExportError(ExporterErrorCode.NETWORK, 'export aborted', { retriable: true });
      await this._sendDatagram(this._thrift.encodeEmitBatch({ process: batch.process, spans }));
    }
  }

  /** pack cuts the batch's spans into datagram-sized groups (throws BAD_DATA for a span too large for any). */
  pack(batch: ThriftBatch): ThriftSpan[][] {
    const room = this._o.maxPacketSize - this._thrift.emitBatchOverhead(batch.process);
    const packets: ThriftSpan[][] = [];
    let current: ThriftSpan[] = [];
    let used = 0;
    for (const span of batch.spans) {
      const size = this._thrift.spanLength(span);
      if (size > room) {
        throw new ExportError(
          ExporterErrorCode.BAD_DATA,
          `span ${span.spanId.toString('hex')} needs ${size} bytes, more than the ${room} ` +
            `a datagram of ${this._o.maxPacketSize} bytes leaves`,
          { retriable: false },
        );
      }
      if (used + size > room) {
        packets.push(current);
        current = [];
        used = 0;
      }
      current.push(span);
      used += size;
    }
    if (current.length > 0) packets.push(current);
    return packets;
  }

  close(): void {
    this._socket?.close();
    this._socket = undefined;
  }

  private _sendDatagram(bytes: Buffer): Promise<void> {
    if (!this._socket) {
      this._socket = dgram.createSocket(this._o.host.includes(':') ? 'udp6' : 'udp4');
      // Errors also reach the send callback; this listener keeps an unhandled 'error' event from crashing.
      this._socket.on('error', () => undefined);
      this._socket.unref();
    }
    const socket = this._socket;
    return new Promise((resolve, reject) => {
      socket.send(bytes, this._o.port, this._o.host, (err) => {
        if (err)
          reject(
            new ExportError(ExporterErrorCode.NETWORK, `UDP send to ${this._o.host}:${this._o.port}: ${err.message}`, {
              cause: err,
              retriable: true,
            }),
          );
        else resolve();
      });
    });
  }
}
