// Transport-independent handling of one OTLP export request: split by trace id, hand the chunks to the
// pipeline, and answer only after downstream settled them (architecture.md, contract 2). Downstream
// errors become the answers OTLP clients understand: permanent -> 400 / INVALID_ARGUMENT, anything
// else -> 503 / UNAVAILABLE with a retry delay. Also what both transports (HTTP, gRPC) are given and the
// refusals they share.

import type { Logger } from 'pino';
import type { ReceiverNext } from '../../pipeline/sdk/component';
import { BackpressureError, ShutdownError, errorMessage, isPermanent } from '../../pipeline/sdk/errors';
import {
  isOtlpDecodeError,
  splitLogsByTraceId,
  splitTracesByTraceId,
  type OtlpSignal,
  type RejectedCounts,
} from '../../pipeline/sdk/otlp';
import type { BearerAuth } from './auth';
import type { InflightBudget } from './inflight';
import type { ItemOutcome, ReceiverMetrics, RequestOutcome, Transport } from './metrics';
import { GRPC_CODE, type ExportOk } from './responses';

/** TransportTls is a transport's `tls` section with its files read: serve TLS, and with `ca` require client certificates. */
export interface TransportTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** TransportOptions is what a transport (HTTP or gRPC, with its own `config` section) needs from the receiver. */
export interface TransportOptions<Config> {
  readonly config: Config;
  readonly handler: ExportHandler;
  readonly budget: InflightBudget;
  readonly metrics: ReceiverMetrics;
  readonly auth: BearerAuth | undefined;
  readonly tls: TransportTls | undefined;
  readonly retryAfterMs: number;
  readonly logger: Logger;
}

/**
 * RequestError is a refusal with everything both transports need to answer it: HTTP status, gRPC code,
 * the metrics outcome, a message for the client and, for retriable refusals, the suggested delay.
 */
export class RequestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly grpcCode: number,
    readonly outcome: RequestOutcome,
    message: string,
    readonly retryAfterMs?: number,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

const unavailable = (message: string, retryAfterMs: number) =>
  new RequestError(503, GRPC_CODE.UNAVAILABLE, 'refused', message, retryAfterMs);

/** Constructors of the refusals the receiver uses. */
export const refuse = {
  invalid: (message: string) => new RequestError(400, GRPC_CODE.INVALID_ARGUMENT, 'invalid', message),
  rejected: (message: string) => new RequestError(400, GRPC_CODE.INVALID_ARGUMENT, 'rejected', message),
  tooLarge: (message: string) => new RequestError(413, GRPC_CODE.RESOURCE_EXHAUSTED, 'too_large', message),
  unauthenticated: () =>
    new RequestError(401, GRPC_CODE.UNAUTHENTICATED, 'unauthenticated', 'missing or invalid bearer token', undefined, {
      'WWW-Authenticate': 'Bearer',
    }),
  unavailable,
  /** A transport that stopped accepting (shutdown) refuses new requests. */
  draining: (retryAfterMs: number) => unavailable('receiver is shutting down', retryAfterMs),
  /** The request's bytes do not fit the shared in-flight budget (max_inflight_bytes). */
  overBudget: (retryAfterMs: number) =>
    unavailable('receiver is over its in-flight byte limit, retry later', retryAfterMs),
  notFound: (message: string) => new RequestError(404, GRPC_CODE.UNIMPLEMENTED, 'unsupported', message),
  methodNotAllowed: (allow: string) =>
    new RequestError(405, GRPC_CODE.UNIMPLEMENTED, 'unsupported', `method not allowed; use ${allow}`, undefined, {
      Allow: allow,
    }),
  unsupportedMedia: (message: string) => new RequestError(415, GRPC_CODE.INVALID_ARGUMENT, 'unsupported', message),
};

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ShutdownError('receiver'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new ShutdownError('receiver'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** ExportHandler runs export requests of both signals against the pipeline. */
export class ExportHandler {
  constructor(
    private readonly _id: string,
    private readonly _next: ReceiverNext,
    private readonly _metrics: ReceiverMetrics,
    private readonly _retryAfterMs: number,
    private readonly _abort: AbortSignal,
  ) {}

  /** logsEnabled tells whether a logs pipeline uses this receiver. */
  get logsEnabled(): boolean {
    return this._next.logs !== undefined;
  }

  /**
   * export splits an encoded Export*ServiceRequest that came in on `transport` and resolves once downstream
   * settled every chunk.
   * @throws RequestError describing how to answer (malformed, refused, rejected).
   */
  async export(transport: Transport, signal: OtlpSignal, bytes: Uint8Array): Promise<ExportOk> {
    let chunksAccepted: number;
    let rejected: number;
    let rejectReason: string | undefined;
    let rejectedBy: RejectedCounts | undefined;
    let consume: () => Promise<void>;
    try {
      if (signal === 'traces') {
        const split = splitTracesByTraceId(bytes);
        chunksAccepted = split.acceptedSpans;
        rejected = split.rejectedSpans;
        rejectReason = split.rejectReason;
        rejectedBy = split.rejectedBy;
        const batch = { chunks: split.chunks };
        consume = () => this._next.traces.consumeTraces(batch, this._abort);
      } else {
        const logs = this._next.logs;
        if (logs === undefined) throw refuse.notFound(`${this._id} receives no logs: no logs pipeline uses it`);
        const split = splitLogsByTraceId(bytes);
        chunksAccepted = split.acceptedRecords;
        rejected = split.rejectedRecords;
        rejectReason = split.rejectReason;
        rejectedBy = split.rejectedBy;
        const batch = { chunks: split.chunks };
        consume = () => logs.consumeLogs(batch, this._abort);
      }
    } catch (err) {
      if (isOtlpDecodeError(err)) throw refuse.invalid(errorMessage(err));
      throw err;
    }
    if (rejectedBy) {
      this._metrics.items(transport, signal, 'rejected', 'invalid_id', rejectedBy.invalidId);
      this._metrics.items(transport, signal, 'rejected', 'invalid_utf8', rejectedBy.invalidUtf8);
    }
    if (chunksAccepted > 0) {
      try {
        await raceAbort(consume(), this._abort);
      } catch (err) {
        throw this._downstreamError(transport, signal, err, chunksAccepted);
      }
      this._metrics.items(transport, signal, 'accepted', '', chunksAccepted);
    }
    return { accepted: chunksAccepted, rejected, rejectReason };
  }

  private _downstreamError(transport: Transport, signal: OtlpSignal, err: unknown, n: number): RequestError {
    const count = (outcome: ItemOutcome, reason: string) => this._metrics.items(transport, signal, outcome, reason, n);
    if (isPermanent(err)) {
      count('rejected', 'permanent');
      return refuse.rejected(`rejected by the pipeline: ${errorMessage(err)}`);
    }
    if (err instanceof BackpressureError) {
      count('refused', 'backpressure');
      return refuse.unavailable(
        `pipeline is over its limits, retry later: ${errorMessage(err)}`,
        Math.max(err.retryAfterMs, 0),
      );
    }
    if (err instanceof ShutdownError || this._abort.aborted) {
      count('refused', 'shutdown');
      return refuse.unavailable('receiver is shutting down, retry later', this._retryAfterMs);
    }
    count('refused', 'downstream_error');
    return refuse.unavailable(
      `pipeline could not accept the data, retry later: ${errorMessage(err)}`,
      this._retryAfterMs,
    );
  }
}
