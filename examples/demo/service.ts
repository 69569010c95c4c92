// What every demo service does around its handler: initTracing from examples/demo/tracing.tsk (its
// SERVICE_NAME from the environment), a node:http server wrapped with the kit, a `listening` log line
// the launcher waits for, and a clean stop (SIGTERM/SIGINT, or its parent's exit) that flushes spans.

import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { initTracing, type HttpHandler, type TracingHandle } from '../../instrument';
import { SCENARIO_HEADER, envNumber, isScenario, type Scenario } from './scenarios';

/** Where the shared [tracing] section lives. */
export const TRACING_FILE = path.join(__dirname, 'tracing.tsk');

/** Most bytes a demo request body may have. */
const MAX_BODY_BYTES = 64 * 1024;
/** How long a stop may take before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

/** readJson reads a small JSON request body; `undefined` when it is empty or not JSON. */
export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    return chunks.length === 0 ? undefined : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}

/** sendJson answers with a JSON body. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/**
 * runService starts a demo service: `makeHandler(tracing)` builds its request handler from the kit's
 * handle. Listens on 127.0.0.1:PORT (default `defaultPort`; 0 = any free port).
 */
export async function runService(
  defaultName: string,
  defaultPort: number,
  makeHandler: (tracing: TracingHandle) => HttpHandler,
): Promise<void> {
  const tracing = initTracing(TRACING_FILE, {
    env: { ...process.env, SERVICE_NAME: process.env.SERVICE_NAME || defaultName },
    // the SDK's default batch delay is 5 s; a demo wants its spans at the collector sooner
    batch: { scheduledDelayMillis: Number(process.env.DEMO_EXPORT_DELAY_MS ?? 500) },
  });
  const log = tracing.logger;
  await tracing.ready;
  const server = http.createServer(tracing.wrapHandler(makeHandler(tracing)));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.PORT ?? defaultPort), '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  log.info(
    {
      port,
      url: `http://127.0.0.1:${port}`,
      metrics: tracing.metricsUrl,
      exporter: `${tracing.config.backend} ${tracing.config.endpoint}`,
    },
    'listening',
  );

  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'stopping');
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await tracing.shutdown().catch((err: unknown) => log.error({ err }, 'flushing telemetry failed'));
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  // started by the launcher: stdin is a pipe from it, and its end means the launcher is gone
  if (process.env.DEMO_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', () => void stop('parent exited'));
    process.stdin.resume();
  }
}

/**
 * scenarioOf tells which path a request takes: the `x-demo-scenario` header set by the driver, or, for
 * a request without it, a fault drawn at random (DEMO_ERROR_RATE, default 0.05; DEMO_SLOW_RATE, default
 * 0.05) among the ones this service can inject.
 */
export function scenarioOf(req: http.IncomingMessage, faults: { error?: Scenario; slow?: Scenario }): Scenario {
  const header = req.headers[SCENARIO_HEADER];
  if (isScenario(header)) return header;
  const r = Math.random();
  const errorRate = envNumber('DEMO_ERROR_RATE', 0.05);
  if (faults.error && r < errorRate) return faults.error;
  if (faults.slow && r < errorRate + envNumber('DEMO_SLOW_RATE', 0.05)) return faults.slow;
  return 'ok';
}

/** pathOf is the request path without the query. */
export function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0];
}
