// The `otlp` exporter: forwards trace and log chunks as OTLP without decoding them. Chunks are
// byte-concatenated (concatenated ExportTraceServiceRequests, or ExportLogsServiceRequests, are one valid
// message: protobuf merges repeated fields) into requests of at most max_request_bytes, sent over OTLP/HTTP
// (/v1/traces, /v1/logs) or OTLP/gRPC (TraceService, LogsService) through the shared
// queue/retry/dead-letter skeleton.

import type { ComponentSettings } from '../../pipeline/sdk/component';
import type { LogBatch, LogChunk, TraceBatch } from '../../pipeline/sdk/trace-batch';
import { itemsOf, QueuedExporter } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import type {
  ExportChunk,
  ExportRequest,
  ExportSignal,
  SplitResult,
} from '../../pipeline/sdk/exporterhelper/exporter-helper';
import { createAgent, loadTls } from '../../pipeline/sdk/exporterhelper/http';
import { grpcTarget, logsUrl, tracesUrl } from './config';
import type { OtlpExporterConfig } from './config';
import { GrpcTransport } from './grpc-transport';
import { HttpTransport } from './http-transport';
import type { PartialSuccess } from './http-transport';

/** OtlpRequest is one request body: whole chunks, concatenated. */
export interface OtlpRequest extends ExportRequest {
  readonly body: Uint8Array;
}

interface Transport {
  send(kind: ExportSignal, body: Uint8Array, signal: AbortSignal): Promise<PartialSuccess | undefined>;
  close(): void;
}

/** Encoded is anything with encoded OTLP bytes: a trace chunk or a log chunk. */
interface Encoded {
  readonly data: Uint8Array;
}

/** concatChunks joins the chunks' bytes into one buffer. */
export function concatChunks(chunks: readonly Encoded[]): Uint8Array {
  if (chunks.length === 1) return chunks[0].data;
  return Buffer.concat(chunks.map((c) => c.data));
}

/** packChunks groups chunks, in order, into groups of at most maxBytes (0 = one group); a bigger chunk goes alone. */
export function packChunks<C extends Encoded>(chunks: readonly C[], maxBytes: number): C[][] {
  if (maxBytes <= 0) return chunks.length > 0 ? [[...chunks]] : [];
  const groups: C[][] = [];
  let cur: C[] = [];
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

/** OtlpTraceExporter sends traces and logs as OTLP over HTTP or gRPC; see README.md. */
export class OtlpTraceExporter extends QueuedExporter<OtlpRequest> {
  private _transport?: Transport;
  private _partialWarned = 0;

  constructor(
    settings: ComponentSettings,
    private readonly _cfg: OtlpExporterConfig,
  ) {
    super(settings, _cfg, _cfg.protocol === 'grpc' ? `grpc://${grpcTarget(_cfg).target}` : tracesUrl(_cfg).href);
  }

  /** onStart builds the client (reads TLS files); connections open on the first request. */
  protected override async onStart(): Promise<void> {
    this._client();
  }

  /** consumeLogs resolves once every log record of the batch was accepted by the backend. */
  consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
    return this.exportLogs(batch, signal);
  }

  protected split(batch: TraceBatch): SplitResult<OtlpRequest> {
    return { requests: this._requestsOf(batch.chunks), invalid: [] };
  }

  protected override splitLogs(batch: LogBatch): SplitResult<OtlpRequest, LogChunk> {
    return { requests: this._requestsOf(batch.chunks), invalid: [] };
  }

  /** _requestsOf packs whole chunks of either signal into request bodies of at most max_request_bytes. */
  private _requestsOf(chunks: readonly ExportChunk[]): OtlpRequest[] {
    return packChunks(chunks, this._cfg.max_request_bytes).map((group) => ({
      body: concatChunks(group),
      traceIds: group.map((c) => c.traceId),
      itemCount: group.reduce((n, c) => n + itemsOf(c), 0),
    }));
  }

  protected async send(request: OtlpRequest, signal: AbortSignal, kind: ExportSignal): Promise<void> {
    const partial = await this._client().send(kind, request.body, signal);
    if (partial) {
      // Accepted request; the server dropped part of it for good (the OTLP spec forbids retrying those).
      this._countFailed(kind, Math.min(partial.rejected, request.itemCount), 'permanent');
      if (this._partialWarned++ % 100 === 0) {
        this._logger.warn(
          {
            signal: kind,
            rejected: partial.rejected,
            message: partial.errorMessage,
            traceIds: request.traceIds.slice(0, 20),
            occurrences: this._partialWarned,
          },
          'backend accepted a request but rejected part of it',
        );
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
      this._transport = new GrpcTransport({
        target,
        tls: tls ? loadTls(c.tls) : undefined,
        headers,
        gzip: c.compression === 'gzip',
        timeoutMs: c.timeout,
      });
    } else {
      const urls = { traces: tracesUrl(c), logs: logsUrl(c) };
      this._transport = new HttpTransport({
        urls,
        headers,
        gzip: c.compression === 'gzip',
        timeoutMs: c.timeout,
        agent: createAgent(urls.traces, loadTls(c.tls), c.sending_queue.num_consumers),
      });
    }
    return this._transport;
  }
}
