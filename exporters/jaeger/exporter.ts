// The `jaeger` exporter: decodes each trace chunk, converts OTLP spans to SDK ReadableSpans, groups them by
// resource (one JaegerExporter instance per resource, see instances.ts) and sends them as thrift over HTTP
// (or lossy UDP when asked), through the shared queue/retry/dead-letter skeleton.

import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ComponentHealth, ComponentSettings } from '../../pipeline/sdk/component';
import { decodeTraces } from '../../pipeline/sdk/otlp';
import type { TraceBatch, TraceChunk } from '../../pipeline/sdk/trace-batch';
import { QueuedExporter } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import type { ExportRequest, SplitResult } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import { createAgent, loadTls } from '../../pipeline/sdk/exporterhelper/http';
import type { TlsMaterial } from '../../pipeline/sdk/exporterhelper/http';
import type { JaegerExporterConfig } from './config';
import { readableSpansFromOtlp } from './convert';
import { InstancePool, JaegerInstance, resourceKey, serviceNameOf } from './instances';
import type { ResourceIdentity, SenderFactory } from './instances';
import { createUdpSender, ThriftHttpSender } from './sender';
import { forJaegerThrift, spanResourceFor } from './thrift-shape';

/** JaegerRequest is up to max_spans_per_request spans of one resource: one thrift batch, one request. */
export interface JaegerRequest extends ExportRequest {
  readonly key: string;
  readonly identity: ResourceIdentity;
  readonly spans: ReadableSpan[];
}

interface Group {
  readonly identity: ResourceIdentity;
  readonly spans: ReadableSpan[];
}

/** Extra time the library gets beyond the request timeout before an export counts as hung. */
const LIBRARY_GRACE_MS = 2000;

/** JaegerTraceExporter sends traces to Jaeger as thrift; see README.md. */
export class JaegerTraceExporter extends QueuedExporter<JaegerRequest> {
  private readonly _pool: InstancePool;
  private readonly _newSender: SenderFactory;
  private _tls?: TlsMaterial;

  constructor(settings: ComponentSettings, private readonly _cfg: JaegerExporterConfig) {
    super(settings, _cfg);
    this._newSender = this._senderFactory();
    this._pool = new InstancePool(_cfg.max_exporters, (identity, onPoisoned) => {
      const processTags = this._cfg.resource_attributes_as === 'process_tags' ? withoutServiceName(identity.attributes) : {};
      return new JaegerInstance(identity, processTags, this._newSender, _cfg.timeout + LIBRARY_GRACE_MS, onPoisoned);
    });
    if (_cfg.protocol === 'udp') {
      this._logger.warn('jaeger exporter uses UDP: datagrams lost on the way still count as exported (no acknowledgement)');
    }
  }

  /** health: ready while the exporter runs; the live instance count is in the detail. */
  health(): ComponentHealth {
    return { ready: true, detail: `${this._pool.size} jaeger exporter instance(s), protocol ${this._cfg.protocol}` };
  }

  protected split(batch: TraceBatch): SplitResult<JaegerRequest> {
    const groups = new Map<string, Group>();
    const invalid: Array<{ chunk: TraceChunk; error: unknown }> = [];
    const asProcess = this._cfg.resource_attributes_as === 'process_tags';
    for (const chunk of batch.chunks) {
      let converted;
      try {
        converted = readableSpansFromOtlp(decodeTraces(chunk.data));
      } catch (error) {
        invalid.push({ chunk, error });
        continue;
      }
      for (const g of converted) {
        const identity = { serviceName: serviceNameOf(g.resourceAttributes), attributes: g.resourceAttributes };
        const key = resourceKey(identity);
        let group = groups.get(key);
        if (!group) {
          group = { identity, spans: [] };
          groups.set(key, group);
        }
        const resource = spanResourceFor(g.resourceAttributes, asProcess);
        for (const s of g.spans) group.spans.push(forJaegerThrift(s, resource));
      }
    }
    const requests: JaegerRequest[] = [];
    const max = this._cfg.max_spans_per_request;
    for (const [key, g] of groups) {
      for (let i = 0; i < g.spans.length; i += max) {
        const spans = g.spans.slice(i, i + max);
        const traceIds = [...new Set(spans.map((s) => s.spanContext().traceId))];
        requests.push({ key, identity: g.identity, spans, traceIds, itemCount: spans.length });
      }
    }
    return { requests, invalid };
  }

  protected send(request: JaegerRequest, signal: AbortSignal): Promise<void> {
    return this._pool.get(request.key, request.identity).export(request.spans, signal);
  }

  /** onStart reads the TLS files (a missing file fails start, not the first export). */
  protected override async onStart(): Promise<void> {
    this._tls ??= loadTls(this._cfg.tls);
  }

  protected override async onShutdown(): Promise<void> {
    await this._pool.closeAll(false);
  }

  private _senderFactory(): SenderFactory {
    const c = this._cfg;
    if (c.protocol === 'udp') {
      const [host, port] = splitHostPort(c.agent_endpoint);
      return () => createUdpSender({ host, port, maxPacketSize: c.max_packet_size });
    }
    const endpoint = new URL(c.endpoint);
    const headers: Record<string, string> = { ...c.headers };
    if (c.username !== '') headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    return () =>
      new ThriftHttpSender({
        endpoint,
        headers,
        timeoutMs: c.timeout,
        // One connection per instance is enough: an instance sends one request at a time.
        agent: createAgent(endpoint, (this._tls ??= loadTls(c.tls)), 1),
        maxSpanBatchSize: c.max_spans_per_request + 1,
      });
  }
}

function withoutServiceName(attrs: Attributes): Attributes {
  const { ['service.name']: _omit, ...rest } = attrs;
  return rest;
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  const host = hp.slice(0, i).replace(/^\[|\]$/g, '');
  return [host === '' ? '127.0.0.1' : host, Number(hp.slice(i + 1))];
}
