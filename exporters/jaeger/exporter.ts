// The `jaeger` exporter: decodes each trace chunk, converts its spans to Jaeger thrift in one step
// (convert.ts), groups them into one batch per process (service + resource) cut at max_spans_per_request,
// and sends each batch as thrift over HTTP (or lossy UDP when asked) through the shared
// queue/retry/dead-letter skeleton.

import type { ComponentSettings } from '../../pipeline/sdk/component';
import { decodeTraces } from '../../pipeline/sdk/otlp';
import type { OtlpResourceSpans } from '../../pipeline/sdk/otlp';
import type { TraceBatch, TraceChunk } from '../../pipeline/sdk/trace-batch';
import { QueuedExporter } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import type { ExportRequest, SplitResult } from '../../pipeline/sdk/exporterhelper/exporter-helper';
import { createAgent, loadTls } from '../../pipeline/sdk/exporterhelper/http';
import type { TlsMaterial } from '../../pipeline/sdk/exporterhelper/http';
import type { JaegerExporterConfig } from './config';
import { batchesFromOtlp } from './convert';
import { HttpSender, UdpSender } from './sender';
import type { JaegerSender } from './sender';
import { loadJaegerThrift } from './thrift';
import type { JaegerThrift, ThriftBatch } from './thrift';

/** JaegerRequest is up to max_spans_per_request spans of one process: one thrift batch, one request. */
export interface JaegerRequest extends ExportRequest {
  readonly batch: ThriftBatch;
}

/** JaegerTraceExporter sends traces to Jaeger as thrift; see README.md. */
export class JaegerTraceExporter extends QueuedExporter<JaegerRequest> {
  private readonly _thrift: JaegerThrift;
  private _sender?: JaegerSender;
  private _tls?: TlsMaterial;

  constructor(
    settings: ComponentSettings,
    private readonly _cfg: JaegerExporterConfig,
  ) {
    super(settings, _cfg, _cfg.protocol === 'udp' ? `udp://${_cfg.agent_endpoint}` : _cfg.endpoint);
    this._thrift = loadJaegerThrift();
    if (_cfg.protocol === 'udp') {
      this._logger.warn(
        'jaeger exporter uses UDP: datagrams lost on the way still count as exported (no acknowledgement)',
      );
    }
    if (_cfg.max_exporters !== undefined) {
      this._logger.warn(
        'jaeger exporter: max_exporters is deprecated and has no effect (one batch per process, no library ' +
          'instances); remove it',
      );
    }
  }

  /** healthDetail: the protocol and destination (health turns not ready on failures: QueuedExporter). */
  protected override healthDetail(): string {
    const to = this._cfg.protocol === 'udp' ? this._cfg.agent_endpoint : this._cfg.endpoint;
    return `protocol ${this._cfg.protocol}, ${to}`;
  }

  protected split(batch: TraceBatch): SplitResult<JaegerRequest> {
    const decoded: OtlpResourceSpans[][] = [];
    const invalid: Array<{ chunk: TraceChunk; error: unknown }> = [];
    for (const chunk of batch.chunks) {
      try {
        decoded.push(decodeTraces(chunk.data));
      } catch (error) {
        invalid.push({ chunk, error });
      }
    }
    const requests = batchesFromOtlp(decoded, this._cfg.resource_attributes_as, this._cfg.max_spans_per_request).map(
      (b): JaegerRequest => ({ batch: b.batch, traceIds: b.traceIds, itemCount: b.batch.spans.length }),
    );
    return { requests, invalid };
  }

  protected send(request: JaegerRequest, signal: AbortSignal): Promise<void> {
    this._sender ??= this._newSender();
    return this._sender.send(request.batch, signal);
  }

  /** onStart reads the TLS files (a missing file fails start, not the first export). */
  protected override async onStart(): Promise<void> {
    this._tls ??= loadTls(this._cfg.tls);
  }

  protected override async onShutdown(): Promise<void> {
    this._sender?.close();
  }

  private _newSender(): JaegerSender {
    const c = this._cfg;
    if (c.protocol === 'udp') {
      const [host, port] = splitHostPort(c.agent_endpoint);
      return new UdpSender(this._thrift, { host, port, maxPacketSize: c.max_packet_size });
    }
    const endpoint = new URL(c.endpoint);
    const headers: Record<string, string> = { ...c.headers };
    if (c.username !== '')
      headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    const connections = c.sending_queue.num_consumers;
    const agent = createAgent(endpoint, (this._tls ??= loadTls(c.tls)), connections);
    return new HttpSender(this._thrift, { endpoint, headers, timeoutMs: c.timeout, agent, maxConcurrent: connections });
  }
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  const host = hp.slice(0, i).replace(/^\[|\]$/g, '');
  return [host === '' ? '127.0.0.1' : host, Number(hp.slice(i + 1))];
}
