// Schema of the [service] section and of [pipelines.NAME] sections of a pipeline file.

import { z } from 'zod';
import { duration, hostPort, bool, num } from '../../pipeline/sdk/config-types';

/** Defaults of the [service] section, as named constants. */
export const DEFAULT_ADMIN_ENDPOINT = '127.0.0.1:13133';
export const DEFAULT_SERVICE_SHUTDOWN_TIMEOUT = '30s';
export const DEFAULT_LOG_LEVEL = 'info';
export const DEFAULT_JAEGER_QUERY = 'http://127.0.0.1:16686';

/** Schema of [service]. */
export const serviceSchema = z
  .object({
    /** Name of this collector instance in logs and self-telemetry. */
    name: z.string().min(1).default('tusk-collector'),
    /** pino log level. */
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULT_LOG_LEVEL),
    /** Admin HTTP server (health, metrics, decisions, config); "" disables it. */
    admin: z.union([z.literal(''), hostPort()]).default(DEFAULT_ADMIN_ENDPOINT),
    /** The web console at /ui/ on the admin server and the /v1/ endpoints it uses (docs/console.md). */
    console: z
      .object({
        enabled: bool().default(true),
        /** Base URL of Jaeger's query API (traces search and trace by id are proxied to it). */
        jaeger_query: z.url().default(DEFAULT_JAEGER_QUERY),
        /** Bearer token required on /ui/ and /v1/ when not empty (or set TUSK_ADMIN_TOKEN). Never shown. */
        token: z.string().default(''),
        /** How often the console samples the pipeline's metrics for its rates and 15-minute charts. */
        sample_interval: duration({ min: 100 }).prefault('5s'),
        /**
         * URL of this replica's admin server as the other replicas' consoles link to it; "" derives it from
         * `admin` (a wildcard bind such as 0.0.0.0 cannot be derived: set this).
         */
        advertise: z.union([z.literal(''), z.url()]).default(''),
      })
      .strict()
      .prefault({}),
    /** How long SIGTERM may take to drain before the process exits anyway. */
    shutdown_timeout: duration({ min: 0 }).prefault(DEFAULT_SERVICE_SHUTDOWN_TIMEOUT),
    /** Self-tracing of the pipeline's own work (off by default). */
    self_tracing: z
      .object({
        enabled: bool().default(false),
        /** Fraction of the pipeline's own operations that are traced. */
        sampling_rate: num({ min: 0, max: 1 }).default(0.01),
        /** OTLP/HTTP endpoint that receives the self-traces; must not be this collector unless you mean it. */
        endpoint: z.string().default('http://127.0.0.1:14318/v1/traces'),
        /** Allow the endpoint to be one of this collector's own receivers (its spans then go through its own pipelines). */
        allow_self_ingest: bool().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** ServiceSection is the parsed [service] section. */
export type ServiceSection = z.output<typeof serviceSchema>;

/** Schema of one [pipelines.NAME] section. */
export const pipelineSchema = z
  .object({
    /** Which signal this pipeline carries. */
    signal: z.enum(['traces', 'logs']).default('traces'),
    receivers: z.array(z.string()).min(1, 'a pipeline needs at least one receiver'),
    processors: z.array(z.string()).default([]),
    exporters: z.array(z.string()).min(1, 'a pipeline needs at least one exporter'),
  })
  .strict();

/** PipelineSection is one parsed [pipelines.NAME] section. */
export type PipelineSection = z.output<typeof pipelineSchema>;
