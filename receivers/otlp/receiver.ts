// The otlp receiver: OTLP/HTTP and OTLP/gRPC servers feeding one pipeline, sharing an in-flight byte
// budget, metrics and the export handler; answers clients only after downstream settled their data.
// Lifecycle: start binds (clear errors when it cannot), shutdown drains in-flight requests (bounded).

import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { ComponentHealth, ComponentSettings, Host, Receiver, ReceiverNext } from '../../pipeline/sdk/component';
import { once } from '../../pipeline/sdk/component';
import { PipelineError, ShutdownError } from '../../pipeline/sdk/errors';
import { loadBearerAuth } from './auth';
import type { OtlpReceiverConfig, ServerTlsConfig } from './config';
import { OtlpGrpcServer } from './grpc-server';
import { ExportHandler, type TransportTls } from './handler';
import { OtlpHttpServer } from './http-server';
import { InflightBudget } from './inflight';
import { ReceiverMetrics } from './metrics';

/** ERR_OTLP_RECEIVER_LISTEN is raised by start when a transport cannot bind its address. */
export const ERR_OTLP_RECEIVER_LISTEN = 'ERR_OTLP_RECEIVER_LISTEN';
/** ERR_OTLP_RECEIVER_TLS is raised by start when TLS files cannot be read. */
export const ERR_OTLP_RECEIVER_TLS = 'ERR_OTLP_RECEIVER_TLS';

/** ReceiverAddresses are the bound "host:port" of each running transport (useful with port 0). */
export interface ReceiverAddresses {
  readonly http?: string;
  readonly grpc?: string;
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'unknown host',
};

/** splitHostPort splits "host:port" / "[v6]:port". */
export function splitHostPort(endpoint: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`invalid endpoint ${JSON.stringify(endpoint)}`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]), port: Number(m[3]) };
}

function listenError(id: string, endpoint: string, transport: string, err: unknown): PipelineError {
  const e = err as NodeJS.ErrnoException;
  let reason = (e.code && LISTEN_ERRORS[e.code]) || undefined;
  if (!reason) {
    // grpc-js reports bind failures as text ("... EADDRINUSE: address already in use ..."): name them too.
    const known = Object.keys(LISTEN_ERRORS).find((code) => String(e.message).includes(code));
    reason = known ? LISTEN_ERRORS[known] : String(e.message ?? err);
  }
  return new PipelineError(ERR_OTLP_RECEIVER_LISTEN, `${id}: cannot listen on ${endpoint}: ${reason} (${transport})`, {
    cause: err,
    retriable: false,
    component: id,
  });
}

async function loadTls(id: string, path: string, tls: ServerTlsConfig | undefined): Promise<TransportTls | undefined> {
  if (!tls) return undefined;
  const read = async (key: keyof ServerTlsConfig) => {
    try {
      return await readFile(tls[key]);
    } catch (err) {
      throw new PipelineError(
        ERR_OTLP_RECEIVER_TLS,
        `${id}.${path}.tls.${key}: cannot read ${tls[key]}: ${(err as Error).message}`,
        { cause: err, retriable: false, component: id },
      );
    }
  };
  return {
    cert: await read('cert_file'),
    key: await read('key_file'),
    ca: tls.client_ca_file !== '' ? await read('client_ca_file') : undefined,
  };
}

/** OtlpReceiver receives OTLP traces and logs over HTTP and gRPC. */
export class OtlpReceiver implements Receiver {
  private readonly _metrics: ReceiverMetrics;
  private readonly _budget: InflightBudget;
  private readonly _abort = new AbortController();
  private readonly _handler: ExportHandler;
  private _http: OtlpHttpServer | undefined;
  private _grpc: OtlpGrpcServer | undefined;
  private _addresses: ReceiverAddresses = {};
  private _started = false;
  private _stopped = false;

  constructor(
    private readonly _settings: ComponentSettings,
    private readonly _config: OtlpReceiverConfig,
    next: ReceiverNext,
  ) {
    this._metrics = new ReceiverMetrics(_settings.metrics, _settings.id);
    this._budget = new InflightBudget(
      _config.max_inflight_bytes,
      this._metrics.inflightBytes,
      this._metrics.inflightLabels,
    );
    // One listener per request waiting downstream (removed when it settles): dozens at once under load.
    setMaxListeners(0, this._abort.signal);
    this._handler = new ExportHandler(_settings.id, next, this._metrics, _config.retry_after, this._abort.signal);
  }

  /** addresses returns the bound address of each running transport ("host:port"). */
  addresses(): ReceiverAddresses {
    return this._addresses;
  }

  /** inflightBytes is the number of request bytes held now. */
  get inflightBytes(): number {
    return this._budget.used;
  }

  /**
   * start reads TLS files and tokens, then binds both transports. If one cannot bind, the other is
   * closed again and start rejects with ERR_OTLP_RECEIVER_LISTEN ("receivers.otlp: cannot listen on ...").
   */
  async start(_host: Host): Promise<void> {
    if (this._started || this._stopped) return;
    this._started = true;
    const { id, logger } = this._settings;
    const c = this._config;
    const common = {
      handler: this._handler,
      budget: this._budget,
      metrics: this._metrics,
      retryAfterMs: c.retry_after,
      logger,
    };
    const binds: Promise<void>[] = [];
    if (c.http.endpoint !== '') {
      const transport = new OtlpHttpServer({
        ...common,
        config: c.http,
        auth: await loadBearerAuth(c.http.auth, `${id}.http.auth`),
        tls: await loadTls(id, 'http', c.http.tls),
      });
      this._http = transport;
      const { host, port } = splitHostPort(c.http.endpoint);
      binds.push(
        transport.listen(host, port).then(
          (addr) => void (this._addresses = { ...this._addresses, http: addr }),
          (err: unknown) => Promise.reject(listenError(id, c.http.endpoint, 'OTLP/HTTP', err)),
        ),
      );
    }
    if (c.grpc.endpoint !== '') {
      const transport = new OtlpGrpcServer({
        ...common,
        config: c.grpc,
        auth: await loadBearerAuth(c.grpc.auth, `${id}.grpc.auth`),
        tls: await loadTls(id, 'grpc', c.grpc.tls),
      });
      this._grpc = transport;
      const { host, port } = splitHostPort(c.grpc.endpoint);
      binds.push(
        transport.listen(host, port).then(
          (addr) => void (this._addresses = { ...this._addresses, grpc: addr }),
          (err: unknown) => Promise.reject(listenError(id, c.grpc.endpoint, 'OTLP/gRPC', err)),
        ),
      );
    }
    const results = await Promise.allSettled(binds);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this._http?.stopAccepting();
      this._http?.closeAll();
      this._grpc?.closeAll();
      this._addresses = {};
      throw failed.reason;
    }
    logger.info({ addresses: this._addresses }, 'OTLP receiver listening');
  }

  /**
   * shutdown stops accepting, waits up to `shutdown_timeout` for requests in progress (they are answered
   * when downstream settles), then aborts the rest (answered 503 / UNAVAILABLE) and closes connections.
   * Idempotent and safe without start.
   */
  readonly shutdown = once(async () => {
    this._stopped = true;
    const transports = [this._http, this._grpc].filter((t): t is OtlpHttpServer | OtlpGrpcServer => t !== undefined);
    if (transports.length === 0) return;
    for (const t of transports) t.stopAccepting();
    const drained = Promise.all(transports.map((t) => t.drained()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this._config.shutdown_timeout);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const pending = transports.reduce((n, t) => n + t.inflightRequests, 0);
      this._settings.logger.warn(
        { pending },
        'OTLP receiver shutdown timed out; refusing the requests still waiting for the pipeline',
      );
      this._abort.abort(new ShutdownError(this._settings.id));
      // Give the refusals a moment to be written, then drop the connections.
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 500).unref())]);
    }
    for (const t of transports) t.closeAll();
    this._addresses = {};
  });

  /** health is ready while the transports listen. */
  health(): ComponentHealth {
    const listening = Object.keys(this._addresses).length > 0;
    return {
      ready: listening && !this._stopped,
      detail: listening
        ? `listening on ${Object.entries(this._addresses)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : 'not listening',
    };
  }
}
