// `tusk-collector run FILE`: loads the pipeline file (through the same loader as validate), starts the
// selected pipelines and the admin server, prints where it listens and exports, and handles signals:
// SIGTERM/SIGINT drain and exit 0 (a second signal exits at once with 130), SIGHUP (and --watch) reloads a
// changed, valid file with the same --set overrides. A config read from stdin cannot be reloaded.

import fs from 'node:fs';
import os from 'node:os';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../../../config/service/load';
import { Service } from '../service';
import { HeapGrowth } from '../heap-growth';
import { AdminServer } from '../admin/server';
import { consoleSource, type ReloadResult } from '../console/source';
import { Console } from '../console/server';
import { advertisedAdminUrl, defaultReplicaId, redisSettingsOf, ReplicaRegistry } from '../replicas';
import { packageVersion } from '../package-info';
import { createLogger } from '../../sdk/logger';
import { startSelfTracing, type SelfTracing } from '../../sdk/self-telemetry/tracing';

/** receiverEndpoints lists every listen address written in the receivers' configs. */
function receiverEndpoints(config: ServiceConfig): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'endpoint' && typeof x === 'string' && x !== '') out.push(x);
      else walk(x);
    }
  };
  for (const spec of config.components.values()) if (spec.kind === 'receiver') walk(spec.config);
  return out;
}

/** written returns the value at `path` of the file as written (before defaults), or undefined. */
function written(config: ServiceConfig, ...path: string[]): string | undefined {
  let v: unknown = config.document;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Options of the run command. */
export interface RunOptions {
  /** The file, or '-' for standard input. */
  file: string;
  pipelines: string[];
  watch: boolean;
  strict: boolean;
  /** --set PATH=VALUE overrides, applied again on every reload. */
  overrides: string[];
}

/** ConfigLoader loads and checks the file (printing every problem); undefined when it is invalid. */
export type ConfigLoader = (
  args: Pick<RunOptions, 'file' | 'strict' | 'overrides'>,
) => Promise<ServiceConfig | undefined>;

/** Output streams of the CLI. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The endpoints-ish keys worth printing for a component at start. */
function describe(config: unknown): string {
  if (typeof config !== 'object' || config === null) return '';
  const parts: string[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (
        /^(endpoint|brokers|topic|url|path)$/.test(k) &&
        (typeof v === 'string' || Array.isArray(v)) &&
        String(v) !== ''
      )
        parts.push(`${prefix}${k}=${String(v)}`);
      else if (typeof v === 'object' && v !== null && !Array.isArray(v) && prefix === '')
        walk(v as Record<string, unknown>, `${k}.`);
    }
  };
  walk(config as Record<string, unknown>, '');
  return parts.join(' ');
}

function banner(config: ServiceConfig, service: Service, adminAddress: string | undefined): string {
  const lines = [`tusk-collector: running ${config.file} (pipelines: ${service.pipelineNames.join(', ')})`];
  for (const name of service.pipelineNames) {
    const p = config.pipelines.get(name)!;
    lines.push(
      `  pipeline ${name}: ${p.receivers.join(',')} -> ${p.processors.join(',') || '(no processors)'} -> ${p.exporters.join(',')}`,
    );
    for (const r of p.receivers)
      lines.push(`    listens  receivers.${r}: ${describe(config.components.get(`receivers.${r}`)?.config)}`);
    for (const e of p.exporters)
      lines.push(`    exports  exporters.${e}: ${describe(config.components.get(`exporters.${e}`)?.config)}`);
  }
  if (adminAddress) {
    const endpoints = '/ and /healthz, /readyz, /metrics, /v1/decisions/{traceId}, /v1/config';
    lines.push(`  admin: http://${adminAddress} (${endpoints})`);
  }
  if (adminAddress && config.service.console.enabled) lines.push(`  console: http://${adminAddress}/ui/`);
  return lines.join('\n') + '\n';
}

/**
 * How often the event loop's delay is sampled for `tusk_nodejs_eventloop_lag_*` (ms). prom-client's default, 10 ms,
 * wakes an idle collector 100 times a second, most of its wake-ups; a stall shorter than this can go unseen, a
 * longer one is always measured.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** runCommand runs until a signal stops it; resolves with the exit code. */
export async function runCommand(opts: RunOptions, io: CliIo, load: ConfigLoader): Promise<number> {
  const loaded = await load(opts);
  if (!loaded) return 2;
  const config: ServiceConfig = loaded;
  const logger: Logger = createLogger(config.service.log_level, config.service.name);
  const metrics = new Registry();
  // prom-client's default metrics are named process_* / nodejs_* already: the prefix is `tusk_` (not tusk_process_).
  collectDefaultMetrics({
    register: metrics,
    prefix: 'tusk_',
    eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
  });

  let exitCode = 0;
  let stopping = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let service: Service;
  let selfTracing: SelfTracing | undefined;
  try {
    // What the file writes wins; what it leaves out comes from the OTEL_* variables, then the defaults.
    const tracing = config.service.self_tracing;
    selfTracing = startSelfTracing(
      { ...tracing, endpoint: written(config, 'service', 'self_tracing', 'endpoint') },
      written(config, 'service', 'name'),
      receiverEndpoints(config),
      (message) => logger.warn(message),
    );
    service = new Service(config, {
      pipelines: opts.pipelines,
      logger,
      metrics,
      tracer: selfTracing?.tracer,
      onFatal: (err) => {
        exitCode = 1;
        void stop(`fatal: ${err.message}`);
      },
    });
  } catch (err) {
    await selfTracing?.shutdown();
    io.stderr(`tusk-collector: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let lastReload: ReloadResult | undefined;
  let replicas: ReplicaRegistry | undefined;
  const consoleCfg = config.service.console;
  const webConsole =
    config.service.admin === '' || !consoleCfg.enabled
      ? undefined
      : new Console(
          consoleSource(
            service,
            Date.now(),
            () => lastReload,
            () => replicas?.view(),
          ),
          metrics,
          {
            jaegerQuery: consoleCfg.jaeger_query,
            token: consoleCfg.token || (process.env.TUSK_ADMIN_TOKEN ?? ''),
            ring: { intervalMs: consoleCfg.sample_interval },
          },
          logger.child({ component: 'console' }),
        );
  const admin =
    config.service.admin === ''
      ? undefined
      : new AdminServer(
          {
            status: () => service.status(),
            explainDecision: (id) => service.explainDecision(id),
            configDocument: () => service.config.document,
          },
          metrics,
          logger.child({ component: 'admin' }),
          webConsole,
        );

  // A small heap that moves many Buffers (an ingest tier) grows by V8's largest factor (heap-growth.ts).
  const heapGrowth = new HeapGrowth();

  async function stop(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    await service.shutdown();
    await replicas?.stop();
    webConsole?.stop();
    await admin?.close();
    await selfTracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'self-tracing flush failed'));
    heapGrowth.stop();
    resolveDone();
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      io.stderr(`tusk-collector: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    void stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const reload = async (why: string) => {
    if (opts.file === '-') {
      logger.warn({ why }, 'reload ignored: the configuration was read from standard input');
      return;
    }
    try {
      const next = await load(opts);
      if (!next) {
        io.stderr('tusk-collector: reload rejected, running pipelines unchanged (errors above)\n');
        logger.error({ why }, 'reload rejected: invalid configuration');
        return;
      }
      const problems = service.reconfigure(next);
      lastReload = { at: Date.now(), ok: problems.length === 0, trigger: why, problems };
      if (problems.length > 0)
        logger.warn({ problems, why }, 'reload: some changes need a restart; nothing was changed');
      else logger.info({ why }, 'reload: configuration applied');
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      io.stderr(`tusk-collector: reload rejected, running pipelines unchanged:\n${text}\n`);
      logger.error({ why }, 'reload rejected: invalid configuration');
      lastReload = { at: Date.now(), ok: false, trigger: why, problems: [text] };
    }
  };
  const onHup = () => void reload('SIGHUP');
  process.on('SIGHUP', onHup);
  let watcher: fs.StatWatcher | undefined;
  if (opts.watch) {
    watcher = fs.watchFile(opts.file, { interval: 500 }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs) void reload('file changed');
    });
  }

  heapGrowth.start();
  try {
    const address = admin ? await admin.listen(config.service.admin) : undefined;
    await service.start();
    webConsole?.start();
    const redis = webConsole === undefined ? undefined : redisSettingsOf(config.components.values());
    if (redis !== undefined) {
      // A sampler's replica id is the one its decisions carry (decidedBy); other processes get their own.
      const sampler = service.insightProviders().map((p) => p.provider.insights().replicaId);
      const self = {
        id: sampler.find((r) => r !== undefined) ?? defaultReplicaId(),
        pipelines: service.pipelineNames,
        adminUrl: advertisedAdminUrl(consoleCfg.advertise, address),
        version: packageVersion(),
        hostname: os.hostname(),
        startedAt: Math.round(Date.now() - process.uptime() * 1000),
      };
      replicas = new ReplicaRegistry({ redis, self: () => self, logger: logger.child({ component: 'replicas' }) });
      replicas.start();
    }
    io.stdout(banner(config, service, address ? `${address.address}:${address.port}` : undefined));
  } catch (err) {
    io.stderr(`tusk-collector: ${err instanceof Error ? err.message : String(err)}\n`);
    await service.shutdown();
    await replicas?.stop();
    webConsole?.stop();
    await admin?.close();
    await selfTracing?.shutdown().catch(() => undefined);
    heapGrowth.stop();
    exitCode = 1;
    resolveDone();
  }
  await done;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHup);
  if (watcher) fs.unwatchFile(opts.file);
  return exitCode;
}
