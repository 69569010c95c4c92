// Config schema of the `otlp` exporter (OTLP/HTTP protobuf or OTLP/gRPC). Keys are snake_case as in
// .tsk files; durations parse to ms, sizes to bytes. See README.md for the table.

import { z } from 'zod';
import { byteSize, duration } from '../../pipeline/sdk/config-types';
import {
  checkDeadLetter,
  deadLetterFields,
  headersSchema,
  notReadyAfterSchema,
  retryOnFailureSchema,
  sendingQueueSchema,
  tlsSchema,
} from '../../pipeline/sdk/exporterhelper/config';

/** DEFAULT_HTTP_BASE_URL is the OTLP/HTTP base URL used when `endpoint` is empty and protocol is http. */
export const DEFAULT_HTTP_BASE_URL = 'http://127.0.0.1:4318';
/** DEFAULT_GRPC_TARGET is the OTLP/gRPC target used when `endpoint` is empty and protocol is grpc. */
export const DEFAULT_GRPC_TARGET = '127.0.0.1:4317';
/** DEFAULT_REQUEST_TIMEOUT is the deadline of one request (the OTel SDKs' default). */
export const DEFAULT_REQUEST_TIMEOUT = '10s';
/** DEFAULT_MAX_REQUEST_BYTES keeps requests under gRPC's default 4 MiB receive limit. */
export const DEFAULT_MAX_REQUEST_BYTES = '4MiB';

/**
 * configSchema of the otlp exporter:
 * - `protocol`: "http" (default; POST protobuf to {endpoint}/v1/traces and /v1/logs) or "grpc"
 *   (TraceService/Export, LogsService/Export).
 * - `endpoint`: http: base URL (default http://127.0.0.1:4318; https:// uses `tls`); grpc: "host:port",
 *   "http://host:port" (plaintext) or "https://host:port" (TLS) (default 127.0.0.1:4317). '' = the default.
 * - `traces_endpoint` (http): full URL that replaces {endpoint}/v1/traces. Default '' (derived).
 * - `logs_endpoint` (http): full URL that replaces {endpoint}/v1/logs. Default '' (derived).
 * - `compression`: "gzip" (default) or "none".
 * - `headers`: extra HTTP headers / gRPC metadata (e.g. `authorization`). Default none.
 * - `timeout`: deadline of one request. Default 10s. Must be > 0.
 * - `max_request_bytes`: a batch is cut at trace boundaries into requests of at most this many encoded
 *   bytes (one trace larger than that goes alone). Default 4MiB (gRPC's default receive limit). 0 = one
 *   request per batch.
 * - `not_ready_after`: failing this long with no success turns /readyz 503 with the endpoint and the cause.
 *   Default 5s; 0 = at the first failure.
 * - `retry_on_failure`, `sending_queue`, `tls`, `dead_letter`: see pipeline/sdk/exporterhelper.
 */
export const configSchema = z
  .object({
    protocol: z.enum(['http', 'grpc']).default('http'),
    endpoint: z.string().default(''),
    traces_endpoint: z.string().default(''),
    logs_endpoint: z.string().default(''),
    compression: z.enum(['gzip', 'none']).default('gzip'),
    headers: headersSchema,
    timeout: duration({ min: 1 }).prefault(DEFAULT_REQUEST_TIMEOUT),
    max_request_bytes: byteSize().prefault(DEFAULT_MAX_REQUEST_BYTES),
    tls: tlsSchema,
    retry_on_failure: retryOnFailureSchema,
    sending_queue: sendingQueueSchema,
    not_ready_after: notReadyAfterSchema(),
    ...deadLetterFields,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.protocol === 'http') {
      for (const key of ['endpoint', 'traces_endpoint', 'logs_endpoint'] as const) {
        if (c[key] !== '' && !/^https?:\/\/[^/]/.test(c[key])) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `expected an http:// or https:// URL, got ${JSON.stringify(c[key])}`,
          });
        }
      }
    } else {
      for (const key of ['traces_endpoint', 'logs_endpoint'] as const) {
        if (c[key] !== '') ctx.addIssue({ code: 'custom', path: [key], message: `${key} is for protocol "http" only` });
      }
      if (c.endpoint !== '' && !/^(https?:\/\/)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}\/?$/.test(c.endpoint)) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoint'],
          message: `expected "host:port" (optionally with http:// or https://), got ${JSON.stringify(c.endpoint)}`,
        });
      }
    }
    checkDeadLetter(c, ctx);
  });

/** OtlpExporterConfig is the parsed config. */
export type OtlpExporterConfig = z.output<typeof configSchema>;

/** tracesUrl is the URL OTLP/HTTP trace requests go to. */
export function tracesUrl(c: OtlpExporterConfig): URL {
  return signalUrl(c, c.traces_endpoint, 'traces');
}

/** logsUrl is the URL OTLP/HTTP log requests go to. */
export function logsUrl(c: OtlpExporterConfig): URL {
  return signalUrl(c, c.logs_endpoint, 'logs');
}

function signalUrl(c: OtlpExporterConfig, override: string, path: 'traces' | 'logs'): URL {
  if (override !== '') return new URL(override);
  const base = (c.endpoint === '' ? DEFAULT_HTTP_BASE_URL : c.endpoint).replace(/\/+$/, '');
  return new URL(`${base}/v1/${path}`);
}

/** grpcTarget is the gRPC target ("host:port") and whether it uses TLS (https:// scheme). */
export function grpcTarget(c: OtlpExporterConfig): { target: string; tls: boolean } {
  const raw = c.endpoint === '' ? DEFAULT_GRPC_TARGET : c.endpoint;
  const m = /^(https?):\/\/(.*?)\/?$/.exec(raw);
  return m ? { target: m[2], tls: m[1] === 'https' } : { target: raw, tls: false };
}
