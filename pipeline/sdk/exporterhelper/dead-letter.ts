// Dead-letter writer: puts traces a backend rejected for good on a Kafka topic, in the same wire format as
// `otlp_spans` (value = the trace's original OTLP ExportTraceServiceRequest bytes, key = trace id), plus
// headers saying which exporter rejected them and why. Uses kafkajs directly (acks = all, idempotent).

import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { ExporterErrorCode, ExportError } from './errors';

/** DeadLetterOptions configure the writer. */
export interface DeadLetterOptions {
  readonly component: string;
  readonly topic: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
}

/** The reason attached to dead-lettered messages. */
export interface DeadLetterReason {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
}

/**
 * DeadLetterWriter connects lazily on the first write and writes with acks=all. `write` rejects with a
 * retriable ExportError DEAD_LETTER when Kafka does not take the messages. `close` is idempotent.
 */
export class DeadLetterWriter {
  private _producer?: Producer;
  private _connecting?: Promise<Producer>;
  private _closed = false;

  constructor(private readonly _opts: DeadLetterOptions) {}

  /**
   * write puts the chunks on the dead-letter topic; resolves once Kafka acknowledged all of them. Log chunks
   * carry the header `tusk-signal: logs` (their value is an ExportLogsServiceRequest; keyless for records
   * outside any trace).
   */
  async write(chunks: readonly { readonly traceId: string; readonly data: Uint8Array }[], reason: DeadLetterReason, signal: 'traces' | 'logs' = 'traces'): Promise<void> {
    if (chunks.length === 0) return;
    try {
      const producer = await this._connect();
      const headers: Record<string, string> = {
        'tusk-exporter': this._opts.component,
        'tusk-error-code': reason.code,
        'tusk-error': reason.message.slice(0, 1000),
        'tusk-dead-lettered-at': new Date().toISOString(),
      };
      if (reason.status !== undefined) headers['tusk-status'] = String(reason.status);
      if (signal === 'logs') headers['tusk-signal'] = 'logs';
      await producer.send({
        topic: this._opts.topic,
        acks: -1,
        messages: chunks.map((c) => ({ key: c.traceId === '' ? null : c.traceId, value: Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength), headers })),
      });
    } catch (err) {
      throw new ExportError(ExporterErrorCode.DEAD_LETTER, `${this._opts.component}: writing ${chunks.length} ${signal === 'logs' ? 'log chunk(s)' : 'trace(s)'} to dead-letter topic ${this._opts.topic} failed: ${errorMessage(err)}`, {
        cause: err,
        retriable: true,
        component: this._opts.component,
      });
    }
  }

  /** close disconnects the producer. Idempotent; safe when never connected. */
  async close(): Promise<void> {
    this._closed = true;
    const p = this._producer ?? (await this._connecting?.catch(() => undefined));
    this._producer = undefined;
    this._connecting = undefined;
    await p?.disconnect().catch((err: unknown) => this._opts.logger.warn({ err }, 'dead-letter producer disconnect failed'));
  }

  private _connect(): Promise<Producer> {
    if (this._closed) return Promise.reject(new Error('dead-letter writer is closed'));
    if (this._producer) return Promise.resolve(this._producer);
    this._connecting ??= (async () => {
      const log = this._opts.logger;
      const kafka = new Kafka({
        clientId: `tusk-collector-${this._opts.component}-dlq`,
        brokers: [...this._opts.brokers],
        connectionTimeout: 5000,
        retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5000 },
        logLevel: logLevel.WARN,
        logCreator: () => (entry) => log.warn({ kafkajs: entry.log }, `kafkajs: ${entry.log.message}`),
      });
      // Murmur2 (Java-compatible) on the trace-id key, stated explicitly (kafkajs warns otherwise).
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
      try {
        await producer.connect();
      } catch (err) {
        this._connecting = undefined;
        throw err;
      }
      this._producer = producer;
      return producer;
    })();
    return this._connecting;
  }
}
