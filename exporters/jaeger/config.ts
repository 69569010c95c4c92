// Config schema of the `jaeger` exporter (Jaeger thrift over HTTP, or UDP to an agent). Keys are
// snake_case as in .tsk files; durations parse to ms. See README.md for the table.

import { z } from 'zod';
import { duration, hostPort, int } from '../../pipeline/sdk/config-types';
import {
  checkDeadLetter,
  deadLetterFields,
  headersSchema,
  notReadyAfterSchema,
  retryOnFailureSchema,
  sendingQueueSchema,
  tlsSchema,
} from '../../pipeline/sdk/exporterhelper/config';

/** DEFAULT_ENDPOINT is Jaeger's thrift-over-HTTP collector endpoint on loopback. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:14268/api/traces';
/** DEFAULT_AGENT_ENDPOINT is the Jaeger agent's binary-thrift UDP port (protocol "udp" only). */
export const DEFAULT_AGENT_ENDPOINT = '127.0.0.1:6832';
/** DEFAULT_TIMEOUT is the deadline of one request. */
export const DEFAULT_TIMEOUT = '5s';
/** DEFAULT_MAX_SPANS_PER_REQUEST is jaeger-client's own batch size. */
export const DEFAULT_MAX_SPANS_PER_REQUEST = 100;
/** DEFAULT_MAX_PACKET_SIZE is the UDP datagram limit the Jaeger agent accepts. */
export const DEFAULT_MAX_PACKET_SIZE = 65000;

/**
 * configSchema of the jaeger exporter:
 * - `protocol`: "http" (default; thrift over HTTP POST, acknowledged) or "udp" (binary thrift to an agent;
 *   LOSSY: a lost datagram still counts as sent, so the settle chain cannot protect that data).
 * - `endpoint` (http): collector URL, default http://127.0.0.1:14268/api/traces; https:// uses `tls`.
 * - `agent_endpoint` (udp): "host:port", default 127.0.0.1:6832. `max_packet_size` (udp): bytes, default 65000.
 * - `username` / `password` (http): HTTP basic auth; both or neither. Default none.
 * - `headers` (http): extra request headers, e.g. `authorization`. Default none.
 * - `timeout`: deadline of one request (connect + send + answer). Default 5s. Must be > 0.
 * - `max_spans_per_request`: spans per thrift batch / request. Default 100.
 * - `max_exporters`: deprecated, no effect (accepted so existing files still load; a warning says to remove it).
 * - `resource_attributes_as`: "process_tags" (default; the resource travels once per batch as Jaeger process
 *   tags, as Jaeger stores OTLP resources) or "span_tags" (every resource attribute repeated as a tag on
 *   every span, as @opentelemetry/exporter-jaeger does).
 * - `not_ready_after`: failing this long with no success turns /readyz 503 with the endpoint and the cause.
 *   Default 5s; 0 = at the first failure.
 * - `retry_on_failure`, `sending_queue`, `tls`, `dead_letter`: see pipeline/sdk/exporterhelper.
 */
export const configSchema = z
  .object({
    protocol: z.enum(['http', 'udp']).default('http'),
    endpoint: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).default(DEFAULT_ENDPOINT),
    agent_endpoint: hostPort().default(DEFAULT_AGENT_ENDPOINT),
    max_packet_size: int({ min: 1000, max: 65000 }).default(DEFAULT_MAX_PACKET_SIZE),
    username: z.string().default(''),
    password: z.string().default(''),
    headers: headersSchema,
    timeout: duration({ min: 1 }).prefault(DEFAULT_TIMEOUT),
    max_spans_per_request: int({ min: 1, max: 10000 }).default(DEFAULT_MAX_SPANS_PER_REQUEST),
    max_exporters: int({ min: 1, max: 10000 }).optional(),
    resource_attributes_as: z.enum(['process_tags', 'span_tags']).default('process_tags'),
    tls: tlsSchema,
    retry_on_failure: retryOnFailureSchema,
    sending_queue: sendingQueueSchema,
    not_ready_after: notReadyAfterSchema(),
    ...deadLetterFields,
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.username === '') !== (c.password === '')) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'username and password must be set together' });
    }
    if (c.protocol === 'udp' && (c.username !== '' || Object.keys(c.headers).length > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol'],
        message: 'username/password and headers need protocol "http"; UDP has no auth',
      });
    }
    checkDeadLetter(c, ctx);
  });

/** JaegerExporterConfig is the parsed config. */
export type JaegerExporterConfig = z.output<typeof configSchema>;
