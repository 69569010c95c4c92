// The `kafka` exporter: one Kafka message per trace chunk (value = the chunk's OTLP bytes, key = its trace
// id; the OpenTelemetry Collector's wire format), produced idempotently with acks=all; a call resolves only
// when Kafka acknowledged every message of it. Chunks larger than max_message_bytes are split by spans into
// several messages with the same key. Log chunks go to logs_topic the same way.

import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { ComponentHealth, ComponentSettings, Exporter, Host } from '../../pipeline/sdk/component';
import { once } from '../../pipeline/sdk/component';
import { PipelineError, ShutdownError } from '../../pipeline/sdk/errors';
import type { LogBatch, TraceBatch } from '../../pipeline/sdk/trace-batch';
import { KAFKA_START_BACKOFF, kafkaConfig } from '../../pipeline/sdk/kafka/client';
import { compressionType } from '../../pipeline/sdk/kafka/codecs';
import { KafkaError, KafkaErrorCode } from '../../pipeline/sdk/kafka/errors';
import { partitionerFor } from '../../pipeline/sdk/kafka/partitioners';
import { ensureTopics } from '../../pipeline/sdk/kafka/topics';
import { ProduceBatcher, type OutMessage } from './batcher';
import type { KafkaExporterConfig } from './config';
import { KafkaExporterMetrics } from './metrics';
import { ManagedProducer } from '../../pipeline/sdk/kafka/producer';
import { retry } from '../../pipeline/sdk/retry';
import { splitBySize } from './split';
import { currentTraceHeaders } from '../../pipeline/sdk/self-telemetry/kafka-context';
import { ExportStatus } from '../../pipeline/sdk/exporterhelper/export-status';

/** How long a Kafka error stays worth naming in a produce timeout (older ones say nothing about now). */
const LAST_ERROR_RELEVANT_MS = 60_000;

/** Bytes of a message's record batch kept for everything but the value (key, record and batch headers). */
export const MESSAGE_HEADROOM_BYTES = 256;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** KafkaExporter implements the `kafka` exporter. */
export class KafkaExporter implements Exporter {
  readonly capabilities = { mutatesData: false } as const;
  private readonly _logger: Logger;
  private readonly _metrics: KafkaExporterMetrics;
  private readonly _valueLimit: number;
  private _kafka?: Kafka;
  private _producer?: ManagedProducer;
  private _batcher?: ProduceBatcher;
  private readonly _topics = new Map<string, { ready: boolean; promise: Promise<void> }>();
  private _closed = false;
  private readonly _stop = new AbortController();
  private _lastError?: { at: number; message: string };
  /** Outcome of the calls: the warn line of a failure streak and the not-ready verdict (the SDK's one mechanism). */
  private readonly _status: ExportStatus;
  readonly shutdown: () => Promise<void>;

  constructor(
    private readonly _settings: ComponentSettings,
    private readonly _cfg: KafkaExporterConfig,
  ) {
    this._logger = _settings.logger;
    this._metrics = new KafkaExporterMetrics(_settings.metrics, _settings.id);
    this._valueLimit = _cfg.max_message_bytes - MESSAGE_HEADROOM_BYTES;
    this._status = new ExportStatus({
      component: _settings.id,
      endpoint: `kafka ${_cfg.brokers.join(',')} topic ${_cfg.topic}`,
      logger: _settings.logger,
      notReadyAfterMs: _cfg.not_ready_after,
    });
    this.shutdown = once(() => this._shutdown());
  }

  /** start creates the client and producer; the topic is made sure of in the background (see health). */
  async start(_host: Host): Promise<void> {
    if (this._closed || this._batcher) return;
    const cfg = this._cfg;
    // kafkajs retries a send itself; bound its retries to about produce_timeout so a send given up by the
    // caller does not linger (backoff 100ms doubling to 2s: ~3.1s for 5 retries, then 2s each).
    const retries = 5 + Math.ceil(Math.max(0, cfg.produce_timeout - 3100) / 2000);
    const retry = { initialRetryTime: 100, maxRetryTime: 2000, retries };
    const requestTimeoutMs = Math.min(30_000, Math.max(1000, cfg.produce_timeout));
    this._kafka = new Kafka(kafkaConfig(cfg, this._logger, { requestTimeoutMs, retry }));
    this._producer = new ManagedProducer(
      this._kafka,
      {
        createPartitioner: partitionerFor(cfg.partitioner),
        retry,
        ackTimeoutMs: requestTimeoutMs,
        compression: compressionType(cfg.compression),
      },
      this._logger,
    );
    this._batcher = new ProduceBatcher(
      {
        component: this._settings.id,
        lingerMs: cfg.linger,
        batchMaxBytes: cfg.batch_max_bytes,
        maxInflightBytes: cfg.max_inflight_bytes,
        produceTimeoutMs: cfg.produce_timeout,
        lastError: () =>
          this._lastError && Date.now() - this._lastError.at < LAST_ERROR_RELEVANT_MS
            ? this._lastError.message
            : undefined,
        onSuccess: () => this._status.succeeded(),
        onFailure: (err) => this._status.failed(err),
      },
      (topicMessages) => this._sendRequest(topicMessages),
      this._metrics,
    );
    void this._topic(cfg.topic);
  }

  /** consumeTraces produces one message per chunk (more when a chunk is split) and resolves once all are acknowledged. */
  consumeTraces(batch: TraceBatch): Promise<void> {
    return this._submit(this._cfg.topic, batch.chunks);
  }

  /** consumeLogs produces one message per log chunk to logs_topic, keyed by trace id (no key for traceId ''). */
  consumeLogs(batch: LogBatch): Promise<void> {
    return this._submit(this._cfg.logs_topic, batch.chunks);
  }

  /**
   * health is ready once the topic is there, unless calls have failed (or timed out) with no success for
   * not_ready_after (default 0: the last call failed), with the brokers and the cause as the reason.
   */
  health(): ComponentHealth {
    if (!this._batcher || this._closed) return { ready: false, detail: this._closed ? 'shut down' : 'not started' };
    const topic = this._topics.get(this._cfg.topic);
    if (topic && !topic.ready)
      return {
        ready: false,
        detail: `waiting for topic ${this._cfg.topic}${this._lastError ? `: ${this._lastError.message}` : ''}`,
      };
    const failing = this._status.health();
    if (failing) return failing;
    const inflight = this._batcher.inflightBytes;
    return {
      ready: true,
      degraded: inflight > 0.8 * this._cfg.max_inflight_bytes,
      detail: `${inflight} bytes in flight to ${this._cfg.topic}`,
    };
  }

  private _submit(topic: string, chunks: readonly { traceId: string; data: Uint8Array }[]): Promise<void> {
    if (!this._batcher || this._closed) return Promise.reject(new ShutdownError(this._settings.id));
    const messages: OutMessage[] = [];
    const headers = currentTraceHeaders();
    try {
      for (const chunk of chunks) {
        const key = chunk.traceId === '' ? null : Buffer.from(chunk.traceId, 'latin1');
        if (chunk.data.length <= this._valueLimit) {
          messages.push({ topic, key, value: asBuffer(chunk.data), headers });
          continue;
        }
        this._metrics.split();
        for (const part of splitBySize(chunk.data, this._valueLimit))
          messages.push({ topic, key, value: asBuffer(part), headers });
      }
    } catch (err) {
      const retriable = err instanceof PipelineError ? err.retriable : false;
      this._metrics.failed(
        err instanceof PipelineError && err.code === KafkaErrorCode.MESSAGE_TOO_LARGE ? 'too_large' : 'rejected',
        retriable,
      );
      return Promise.reject(err);
    }
    return this._batcher.submit(messages);
  }

  private async _sendRequest(topicMessages: Parameters<ManagedProducer['send']>[0]): Promise<void> {
    for (const tm of topicMessages) {
      const t = this._topic(tm.topic);
      if (!t.ready) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new KafkaError(
                  KafkaErrorCode.PRODUCE,
                  `topic ${tm.topic} is not ready${this._lastError ? `: ${this._lastError.message}` : ''}`,
                  { topic: tm.topic },
                ),
              ),
            this._cfg.produce_timeout,
          );
        });
        try {
          await Promise.race([t.promise, timeout]);
        } finally {
          clearTimeout(timer);
        }
      }
    }
    try {
      await (this._producer as ManagedProducer).send(topicMessages);
    } catch (err) {
      this._lastError = { at: Date.now(), message: err instanceof Error ? err.message : String(err) };
      throw err;
    }
  }

  /** _topic returns the (memoized) readiness of a topic: created if missing when create_topics, retried until it works. */
  private _topic(topic: string): { ready: boolean; promise: Promise<void> } {
    let t = this._topics.get(topic);
    if (t) return t;
    const state = { ready: !this._cfg.create_topics, promise: Promise.resolve() };
    if (this._cfg.create_topics) {
      const spec = { topic, partitions: this._cfg.partitions, replicationFactor: this._cfg.replication_factor };
      const attempt = async (): Promise<void> => {
        try {
          await ensureTopics(this._kafka as Kafka, this._logger, [spec], this._cfg.produce_timeout);
        } catch (err) {
          this._lastError = { at: Date.now(), message: err instanceof Error ? err.message : String(err) };
          throw err;
        }
        state.ready = true;
      };
      const onRetry = (err: unknown, _delayMs: number, retryNumber: number): void => {
        const log = retryNumber === 1 ? this._logger.warn.bind(this._logger) : this._logger.debug.bind(this._logger);
        log({ err, topic, attempt: retryNumber }, 'cannot make sure of the Kafka topic yet; retrying');
      };
      // Retried until it works or the exporter shuts down; sends wait for it up to produce_timeout each.
      state.promise = retry(KAFKA_START_BACKOFF, attempt, {
        retriable: () => true,
        signal: this._stop.signal,
        onRetry,
      }).catch(() => undefined);
    }
    t = state;
    this._topics.set(topic, t);
    return t;
  }

  private async _shutdown(): Promise<void> {
    this._closed = true;
    this._stop.abort();
    // Give accepted calls the time they were promised; what is still unacknowledged is rejected retriably.
    await this._batcher?.close(this._cfg.produce_timeout);
    await this._producer?.close();
  }
}
