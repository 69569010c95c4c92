// OTLP/gRPC transport on @grpc/grpc-js: the request bytes are already an encoded ExportTraceServiceRequest
// (or ExportLogsServiceRequest), so the methods use an identity serializer and no protobuf work happens here. Status classification follows
// the OTLP spec: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS are retriable;
// RESOURCE_EXHAUSTED only when the server attached a google.rpc.RetryInfo; everything else is permanent.
// A RetryInfo delay (from grpc-status-details-bin) becomes the retry's minimum wait.

import * as grpc from '@grpc/grpc-js';
import { LOGS_SERVICE_EXPORT_PATH, otlpTypes, TRACE_SERVICE_EXPORT_PATH } from '../../pipeline/sdk/otlp';
import type { TlsMaterial } from '../../pipeline/sdk/exporterhelper/http';
import { ExporterErrorCode, ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import type { ExportSignal } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import { decodePartialSuccess } from './http-transport';
import type { PartialSuccess } from './http-transport';

const RETRIABLE_CODES: ReadonlySet<grpc.status> = new Set([
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNAVAILABLE,
  grpc.status.DATA_LOSS,
]);

const identity = (b: Buffer): Buffer => b;

/** retryDelayFromMetadata reads google.rpc.RetryInfo.retry_delay (ms) from grpc-status-details-bin. */
export function retryDelayFromMetadata(md: grpc.Metadata | undefined): number | undefined {
  const raw = md?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  try {
    const t = otlpTypes();
    const st = t.RpcStatus.decode(raw) as unknown as { details?: Array<{ type_url?: string; value?: Uint8Array }> };
    for (const d of st.details ?? []) {
      if (!d.type_url?.endsWith('google.rpc.RetryInfo') || !d.value) continue;
      const ri = t.RetryInfo.decode(d.value) as unknown as {
        retry_delay?: { seconds?: number | { toNumber(): number }; nanos?: number };
      };
      const s = ri.retry_delay?.seconds;
      const seconds = typeof s === 'number' ? s : s ? s.toNumber() : 0;
      return seconds * 1000 + Math.floor((ri.retry_delay?.nanos ?? 0) / 1e6);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** grpcStatusError classifies a failed call. */
export function grpcStatusError(err: grpc.ServiceError): ExportError {
  const retryAfterMs = retryDelayFromMetadata(err.metadata);
  const retriable =
    RETRIABLE_CODES.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined);
  return new ExportError(
    ExporterErrorCode.GRPC_STATUS,
    `gRPC ${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`,
    {
      status: err.code,
      retriable,
      retryAfterMs: retriable ? retryAfterMs : undefined,
      cause: err,
    },
  );
}

/** GrpcTransportOptions configure the OTLP/gRPC transport. */
export interface GrpcTransportOptions {
  /** "host:port". */
  readonly target: string;
  /** TLS material, or undefined for plaintext. */
  readonly tls?: TlsMaterial;
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip: boolean;
  readonly timeoutMs: number;
}

/** GrpcTransport sends one encoded request per call (TraceService or LogsService Export) over one channel. */
export class GrpcTransport {
  private readonly _client: grpc.Client;

  constructor(private readonly _o: GrpcTransportOptions) {
    const creds = _o.tls
      ? grpc.credentials.createSsl(_o.tls.ca ?? null, _o.tls.key ?? null, _o.tls.cert ?? null, {
          rejectUnauthorized: _o.tls.rejectUnauthorized,
          checkServerIdentity: _o.tls.rejectUnauthorized ? undefined : () => undefined,
        })
      : grpc.credentials.createInsecure();
    const options: grpc.ChannelOptions = {
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.default_compression_algorithm': _o.gzip
        ? grpc.compressionAlgorithms.gzip
        : grpc.compressionAlgorithms.identity,
      'grpc.primary_user_agent': 'tusk-collector',
    };
    if (_o.tls?.servername) options['grpc.ssl_target_name_override'] = _o.tls.servername;
    this._client = new grpc.Client(_o.target, creds, options);
  }

  /** send makes one Export call; resolves with the partial success, if any; rejects with an ExportError. */
  send(kind: ExportSignal, body: Uint8Array, signal: AbortSignal): Promise<PartialSuccess | undefined> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(this._o.headers)) md.set(k.toLowerCase(), v);
    const payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new ExportError(ExporterErrorCode.NETWORK, 'export aborted', { retriable: true }));
        return;
      }
      const call = this._client.makeUnaryRequest<Buffer, Buffer>(
        kind === 'logs' ? LOGS_SERVICE_EXPORT_PATH : TRACE_SERVICE_EXPORT_PATH,
        identity,
        identity,
        payload,
        md,
        { deadline: Date.now() + this._o.timeoutMs },
        (err, res) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(grpcStatusError(err));
          else resolve(res ? decodePartialSuccess(res, kind) : undefined);
        },
      );
      const onAbort = () => call.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** close shuts the channel. */
  close(): void {
    this._client.close();
  }
}
