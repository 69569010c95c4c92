// The `kafka` exporter: one Kafka message per trace chunk (value = the chunk's OTLP bytes, key = its trace
// id; the OpenTelemetry Collector's wire format), produced idempotently with acks=all; a call resolves only
// when Kafka acknowledged every message of it. Chunks larger than max_message_bytes are split by spans into
// several messages with the same key. Log chunks go to logs_topic the same way. Every record carries its
// accept time as timestamp; every watermark_interval a watermark record goes to each partition of the trace
// topic (pipeline/sdk/kafka/event-time.ts), and a last one saying "ended" at shutdown.
// Log chunks are co-partitioned with trace chunks (pipeline/sdk/kafka/co-partition.ts): a trace's logs go to
// the logs_topic partition with the number of its spans' partition, so one sampler reads both. logs_topic is
// created with the trace topic's partition count; when the counts differ, health says so (degraded).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { ComponentHealth, ComponentSettings, Exporter, Host } from '../../pipeline/sdk/component';
import { once } from '../../pipeline/sdk/component';
import { PipelineError, ShutdownError } from '../../pipeline/sdk/errors';
import {
  framedBytesOf,
  type LogBatch,
  type LogChunk,
  type TraceBatch,
  type TraceChunk,
} from '../../pipeline/sdk/trace-batch';
import { KAFKA_START_BACKOFF, kafkaConfig } from '../../pipeline/sdk/kafka/client';
import { compressionType } from '../../pipeline/sdk/kafka/codecs';
import { writesFramedValues } from '../../pipeline/sdk/kafka/produce-encoding';
import { KafkaError, KafkaErrorCode } from '../../pipeline/sdk/kafka/errors';
import { keyPartitioner, partitionerFor } from '../../pipeline/sdk/kafka/partitioners';
import { ensureTopics, partitionCount } from '../../pipeline/sdk/kafka/topics';
import {
  coPartitionVerdict,
  topicPartitionCounts,
  type CoPartitionVerdict,
} from '../../pipeline/sdk/kafka/co-partition';
import { AcceptClock, InFlightAcceptTimes, watermarkMessage } from '../../pipeline/sdk/kafka/event-time';
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
  /** Chunks that can write themselves into a produce request are handed over as FramedBytes, not built. */
  private _framedValues = false;
  private _kafka?: Kafka;
  private _producer?: ManagedProducer;
  private _batcher?: ProduceBatcher;
  private readonly _topics = new Map<string, { ready: boolean; promise: Promise<void> }>();
  private _closed = false;
  private readonly _stop = new AbortController();
  private _lastError?: { at: number; message: string };
  /** Outcome of the calls: the warn line of a failure streak and the not-ready verdict (the SDK's one mechanism). */
  private readonly _status: ExportStatus;
  /** Accept times of the records in flight to the trace topic (watermark_interval > 0). */
  private readonly _inFlight?: InFlightAcceptTimes;
  private readonly _acceptClock = new AcceptClock();
  private readonly _partitionOf: (key: Buffer, numPartitions: number) => number;
  /** Partition count of the trace topic, once known. */
  private _partitions?: number;
  /** This process's name in its watermark records. */
  readonly writerId: string;
  private _watermarks?: { producer: ManagedProducer; timer: NodeJS.Timeout; sending?: Promise<void> };
  /** The partition counts of topic and logs_topic compared (at the first logs call); retried when it failed. */
  private _coPartitionCheck?: Promise<void>;
  private _coPartition?: CoPartitionVerdict;
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
    if (_cfg.watermark_interval > 0) this._inFlight = new InFlightAcceptTimes();
    this._partitionOf = keyPartitioner(_cfg.partitioner);
    this.writerId = `${_settings.id}@${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
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
    this._framedValues = writesFramedValues(compressionType(cfg.compression));
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
        inFlight: this._inFlight,
      },
      (topicMessages) => this._sendRequest(topicMessages),
      this._metrics,
    );
    void this._topic(cfg.topic);
    if (cfg.watermark_interval > 0) {
      // Its own producer: a watermark send never waits behind data, nor retires the data producer when it fails.
      const producer = new ManagedProducer(
        this._kafka,
        {
          createPartitioner: partitionerFor(cfg.partitioner),
          retry: { ...retry, retries: 0 },
          ackTimeoutMs: requestTimeoutMs,
          compression: compressionType('none'),
        },
        this._logger,
      );
      const timer = setInterval(() => this._tickWatermarks(), cfg.watermark_interval);
      timer.unref();
      this._watermarks = { producer, timer };
    }
  }

  /** consumeTraces produces one message per chunk (more when a chunk is split) and resolves once all are acknowledged. */
  consumeTraces(batch: TraceBatch): Promise<void> {
    const watermarked = this._inFlight !== undefined;
    return this._submit(this._cfg.topic, batch.chunks, watermarked, watermarked ? this._partitions : undefined);
  }

  /**
   * consumeLogs produces one message per log chunk to logs_topic, keyed by trace id (no key for traceId ''),
   * to the partition its trace's spans go to in the trace topic once both topics are known to have the same
   * partition count (before, and when they differ, the producer's partitioner picks it).
   */
  consumeLogs(batch: LogBatch): Promise<void> {
    this._checkCoPartitioning();
    const co = this._coPartition;
    return this._submit(this._cfg.logs_topic, batch.chunks, false, co?.ok ? co.partitions : undefined);
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
    const co = this._coPartition?.ok === false ? `; ${this._coPartition.detail}` : '';
    return {
      ready: true,
      degraded: inflight > 0.8 * this._cfg.max_inflight_bytes || co !== '',
      detail: `${inflight} bytes in flight to ${this._cfg.topic}${co}`,
    };
  }

  /**
   * _submit produces the chunks to `topic`, stamped with their accept time; with `partitions` (a partition
   * count) keyed ones are written to the partition computed here; `watermarked` ones are counted in flight.
   */
  private _submit(
    topic: string,
    chunks: readonly (TraceChunk | LogChunk)[],
    watermarked: boolean,
    partitions: number | undefined,
  ): Promise<void> {
    if (!this._batcher || this._closed) return Promise.reject(new ShutdownError(this._settings.id));
    const messages: OutMessage[] = [];
    const headers = currentTraceHeaders();
    const acceptedAt = this._acceptClock.now();
    try {
      for (const chunk of chunks) {
        const key = chunk.traceId === '' ? null : Buffer.from(chunk.traceId, 'latin1');
        const partition = key && partitions !== undefined ? this._partitionOf(key, partitions) : undefined;
        const common = { topic, key, headers, acceptedAt, partition, watermarked };
        const framed = this._framedValues ? framedBytesOf(chunk) : undefined;
        if ((framed ? framed.byteLength : chunk.data.length) <= this._valueLimit) {
          messages.push({ ...common, value: framed ?? asBuffer(chunk.data) });
          continue;
        }
        this._metrics.split();
        for (const part of splitBySize(chunk.data, this._valueLimit))
          messages.push({ ...common, value: asBuffer(part) });
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
      // logs_topic is created with the trace topic's partition count (co-partitioned), once that one is there.
      const logs = topic === this._cfg.logs_topic && topic !== this._cfg.topic;
      const spec = {
        topic,
        partitions: this._cfg.partitions,
        replicationFactor: this._cfg.replication_factor,
        partitionsLike: logs ? this._cfg.topic : undefined,
      };
      const attempt = async (): Promise<void> => {
        if (logs) await this._topic(this._cfg.topic).promise;
        try {
          const [found] = await ensureTopics(this._kafka as Kafka, this._logger, [spec], this._cfg.produce_timeout);
          if (topic === this._cfg.topic && found.partitions > 0) this._partitions = found.partitions;
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

  /**
   * _checkCoPartitioning compares, once both topics are there, the partition counts of topic and logs_topic;
   * a difference is logged (warning) and shown in health. A failed check is made again at the next logs call.
   */
  private _checkCoPartitioning(): void {
    if (this._coPartitionCheck || this._closed || !this._kafka) return;
    const { topic, logs_topic: logs } = this._cfg;
    if (topic === logs) return;
    this._coPartitionCheck = (async () => {
      await Promise.all([this._topic(topic).promise, this._topic(logs).promise]);
      if (this._closed) return;
      const verdict = coPartitionVerdict(
        await topicPartitionCounts(this._kafka as Kafka, [topic, logs]),
        [topic],
        logs,
      );
      this._coPartition = verdict;
      if (!verdict.ok) this._logger.warn({ topic, logs_topic: logs }, verdict.detail);
    })().catch((err: unknown) => {
      this._coPartitionCheck = undefined;
      this._logger.debug({ err, topic, logs_topic: logs }, 'partition counts not compared yet (next logs call)');
    });
  }

  /**
   * _tickWatermarks writes, unless the previous write is still going, one watermark record to each partition
   * of the trace topic: the oldest accept time in flight to it, or now.
   */
  private _tickWatermarks(): void {
    const wm = this._watermarks;
    if (!wm || wm.sending || this._closed) return;
    wm.sending = this._writeWatermarks(false).finally(() => {
      wm.sending = undefined;
    });
  }

  /** _writeWatermarks writes the current watermarks, or the end notices (`end`); resolves once done or failed. */
  private async _writeWatermarks(end: boolean): Promise<void> {
    const wm = this._watermarks;
    const inFlight = this._inFlight;
    if (!wm || !inFlight) return;
    const topic = this._cfg.topic;
    try {
      if (this._partitions === undefined) {
        if (!this._topic(topic).ready) return;
        const n = await partitionCount(this._kafka as Kafka, topic);
        if (n > 0) this._partitions = n;
        return; // records accepted before the count was known hold every partition: next tick
      }
      const now = this._acceptClock.now();
      const messages = Array.from({ length: this._partitions }, (_, p) =>
        watermarkMessage(this.writerId, p, end ? undefined : Math.min(inFlight.oldest(p) ?? now, now)),
      );
      await wm.producer.send([{ topic, messages }]);
      this._metrics.watermarks(true, messages.length);
    } catch (err) {
      this._metrics.watermarks(false, this._partitions ?? 0);
      this._logger.debug({ err, topic }, 'watermark records not written (the next interval writes newer ones)');
    }
  }

  private async _shutdown(): Promise<void> {
    this._closed = true;
    this._stop.abort();
    if (this._watermarks) clearInterval(this._watermarks.timer);
    // Give accepted calls the time they were promised; what is still unacknowledged is rejected retriably.
    await this._batcher?.close(this._cfg.produce_timeout);
    if (this._watermarks) {
      await this._watermarks.sending;
      // Nothing of ours can follow any more (unless a send outlived the close): readers forget this writer now.
      if (this._inFlight?.size === 0) await this._writeWatermarks(true);
      await this._watermarks.producer.close();
    }
    await this._producer?.close();
  }
}
