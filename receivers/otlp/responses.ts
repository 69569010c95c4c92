// Wire bodies the otlp receiver answers with: Export*ServiceResponse (with partial_success when items
// were rejected) and google.rpc.Status (with a RetryInfo detail when the client should retry later), in
// protobuf or OTLP/JSON, plus the gRPC `grpc-status-details-bin` trailer.

import { bigIntToLongBits, messageToOtlpJson, otlpTypes, type OtlpSignal } from '../../pipeline/sdk/otlp';

/** ExportOk is the outcome of an accepted request: items passed on and items rejected for bad ids. */
export interface ExportOk {
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectReason?: string;
}

/** Body is one answer in both encodings; the transport picks the one the request used. */
export interface Body {
  readonly proto: Uint8Array;
  readonly json: string;
}

/** exportResponseBody encodes the Export*ServiceResponse for an accepted request. */
export function exportResponseBody(signal: OtlpSignal, ok: ExportOk): Body {
  const t = otlpTypes();
  const type = signal === 'traces' ? t.ExportTraceServiceResponse : t.ExportLogsServiceResponse;
  const msg: Record<string, unknown> = {};
  if (ok.rejected > 0) {
    const count = bigIntToLongBits(BigInt(ok.rejected), false);
    msg.partial_success =
      signal === 'traces'
        ? { rejected_spans: count, error_message: ok.rejectReason ?? '' }
        : { rejected_log_records: count, error_message: ok.rejectReason ?? '' };
  }
  return { proto: type.encode(msg).finish(), json: messageToOtlpJson(type, msg) };
}

/** GRPC_CODE holds the gRPC status codes the receiver uses. */
export const GRPC_CODE = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

function statusMessage(code: number, message: string, retryAfterMs: number | undefined): Record<string, unknown> {
  const msg: Record<string, unknown> = { code, message };
  if (retryAfterMs !== undefined) {
    const t = otlpTypes();
    const seconds = Math.floor(retryAfterMs / 1000);
    const nanos = Math.round((retryAfterMs - seconds * 1000) * 1e6);
    const retryInfo = t.RetryInfo.encode({
      retry_delay: { seconds: bigIntToLongBits(BigInt(seconds), false), nanos },
    }).finish();
    msg.details = [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }];
  }
  return msg;
}

/** statusBody encodes a google.rpc.Status (code is a gRPC code) for an error answer. */
export function statusBody(grpcCode: number, message: string, retryAfterMs?: number): Body {
  const t = otlpTypes();
  const msg = statusMessage(grpcCode, message, retryAfterMs);
  return { proto: t.RpcStatus.encode(msg).finish(), json: messageToOtlpJson(t.RpcStatus, msg) };
}

/** grpcStatusDetails is the `grpc-status-details-bin` trailer value: a google.rpc.Status with RetryInfo. */
export function grpcStatusDetails(grpcCode: number, message: string, retryAfterMs: number): Buffer {
  const t = otlpTypes();
  return Buffer.from(t.RpcStatus.encode(statusMessage(grpcCode, message, retryAfterMs)).finish());
}
