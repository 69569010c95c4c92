// Config schema of the `otlp` receiver: an OTLP/HTTP and an OTLP/gRPC endpoint (each optional), their
// size limits, TLS and bearer-token auth, and the in-flight byte budget shared by both. See README.md.

import { z } from 'zod';
import { byteSize, duration, hostPort, stringList } from '../../pipeline/sdk/config-types';

/** Default OTLP/HTTP listen address (the OTLP standard port). */
export const DEFAULT_HTTP_ENDPOINT = '0.0.0.0:4318';
/** Default OTLP/gRPC listen address (the OTLP standard port). */
export const DEFAULT_GRPC_ENDPOINT = '0.0.0.0:4317';
/** Default largest request body, also after decompression (the OTel Collector's default). */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = '20MiB';
/** Default largest gRPC message, also after decompression. */
export const DEFAULT_MAX_RECV_MSG_SIZE = '20MiB';
/** Default budget of request bytes held at once across both transports. */
export const DEFAULT_MAX_INFLIGHT_REQUEST_BYTES = '64MiB';
/** Default delay suggested to refused clients (Retry-After / RetryInfo) when nothing better is known. */
export const DEFAULT_RETRY_AFTER = '1s';
/** Default time shutdown waits for requests already being processed. */
export const DEFAULT_SHUTDOWN_TIMEOUT = '10s';
/** Default URL paths of OTLP/HTTP. */
export const DEFAULT_TRACES_PATH = '/v1/traces';
export const DEFAULT_LOGS_PATH = '/v1/logs';

const endpoint = () => z.union([z.literal(''), hostPort()]);
const urlPath = () => z.string().regex(/^\/[^\s?#]*$/, 'expected a URL path such as "/v1/traces"');

/**
 * tls: serve TLS with `cert_file` + `key_file` (PEM paths, both required); with `client_ca_file` clients
 * must present a certificate signed by that CA (mTLS). Files are read at start.
 */
const tlsSchema = z
  .object({
    cert_file: z.string().min(1),
    key_file: z.string().min(1),
    client_ca_file: z.string().default(''),
  })
  .strict()
  .optional();

/**
 * auth: require `Authorization: Bearer <token>` (gRPC metadata `authorization`). Tokens come from the
 * environment variable named by `bearer_tokens_env` (comma or whitespace separated) and/or the file
 * `bearer_tokens_file` (one per line, `#` comments); at least one source must be set and hold a token.
 * Read at start; compared in constant time.
 */
const authSchema = z
  .object({
    bearer_tokens_env: z.string().default(''),
    bearer_tokens_file: z.string().default(''),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.bearer_tokens_env === '' && c.bearer_tokens_file === '') {
      ctx.addIssue({ code: 'custom', message: 'set bearer_tokens_env and/or bearer_tokens_file' });
    }
  })
  .optional();

/**
 * http: the OTLP/HTTP server. A string is shorthand for `{ endpoint: "<string>" }`.
 * - `endpoint` (default "0.0.0.0:4318"): listen address; "" disables OTLP/HTTP.
 * - `max_request_body_size` (default 20MiB): largest body, checked before and after decompression (413 above).
 * - `cors_allowed_origins` (default []): origins browsers may send from ("*", exact, or "https://*.example.com"); [] = no CORS.
 * - `cors_allowed_headers` (default []): extra request headers allowed in CORS preflights.
 * - `traces_path` (default "/v1/traces"), `logs_path` (default "/v1/logs"): URL paths.
 * - `tls`, `auth`: see above.
 */
const httpSchema = z
  .object({
    endpoint: endpoint().default(DEFAULT_HTTP_ENDPOINT),
    max_request_body_size: byteSize({ min: 1 }).prefault(DEFAULT_MAX_REQUEST_BODY_SIZE),
    cors_allowed_origins: stringList().default([]),
    cors_allowed_headers: stringList().default([]),
    traces_path: urlPath().default(DEFAULT_TRACES_PATH),
    logs_path: urlPath().default(DEFAULT_LOGS_PATH),
    tls: tlsSchema,
    auth: authSchema,
  })
  .strict();

/**
 * grpc: the OTLP/gRPC server (TraceService/Export, LogsService/Export). A string is shorthand for `{ endpoint }`.
 * - `endpoint` (default "0.0.0.0:4317"): listen address; "" disables OTLP/gRPC.
 * - `max_recv_msg_size` (default 20MiB): largest request message, also after decompression (RESOURCE_EXHAUSTED above).
 * - `tls`, `auth`: see above.
 */
const grpcSchema = z
  .object({
    endpoint: endpoint().default(DEFAULT_GRPC_ENDPOINT),
    max_recv_msg_size: byteSize({ min: 1 }).prefault(DEFAULT_MAX_RECV_MSG_SIZE),
    tls: tlsSchema,
    auth: authSchema,
  })
  .strict();

const shorthand = (raw: unknown): unknown => (typeof raw === 'string' ? { endpoint: raw } : raw);

/**
 * configSchema of the otlp receiver (see README.md for the table):
 * - `http`, `grpc`: the two transports (above); at least one must have an endpoint.
 * - `max_inflight_bytes` (default 64MiB): request bytes (after decompression) held at once across both
 *   transports, from arrival until the answer; beyond it requests are refused with 503 + Retry-After /
 *   UNAVAILABLE + RetryInfo. 0 = no limit. Must be at least each transport's size limit.
 * - `retry_after` (default 1s): delay suggested when refusing for the in-flight limit, or when downstream
 *   refuses retriably without saying how long to wait.
 * - `shutdown_timeout` (default 10s): how long shutdown waits for requests in progress; after that they
 *   are aborted and answered 503 / UNAVAILABLE (nothing unacknowledged is reported as accepted).
 */
export const configSchema = z
  .object({
    http: z.preprocess(shorthand, httpSchema).prefault({}),
    grpc: z.preprocess(shorthand, grpcSchema).prefault({}),
    max_inflight_bytes: byteSize().prefault(DEFAULT_MAX_INFLIGHT_REQUEST_BYTES),
    retry_after: duration({ min: 0 }).prefault(DEFAULT_RETRY_AFTER),
    shutdown_timeout: duration({ min: 0 }).prefault(DEFAULT_SHUTDOWN_TIMEOUT),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.http.endpoint === '' && c.grpc.endpoint === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['http', 'endpoint'],
        message: 'both http.endpoint and grpc.endpoint are empty: enable at least one transport',
      });
    }
    if (c.http.endpoint !== '' && c.http.endpoint === c.grpc.endpoint && !c.http.endpoint.endsWith(':0')) {
      ctx.addIssue({
        code: 'custom',
        path: ['grpc', 'endpoint'],
        message: `http and grpc cannot share the address ${c.http.endpoint}`,
      });
    }
    if (c.max_inflight_bytes > 0) {
      if (c.http.endpoint !== '' && c.max_inflight_bytes < c.http.max_request_body_size) {
        ctx.addIssue({
          code: 'custom',
          path: ['max_inflight_bytes'],
          message: `must be at least http.max_request_body_size (${c.http.max_request_body_size} bytes) or 0, got ${c.max_inflight_bytes}`,
        });
      }
      if (c.grpc.endpoint !== '' && c.max_inflight_bytes < c.grpc.max_recv_msg_size) {
        ctx.addIssue({
          code: 'custom',
          path: ['max_inflight_bytes'],
          message: `must be at least grpc.max_recv_msg_size (${c.grpc.max_recv_msg_size} bytes) or 0, got ${c.max_inflight_bytes}`,
        });
      }
    }
  });

/** OtlpReceiverConfig is the parsed config (sizes in bytes, durations in ms). */
export type OtlpReceiverConfig = z.output<typeof configSchema>;
/** ServerTlsConfig is a parsed `tls` block (the server's certificate, and a CA to require client certificates). */
export type ServerTlsConfig = NonNullable<OtlpReceiverConfig['http']['tls']>;
/** AuthConfig is a parsed `auth` block. */
export type AuthConfig = NonNullable<OtlpReceiverConfig['http']['auth']>;
