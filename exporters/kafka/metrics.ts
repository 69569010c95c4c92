// Prometheus metrics of the `kafka` exporter, pre-bound to the exporter's component id (label `exporter`).

import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counter, gauge, histogram } from '../../pipeline/sdk/kafka/metrics';

/** Why a call was not acknowledged. */
export type ProduceFailure = 'kafka' | 'timeout' | 'backpressure' | 'too_large' | 'rejected' | 'shutdown';

/** KafkaExporterMetrics records what one exporter produced and what failed. */
export class KafkaExporterMetrics {
  private readonly _messages: Counter<'exporter' | 'topic'>;
  private readonly _bytes: Counter<'exporter' | 'topic'>;
  private readonly _errors: Counter<'exporter' | 'retriable' | 'reason'>;
  private readonly _latency: Histogram<'exporter'>;
  private readonly _inflight: Gauge<'exporter'>;
  private readonly _split: Counter<'exporter'>;
  private readonly _watermarks: Counter<'exporter' | 'outcome'>;

  constructor(
    registry: Registry,
    private readonly _exporter: string,
  ) {
    this._messages = counter(registry, {
      name: 'tusk_kafka_produced_messages_total',
      help: 'Messages Kafka acknowledged (acks=all).',
      labelNames: ['exporter', 'topic'],
    });
    this._bytes = counter(registry, {
      name: 'tusk_kafka_produced_bytes_total',
      help: 'Message value bytes Kafka acknowledged.',
      labelNames: ['exporter', 'topic'],
    });
    this._errors = counter(registry, {
      name: 'tusk_kafka_produce_errors_total',
      help: 'Calls the exporter did not acknowledge, by retriable and reason (kafka, timeout, backpressure, too_large, rejected, shutdown).',
      labelNames: ['exporter', 'retriable', 'reason'],
    });
    this._latency = histogram(registry, {
      name: 'tusk_kafka_produce_latency_seconds',
      help: 'Duration of one produce request (sendBatch) until Kafka acknowledged or failed it.',
      labelNames: ['exporter'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this._inflight = gauge(registry, {
      name: 'tusk_kafka_inflight_bytes',
      help: 'Bytes accepted by the exporter and not yet acknowledged by Kafka.',
      labelNames: ['exporter'],
    });
    this._split = counter(registry, {
      name: 'tusk_kafka_split_chunks_total',
      help: 'Trace or log chunks split into several messages because they exceeded max_message_bytes.',
      labelNames: ['exporter'],
    });
    this._watermarks = counter(registry, {
      name: 'tusk_kafka_watermark_records_total',
      help: 'Watermark records written to the trace topic (outcome written), or not written (failed).',
      labelNames: ['exporter', 'outcome'],
    });
    this._inflight.set({ exporter: this._exporter }, 0);
  }

  /** produced counts acknowledged messages and value bytes of one topic. */
  produced(topic: string, messages: number, bytes: number): void {
    this._messages.inc({ exporter: this._exporter, topic }, messages);
    this._bytes.inc({ exporter: this._exporter, topic }, bytes);
  }

  /** failed counts one call that was not acknowledged. */
  failed(reason: ProduceFailure, retriable: boolean): void {
    this._errors.inc({ exporter: this._exporter, retriable: String(retriable), reason });
  }

  /** requestDone observes one sendBatch duration. */
  requestDone(seconds: number): void {
    this._latency.observe({ exporter: this._exporter }, seconds);
  }

  /** inflight sets the in-flight bytes gauge. */
  inflight(bytes: number): void {
    this._inflight.set({ exporter: this._exporter }, bytes);
  }

  /** watermarks counts watermark records written or not. */
  watermarks(written: boolean, records: number): void {
    this._watermarks.inc({ exporter: this._exporter, outcome: written ? 'written' : 'failed' }, records);
  }

  /** split counts a chunk that had to be split. */
  split(): void {
    this._split.inc({ exporter: this._exporter });
  }
}
