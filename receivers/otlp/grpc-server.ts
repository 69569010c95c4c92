// OTLP/gRPC transport of the otlp receiver (@grpc/grpc-js): TraceService/Export and LogsService/Export
// registered with identity deserializers, so request bytes go straight to the scanner; gzip/deflate and
// the size limit are grpc-js's (RESOURCE_EXHAUSTED above it); refusals carry RetryInfo in
// `grpc-status-details-bin`.

import * as grpc from '@grpc/grpc-js';
import { LOGS_SERVICE_EXPORT_PATH, TRACE_SERVICE_EXPORT_PATH, type OtlpSignal } from '../../pipeline/sdk/otlp';
import type { OtlpReceiverConfig } from './config';
import { refuse, RequestError, type TransportOptions } from './handler';
import { exportResponseBody, grpcStatusDetails } from './responses';

/** OtlpGrpcServerOptions is what the gRPC server needs from the receiver. */
export type OtlpGrpcServerOptions = TransportOptions<OtlpReceiverConfig['grpc']>;

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function exportMethod(path: string): grpc.MethodDefinition<Buffer, Uint8Array> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: toBuffer,
    responseDeserialize: identity,
  };
}

/** OtlpGrpcServer serves OTLP/gRPC; one instance per receiver. */
export class OtlpGrpcServer {
  private readonly _server: grpc.Server;
  private _active = 0;
  private _draining = false;
  private _closed: Promise<void> | undefined;

  constructor(private readonly _o: OtlpGrpcServerOptions) {
    this._server = new grpc.Server({
      'grpc.max_receive_message_length': _o.config.max_recv_msg_size,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    this._server.addService({ Export: exportMethod(TRACE_SERVICE_EXPORT_PATH) }, { Export: this._unary('traces') });
    // Without a logs pipeline LogsService is not registered: clients get UNIMPLEMENTED.
    if (_o.handler.logsEnabled)
      this._server.addService({ Export: exportMethod(LOGS_SERVICE_EXPORT_PATH) }, { Export: this._unary('logs') });
  }

  /** listen binds "host:port"; resolves with the bound address. */
  listen(host: string, port: number): Promise<string> {
    const creds = this._o.tls
      ? grpc.ServerCredentials.createSsl(
          this._o.tls.ca ?? null,
          [{ private_key: this._o.tls.key, cert_chain: this._o.tls.cert }],
          this._o.tls.ca !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      this._server.bindAsync(target, creds, (err, bound) => {
        if (err) reject(err);
        else resolve(`${host.includes(':') ? `[${host}]` : host}:${bound}`);
      });
    });
  }

  /** inflightRequests is the number of calls not answered yet. */
  get inflightRequests(): number {
    return this._active;
  }

  /**
   * stopAccepting closes the listener and lets running calls finish (grpc-js tryShutdown: sessions close
   * once their streams are done, after the answers are flushed).
   */
  stopAccepting(): void {
    this._draining = true;
    this._closed ??= new Promise((resolve) => this._server.tryShutdown(() => resolve()));
  }

  /** drained resolves when every call was answered and every connection closed (after stopAccepting). */
  drained(): Promise<void> {
    return this._closed ?? Promise.resolve();
  }

  /** closeAll cancels every call and closes the listener. */
  closeAll(): void {
    this._server.forceShutdown();
  }

  private _unary(signal: OtlpSignal): grpc.handleUnaryCall<Buffer, Uint8Array> {
    return (call, callback) => {
      this._active++;
      this._handle(signal, call)
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(this._toStatus(signal, err)),
        )
        .finally(() => {
          this._active--;
        });
    };
  }

  private async _handle(signal: OtlpSignal, call: grpc.ServerUnaryCall<Buffer, Uint8Array>): Promise<Uint8Array> {
    const body = call.request;
    this._o.metrics.received('grpc', signal, body.length);
    if (this._o.auth) {
      const values = call.metadata.get('authorization');
      if (!this._o.auth.check(typeof values[0] === 'string' ? values[0] : undefined)) throw refuse.unauthenticated();
    }
    if (this._draining) throw refuse.draining(this._o.retryAfterMs);
    if (!this._o.budget.tryAcquire(body.length)) throw refuse.overBudget(this._o.retryAfterMs);
    try {
      const ok = body.length === 0 ? { accepted: 0, rejected: 0 } : await this._o.handler.export('grpc', signal, body);
      this._o.metrics.request('grpc', signal, ok.rejected > 0 ? 'partial' : 'success');
      return exportResponseBody(signal, ok).proto;
    } finally {
      this._o.budget.release(body.length);
    }
  }

  private _toStatus(signal: OtlpSignal, err: unknown): grpc.ServerErrorResponse {
    if (!(err instanceof RequestError)) {
      this._o.logger.error({ err }, 'OTLP/gRPC call failed unexpectedly');
      return Object.assign(new Error('internal error'), { code: grpc.status.INTERNAL, details: 'internal error' });
    }
    this._o.metrics.request('grpc', signal, err.outcome);
    const metadata = new grpc.Metadata();
    if (err.retryAfterMs !== undefined)
      metadata.set('grpc-status-details-bin', grpcStatusDetails(err.grpcCode, err.message, err.retryAfterMs));
    return Object.assign(new Error(err.message), { code: err.grpcCode, details: err.message, metadata });
  }
}
