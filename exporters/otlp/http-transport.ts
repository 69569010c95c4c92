// OTLP/HTTP transport: POST application/x-protobuf to /v1/traces or /v1/logs (optionally gzip), classify the answer
// (2xx ok, with partial_success read; 408/429/502/503/504 and other 5xx retriable with Retry-After; other
// 4xx permanent, with the google.rpc.Status message when the server sent one).

import type * as http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { otlpTypes } from '../../pipeline/sdk/otlp';
import { ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import type { ExportSignal } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import { httpStatusError, postBytes } from '../../pipeline/sdk/exporterhelper/http';
import type { HttpResponse } from '../../pipeline/sdk/exporterhelper/http';

const gzipAsync = promisify(gzip);

/** PartialSuccess is what the server said it rejected from an accepted request. */
export interface PartialSuccess {
  /** Spans (traces request) or log records (logs request) rejected. */
  readonly rejected: number;
  readonly errorMessage: string;
}

type Int64 = number | { toNumber(): number } | undefined;
interface PartialSuccessFields {
  partial_success?: { rejected_spans?: Int64; rejected_log_records?: Int64; error_message?: string };
}

/**
 * decodePartialSuccess reads partial_success of an ExportTraceServiceResponse (or, for `logs`, an
 * ExportLogsServiceResponse); undefined when absent or unreadable.
 */
export function decodePartialSuccess(body: Uint8Array, kind: ExportSignal = 'traces'): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    const t = otlpTypes();
    const msg = (kind === 'logs' ? t.ExportLogsServiceResponse : t.ExportTraceServiceResponse).decode(
      body,
    ) as unknown as PartialSuccessFields;
    const ps = msg.partial_success;
    if (!ps) return undefined;
    const r = kind === 'logs' ? ps.rejected_log_records : ps.rejected_spans;
    const rejected = typeof r === 'number' ? r : r ? r.toNumber() : 0;
    if (rejected === 0 && !ps.error_message) return undefined;
    return { rejected, errorMessage: ps.error_message ?? '' };
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
  /** Where each signal's requests go. */
  readonly urls: Readonly<Record<ExportSignal, URL>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip: boolean;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
}

/** HttpTransport sends one encoded ExportTraceServiceRequest (or ExportLogsServiceRequest) per call. */
export class HttpTransport {
  constructor(private readonly _o: HttpTransportOptions) {}

  /** send POSTs the body; resolves with the partial success, if any; rejects with an ExportError. */
  async send(kind: ExportSignal, body: Uint8Array, signal: AbortSignal): Promise<PartialSuccess | undefined> {
    const headers: Record<string, string> = {
      ...this._o.headers,
      'content-type': 'application/x-protobuf',
      accept: 'application/x-protobuf',
    };
    let payload = body;
    if (this._o.gzip) {
      payload = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    const url = this._o.urls[kind];
    const res = await postBytes(url, payload, { headers, timeoutMs: this._o.timeoutMs, agent: this._o.agent, signal });
    const err = httpStatusError(`POST ${url.origin}${url.pathname}`, res);
    if (err) {
      const detail = rpcStatusMessage(res);
      throw detail
        ? new ExportError(err.code, `${err.message}: ${detail}`, {
            status: err.status,
            retriable: err.retriable,
            retryAfterMs: err.retryAfterMs,
          })
        : err;
    }
    return String(res.headers['content-type'] ?? '').includes('protobuf')
      ? decodePartialSuccess(res.body, kind)
      : undefined;
  }

  /** close drops pooled connections. */
  close(): void {
    this._o.agent.destroy();
  }
}
