// One JaegerExporter per resource (service.name + resource attributes), created lazily and kept in a bounded
// LRU: the library reports every span of an instance under one service, so instances must not be shared
// between resources. Each instance runs one export at a time (the library's sender keeps one span buffer:
// concurrent exports would mix their spans and one could report success for the other's lost spans), and
// every export is raced against a deadline because the library never calls back after shutdown and its
// sender could hang; an instance that timed out is retired and never used again.

import { createHash } from 'node:crypto';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JaegerExporter } from '@opentelemetry/exporter-jaeger';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { Attributes } from '@opentelemetry/api';
import { errorMessage } from '../../pipeline/sdk/errors';
import { ExporterErrorCode, ExportError } from '../../pipeline/sdk/exporterhelper/errors';
import type { JaegerSender } from './sender';
import { installSender, processOf } from './sender';

/** ResourceIdentity is what makes two resources the same Jaeger process. */
export interface ResourceIdentity {
  readonly serviceName: string;
  readonly attributes: Attributes;
}

/** resourceKey is the pool key of a resource: service name + a hash of all its attributes (key order ignored). */
export function resourceKey(r: ResourceIdentity): string {
  const sorted = Object.keys(r.attributes)
    .sort()
    .map((k) => [k, r.attributes[k]]);
  return `${r.serviceName}#${createHash('sha1').update(JSON.stringify(sorted)).digest('base64url')}`;
}

/** serviceNameOf is the resource's service.name, or "unknown_service" (the OpenTelemetry default). */
export function serviceNameOf(attrs: Attributes): string {
  const v = attrs['service.name'];
  return typeof v === 'string' && v !== '' ? v : 'unknown_service';
}

/** SenderFactory builds the sender of a new instance. */
export type SenderFactory = () => JaegerSender & { setProcess(p: unknown): void };

/** JaegerInstance is one JaegerExporter with its own sender, exporting one batch at a time. */
export class JaegerInstance {
  private readonly _exporter: JaegerExporter;
  private readonly _sender: ReturnType<SenderFactory>;
  private _tail: Promise<unknown> = Promise.resolve();
  /** No new exports are handed to a retired instance; the ones already queued still run. */
  private _retired = false;
  /** A dead instance (killed, or its library call timed out) fails every export at once. */
  private _dead = false;
  private _shutdown?: Promise<void>;

  constructor(identity: ResourceIdentity, processTags: Attributes, newSender: SenderFactory, private readonly _deadlineMs: number, private readonly _onPoisoned: (i: JaegerInstance) => void) {
    this._exporter = new JaegerExporter({ endpoint: 'http://127.0.0.1/unused', flushTimeout: 1000 });
    this._sender = newSender();
    installSender(this._exporter, this._sender, processOf(identity.serviceName, processTags));
  }

  /** True once the instance was retired (evicted, timed out or shut down); the pool hands it no more exports. */
  get retired(): boolean {
    return this._retired;
  }

  /**
   * export hands spans to the library, after the previous export of this instance finished. It resolves on
   * success and rejects with an ExportError (the sender's structured failure when there is one).
   */
  export(spans: ReadableSpan[], signal: AbortSignal): Promise<void> {
    const run = () => this._exportNow(spans, signal);
    const p = this._tail.then(run, run);
    this._tail = p.catch(() => undefined);
    return p;
  }

  /** retire shuts the instance down once its queued exports finished. Idempotent. */
  retire(): Promise<void> {
    this._retired = true;
    this._shutdown ??= this._tail.then(() => this._close());
    return this._shutdown;
  }

  /** kill shuts the instance down now, aborting requests in flight; queued exports fail retriably. Idempotent. */
  kill(): Promise<void> {
    this._retired = true;
    this._dead = true;
    this._shutdown ??= this._close();
    return this._shutdown;
  }

  private async _close(): Promise<void> {
    try {
      await this._exporter.shutdown();
    } catch {
      // The library rejects when its flush does not finish in flushTimeout; the sender is closed anyway.
    }
    this._sender.close();
  }

  private async _exportNow(spans: ReadableSpan[], signal: AbortSignal): Promise<void> {
    if (this._dead) throw new ExportError(ExporterErrorCode.NETWORK, 'jaeger exporter instance was shut down', { retriable: true });
    if (signal.aborted) throw new ExportError(ExporterErrorCode.NETWORK, 'export aborted', { retriable: true });
    this._sender.takeFailure();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const outcome = await new Promise<ExportResult | 'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this._deadlineMs);
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        // The library's types come from its own nested copy of sdk-trace; the shape is the same.
        this._exporter.export(spans as Parameters<JaegerExporter['export']>[0], resolve);
      } catch (err) {
        resolve({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
      }
    });
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (outcome === 'timeout' || outcome === 'aborted') {
      // The library may still be inside this export; nothing else may use its buffer: kill it.
      this._retired = true;
      this._dead = true;
      this._onPoisoned(this);
      void this.kill();
      throw new ExportError(
        outcome === 'timeout' ? ExporterErrorCode.TIMEOUT : ExporterErrorCode.NETWORK,
        outcome === 'timeout' ? `jaeger export did not call back within ${this._deadlineMs}ms` : 'export aborted',
        { retriable: true },
      );
    }
    if (outcome.code === ExportResultCode.SUCCESS) return;
    throw (
      this._sender.takeFailure() ??
      new ExportError(ExporterErrorCode.LIBRARY, `jaeger export failed: ${outcome.error ? errorMessage(outcome.error) : 'no reason given'}`, {
        cause: outcome.error,
        retriable: true,
      })
    );
  }
}

/** InstancePool keeps at most `max` live instances, least recently used evicted (and shut down after its exports). */
export class InstancePool {
  private readonly _live = new Map<string, JaegerInstance>();
  private readonly _closing = new Set<Promise<void>>();

  constructor(
    private readonly _max: number,
    private readonly _make: (identity: ResourceIdentity, onPoisoned: (i: JaegerInstance) => void) => JaegerInstance,
  ) {}

  /** Number of live instances. */
  get size(): number {
    return this._live.size;
  }

  /** get returns the live instance of a resource, creating it (and evicting the LRU one) when needed. */
  get(key: string, identity: ResourceIdentity): JaegerInstance {
    const found = this._live.get(key);
    if (found && !found.retired) {
      this._live.delete(key);
      this._live.set(key, found);
      return found;
    }
    const inst = this._make(identity, (i) => {
      if (this._live.get(key) === i) this._live.delete(key);
    });
    this._live.set(key, inst);
    while (this._live.size > this._max) {
      const [oldKey, old] = this._live.entries().next().value as [string, JaegerInstance];
      this._live.delete(oldKey);
      this._track(old.retire());
    }
    return inst;
  }

  /** closeAll retires every instance and waits for them; `kill` aborts requests in flight instead of waiting. */
  async closeAll(kill: boolean): Promise<void> {
    const all = [...this._live.values()];
    this._live.clear();
    for (const i of all) this._track(kill ? i.kill() : i.retire());
    await Promise.all([...this._closing]);
  }

  private _track(p: Promise<void>): void {
    this._closing.add(p);
    void p.finally(() => this._closing.delete(p));
  }
}
