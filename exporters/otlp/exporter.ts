// The `otlp` exporter: forwards trace chunks as OTLP without decoding them. Chunks are byte-concatenated
// (concatenated ExportTraceServiceRequests are one valid message: protobuf merges repeated fields) into
// requests of at most max_request_bytes, sent over OTLP/HTTP or OTLP/gRPC through the shared
// queue/retry/dead-letter skeleton.

import type { ComponentSettings } from '../../pipeline/component';
import type { TraceBatch, TraceChunk } from '../../pipeline/trace-batch';
import { QueuedExporter } from '../shared/exporter-helper';
import type { ExportRequest, SplitResult } from '../shared/exporter-helper';
import { createAgent, loadTls } from '../shared/http';
import { grpcTarget, tracesUrl } from './config';
import type { OtlpExporterConfig } from './config';
import { GrpcTransport } from './grpc-transport';
import { HttpTransport } from './http-transport';
import type { PartialSuccess } from './http-transport';

/** OtlpRequest is one request body: whole chunks, concatenated. */
export interface OtlpRequest extends ExportRequest {
  readonly body: Uint8Array;
}

interface Transport {
  send(body: Uint8Array, signal: AbortSignal): Promise<PartialSuccess | undefined>;
  close(): void;
}

/** concatChunks joins the chunks' bytes into one buffer. */
export function concatChunks(chunks: readonly TraceChunk[]): Uint8Array {
  if (chunks.length === 1) return chunks[0].data;
  return Buffer.concat(chunks.map((c) => c.data));
}

/** packChunks groups chunks, in order, into groups of at most maxBytes (0 = one group); a bigger chunk goes alone. */
export function packChunks(chunks: readonly TraceChunk[], maxBytes: number): TraceChunk[][] {
  if (maxBytes <= 0) return chunks.length > 0 ? [[...chunks]] : [];
  const groups: TraceChunk[][] = [];
  let cur: TraceChunk[] = [];
  let size = 0;
  for (const c of chunks) {
    if (cur.length > 0 && size + c.data.byteLength > maxBytes) {
      groups.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(c);
    size += c.data.byteLength;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

/** OtlpTraceExporter sends traces as OTLP over HTTP or gRPC; see README.md. */
export class OtlpTraceExporter extends QueuedExporter<OtlpRequest> {
  private _transport?: Transport;
  private _partialWarned = 0;

  constructor(settings: ComponentSettings, private readonly _cfg: OtlpExporterConfig) {
    super(settings, _cfg);
  }

  /** onStart builds the client (reads TLS files); connections open on the first request. */
  protected override async onStart(): Promise<void> {
    this._client();
  }

  protected split(batch: TraceBatch): SplitResult<OtlpRequest> {
    const requests = packChunks(batch.chunks, this._cfg.max_request_bytes).map((group) => ({
      body: concatChunks(group),
      traceIds: group.map((c) => c.traceId),
      spanCount: group.reduce((n, c) => n + c.spanCount, 0),
    }));
    return { requests, invalid: [] };
  }

  protected async send(request: OtlpRequest, signal: AbortSignal): Promise<void> {
    const partial = await this._client().send(request.body, signal);
    if (partial) {
      // Accepted request; the server dropped part of it for good (the OTLP spec forbids retrying those).
      this._metrics.failed(Math.min(partial.rejectedSpans, request.spanCount), 'permanent');
      if (this._partialWarned++ % 100 === 0) {
        this._logger.warn({ rejectedSpans: partial.rejectedSpans, message: partial.errorMessage, traceIds: request.traceIds.slice(0, 20), occurrences: this._partialWarned }, 'backend accepted a request but rejected part of it');
      }
    }
  }

  protected override async onShutdown(): Promise<void> {
    this._transport?.close();
    this._transport = undefined;
  }

  private _client(): Transport {
    if (this._transport) return this._transport;
    const c = this._cfg;
    const headers = { ...c.headers };
    if (c.protocol === 'grpc') {
      const { target, tls } = grpcTarget(c);
      this._transport = new GrpcTransport({ target, tls: tls ? loadTls(c.tls) : undefined, headers, gzip: c.compression === 'gzip', timeoutMs: c.timeout });
    } else {
      const url = tracesUrl(c);
      this._transport = new HttpTransport({ url, headers, gzip: c.compression === 'gzip', timeoutMs: c.timeout, agent: createAgent(url, loadTls(c.tls), c.sending_queue.num_consumers) });
    }
    return this._transport;
  }
}
