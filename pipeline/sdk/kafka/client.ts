// Shared kafkajs client settings of the Kafka receiver and exporter: the config fragment (brokers,
// client id, SASL, TLS, timeouts), its translation into a kafkajs KafkaConfig (files read at start, never
// at import), and a bridge that sends kafkajs log lines to the component's pino logger.

import * as fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import {
  logLevel as KafkaLogLevel,
  type KafkaConfig,
  type LogEntry,
  type RetryOptions,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { bool, duration, stringList } from '../config-types';
import { checkClientTls, clientTlsFields } from '../tls-config';
import { registerKafkaCodecs } from './codecs';
import { installKafkajsFixes } from './kafkajs-fixes';
import { installFastProduceEncoding } from './produce-encoding';
import type { BackoffPolicy } from '../retry';

/** Default bootstrap brokers. */
export const DEFAULT_BROKERS = ['127.0.0.1:9092'];
/** Default Kafka client id (shows up in broker logs and quotas). */
export const DEFAULT_CLIENT_ID = 'tusk-collector';
/** Default TCP connect timeout. */
export const DEFAULT_CONNECT_TIMEOUT = '3s';

/**
 * sasl: SASL authentication. Absent = none.
 * - `mechanism`: "plain", "scram-sha-256" or "scram-sha-512".
 * - `username` / `password`: the credentials (use @env for the password).
 */
export const saslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string(),
  })
  .strict();

/**
 * tls: TLS to the brokers. Absent or `enabled: false` = plaintext.
 * - `enabled` (default true when the section is present).
 * - the client TLS keys of pipeline/sdk/tls-config.ts `clientTlsFields`: `ca_file`, `cert_file` / `key_file`
 *   (both or neither), `insecure_skip_verify` (accept any broker certificate; tests only),
 *   `server_name_override` (default '' = the broker's host).
 */
export const kafkaTlsSchema = z
  .object({
    enabled: bool().default(true),
    ...clientTlsFields,
  })
  .strict()
  .superRefine(checkClientTls);

/** brokerList is the `brokers` field without a default: a "host:port" list, or one comma-separated string (@env). */
export function brokerList() {
  const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'expected "host:port"');
  return stringList().pipe(z.array(hostPort).min(1, 'at least one broker is required'));
}

/** kafkaTopicName is a Kafka topic name field: 1-249 of a-z A-Z 0-9 . _ - */
export function kafkaTopicName() {
  return z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -');
}

/**
 * kafkaClientFields are spread into the receiver's and exporter's strict schemas:
 * - `brokers` (default ["127.0.0.1:9092"]): bootstrap "host:port" list, or one comma-separated string (@env).
 * - `client_id` (default "tusk-collector").
 * - `connect_timeout` (default 3s): TCP + SASL handshake timeout per connection attempt.
 * - `sasl`, `tls`: see saslSchema / kafkaTlsSchema.
 */
export const kafkaClientFields = {
  brokers: brokerList().default(() => [...DEFAULT_BROKERS]),
  client_id: z.string().min(1).default(DEFAULT_CLIENT_ID),
  connect_timeout: duration({ min: 1 }).prefault(DEFAULT_CONNECT_TIMEOUT),
  sasl: saslSchema.optional(),
  tls: kafkaTlsSchema.optional(),
};

/** KafkaClientConfig is the parsed client part of a Kafka component's config. */
export interface KafkaClientConfig {
  brokers: string[];
  client_id: string;
  connect_timeout: number;
  sasl?: z.output<typeof saslSchema>;
  tls?: z.output<typeof kafkaTlsSchema>;
}

/** KafkaClientOptions are what a component adds to the shared settings. */
export interface KafkaClientOptions {
  /** Per-request timeout in ms (kafkajs `requestTimeout`). */
  requestTimeoutMs: number;
  /** kafkajs retry policy of the client (used by admin, consumer group and producer unless overridden). */
  retry?: RetryOptions;
}

/** tlsOptions turns the tls section into kafkajs `ssl` (reading the PEM files now). */
export function tlsOptions(tls: KafkaClientConfig['tls']): boolean | ConnectionOptions | undefined {
  if (!tls || !tls.enabled) return undefined;
  const opts: ConnectionOptions = { rejectUnauthorized: !tls.insecure_skip_verify };
  if (tls.ca_file !== '') opts.ca = fs.readFileSync(tls.ca_file);
  if (tls.cert_file !== '') opts.cert = fs.readFileSync(tls.cert_file);
  if (tls.key_file !== '') opts.key = fs.readFileSync(tls.key_file);
  if (tls.server_name_override !== '') opts.servername = tls.server_name_override;
  return opts;
}

/** saslOptions turns the sasl section into kafkajs `sasl`. */
export function saslOptions(sasl: KafkaClientConfig['sasl']): SASLOptions | undefined {
  if (!sasl) return undefined;
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

/**
 * kafkaConfig builds the kafkajs client config. Call it from `start` (it reads TLS files). It also switches
 * kafkajs' produce requests to the one-pass encoder of produce-encoding.ts and applies kafkajs-fixes.ts
 * (once per process).
 * Topic auto-creation by metadata requests is disabled: topics are created explicitly with the configured
 * partition count (a broker default would silently break the trace-id-to-partition plan).
 */
export function kafkaConfig(cfg: KafkaClientConfig, logger: Logger, opts: KafkaClientOptions): KafkaConfig {
  registerKafkaCodecs(); // snappy, lz4 and zstd for every kafkajs client (pipeline/sdk/kafka/codecs.ts)
  const fixes = installKafkajsFixes();
  if (!fixes.applied)
    logger.warn({ reason: fixes.reason }, 'kafkajs fixes not applied (idle connections may poll timers)');
  const encoding = installFastProduceEncoding();
  if (!encoding.installed)
    logger.warn({ reason: encoding.reason }, "Kafka produce requests use kafkajs' own encoder (slower)");
  return {
    clientId: cfg.client_id,
    brokers: [...cfg.brokers],
    ssl: tlsOptions(cfg.tls),
    sasl: saslOptions(cfg.sasl),
    connectionTimeout: cfg.connect_timeout,
    authenticationTimeout: cfg.connect_timeout,
    requestTimeout: opts.requestTimeoutMs,
    enforceRequestTimeout: true,
    retry: opts.retry,
    logLevel: KafkaLogLevel.INFO,
    logCreator: pinoLogCreator(logger),
  };
}

/**
 * Messages kafkajs logs that say nothing to an operator of this component, each with the reason:
 * - the idempotent producer's warning about bounded retries: the exporter bounds them on purpose and
 *   replaces the producer (new producer id) after any failed send, which is what keeps sequence numbers safe.
 */
const SUPPRESSED = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

/**
 * pinoLogCreator bridges kafkajs logging into pino, one level lower: kafkajs ERROR lines are mostly
 * transient broker or connection trouble it retries itself (warn), its WARN info, its INFO debug (group
 * joins, pauses). The components log what matters to an operator themselves.
 */
export function pinoLogCreator(logger: Logger): KafkaConfig['logCreator'] {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _ts, logger: _l, ...extra } = log as LogEntry['log'] & { logger?: unknown };
      if (SUPPRESSED.includes(message)) return;
      const fields = { kafkajs: namespace, ...extra };
      switch (level) {
        case KafkaLogLevel.ERROR:
          logger.warn(fields, message);
          break;
        case KafkaLogLevel.WARN:
          logger.info(fields, message);
          break;
        case KafkaLogLevel.INFO:
          logger.debug(fields, message);
          break;
        default:
          logger.trace(fields, message);
      }
    };
}

/**
 * KAFKA_START_BACKOFF is how the Kafka components retry getting started (the consumer joining its group,
 * the exporter's topic check): 500ms doubling to 10s, no time limit; shutdown stops it.
 */
export const KAFKA_START_BACKOFF: BackoffPolicy = {
  enabled: true,
  initialIntervalMs: 500,
  randomizationFactor: 0.5,
  multiplier: 2,
  maxIntervalMs: 10_000,
  maxElapsedTimeMs: 0,
};
