// OTLP/HTTP transport: POST application/x-protobuf to /v1/traces (optionally gzip), classify the answer
// (2xx ok, with partial_success read; 408/429/502/503/504 and other 5xx retriable with Retry-After; other
// 4xx permanent, with the google.rpc.Status message when the server sent one).

import type * as http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { otlpTypes } from '../../pipeline/otlp';
import { ExportError } from '../shared/errors';
import { httpStatusError, postBytes } from '../shared/http';
import type { HttpResponse } from '../shared/http';

const gzipAsync = promisify(gzip);

/** PartialSuccess is what the server said it rejected from an accepted request. */
export interface PartialSuccess {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}

/** decodePartialSuccess reads ExportTraceServiceResponse.partial_success; undefined when absent or unreadable. */
export function decodePartialSuccess(body: Uint8Array): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    const msg = otlpTypes().ExportTraceServiceResponse.decode(body) as unknown as { partial_success?: { rejected_spans?: number | { toNumber(): number }; error_message?: string } };
    const ps = msg.partial_success;
    if (!ps) return undefined;
    const r = ps.rejected_spans;
    const rejectedSpans = typeof r === 'number' ? r : r ? r.toNumber() : 0;
    if (rejectedSpans === 0 && !ps.error_message) return undefined;
    return { rejectedSpans, errorMessage: ps.error_message ?? '' };
  } catch {
    return undefined;
  }
}

function rpcStatusMessage(res: HttpResponse): string | undefined {
  if (!String(res.headers['content-type'] ?? '').includes('protobuf') || res.body.length === 0) return undefined;
  try {
    const st = otlpTypes().RpcStatus.decode(res.body) as unknown as { message?: string };
    return st.message || undefined;
  } catch {
    return undefined;
  }
}

/** HttpTransportOptions configure the OTLP/HTTP transport. */
export interface HttpTransportOptions {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
}

/** HttpTransport sends one encoded ExportTraceServiceRequest per call. */
export class HttpTransport {
  constructor(private readonly _o: HttpTransportOptions) {}

  /** send POSTs the body; resolves with the partial success, if any; rejects with an ExportError. */
  async send(body: Uint8Array, signal: AbortSignal): Promise<PartialSuccess | undefined> {
    const headers: Record<string, string> = { ...this._o.headers, 'content-type': 'application/x-protobuf', accept: 'application/x-protobuf' };
    let payload = body;
    if (this._o.gzip) {
      payload = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    const url = this._o.url;
    const res = await postBytes(url, payload, { headers, timeoutMs: this._o.timeoutMs, agent: this._o.agent, signal });
    const err = httpStatusError(`POST ${url.origin}${url.pathname}`, res);
    if (err) {
      const detail = rpcStatusMessage(res);
      throw detail ? new ExportError(err.code, `${err.message}: ${detail}`, { status: err.status, retriable: err.retriable, retryAfterMs: err.retryAfterMs }) : err;
    }
    return String(res.headers['content-type'] ?? '').includes('protobuf') ? decodePartialSuccess(res.body) : undefined;
  }

  /** close drops pooled connections. */
  close(): void {
    this._o.agent.destroy();
  }
}
