// Config of the `kafka` exporter: where trace (and log) chunks go, how they are batched, split, bounded
// and timed out. Keys are snake_case as in .tsk files; durations are ms and sizes bytes once parsed.

import { z } from 'zod';
import { bool, byteSize, duration, int } from '../../pipeline/sdk/config-types';
import { notReadyAfterSchema } from '../../pipeline/sdk/exporterhelper/config';
import { kafkaClientFields } from '../../pipeline/sdk/kafka/client';
import { KAFKA_COMPRESSIONS } from '../../pipeline/sdk/kafka/codecs';

export const DEFAULT_TRACES_TOPIC = 'otlp_spans';
export const DEFAULT_LOGS_TOPIC = 'otlp_logs';
export const DEFAULT_LINGER = '5ms';
export const DEFAULT_BATCH_MAX_BYTES = '1MiB';
export const DEFAULT_MAX_MESSAGE_BYTES = '1MiB';
export const DEFAULT_MAX_INFLIGHT_BYTES = '64MiB';
export const DEFAULT_PRODUCE_TIMEOUT = '10s';
export const DEFAULT_TOPIC_PARTITIONS = 8;
export const DEFAULT_REPLICATION_FACTOR = 1;
export const DEFAULT_WATERMARK_INTERVAL = '500ms';

/** A Kafka topic name: 1-249 of [a-zA-Z0-9._-]. */
const topicName = () =>
  z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'expected a Kafka topic name: 1-249 of a-z A-Z 0-9 . _ -');

/**
 * kafkaExporterConfigSchema. Besides brokers/client_id/connect_timeout/sasl/tls (pipeline/sdk/kafka/client.ts):
 * - `topic` (default "otlp_spans"): topic of trace chunks; use e.g. "sampled" for an export tier.
 * - `logs_topic` (default "otlp_logs"): topic of log chunks.
 * - `compression` (default "none"): "none", "gzip", "snappy" (xerial-framed, as Kafka's Java client), "lz4"
 *   (LZ4 frame) or "zstd" (level 3); pipeline/sdk/kafka/codecs.ts. Consumers need the codec too (Kafka >= 2.1
 *   clients for zstd; our receiver reads all of them).
 * - `partitioner` (default "murmur2"): "murmur2" (kafkajs/Java) or "fnv1a" (Sarama / OTel Collector).
 * - `linger` (default 5ms): how long chunks of concurrent calls are gathered into one request. 0 = send
 *   each call's chunks at once (still one request per call).
 * - `batch_max_bytes` (default 1MiB): a request is sent as soon as it holds this many bytes (keys, values
 *   and record overhead). At most max_message_bytes, so no partition's record batch can outgrow the broker's limit.
 * - `max_message_bytes` (default 1MiB): the broker's/topic's `max.message.bytes`. A chunk too large for one
 *   message (with 256 bytes of record overhead) is split by spans into several messages with the same key.
 * - `max_inflight_bytes` (default 64MiB): bytes accepted but not yet acknowledged; beyond it calls are
 *   rejected at once with BackpressureError (the OTLP receiver answers 503). Never 0.
 * - `produce_timeout` (default 10s): a call that Kafka has not acknowledged by then is rejected with a
 *   retriable error (its records may still land later: at-least-once, never a false success).
 * - `create_topics` (default true): create missing topics at start (topic) / first use (logs_topic).
 * - `not_ready_after` (default 0 = at the first failed call): failing this long with no success turns
 *   /readyz 503 with the brokers and the cause (a failed call already took up to produce_timeout).
 * - `partitions` (default 8) and `replication_factor` (default 1): for topics this exporter creates.
 * - `watermark_interval` (default 500ms): how often a watermark record (empty value, `tusk.watermark*`
 *   headers) is written to every partition of `topic`, saying that no record accepted before it will follow
 *   from this exporter; the sampling tier waits `decision_wait` on that clock (pipeline/sdk/kafka/event-time.ts).
 *   Trace records carry their accept time as record timestamp. 0 = no watermark records.
 */
export const kafkaExporterConfigSchema = z
  .object({
    ...kafkaClientFields,
    topic: topicName().default(DEFAULT_TRACES_TOPIC),
    logs_topic: topicName().default(DEFAULT_LOGS_TOPIC),
    compression: z.enum(KAFKA_COMPRESSIONS).default('none'),
    partitioner: z.enum(['murmur2', 'fnv1a']).default('murmur2'),
    linger: duration({ min: 0, max: 60_000 }).prefault(DEFAULT_LINGER),
    batch_max_bytes: byteSize({ min: 4096 }).prefault(DEFAULT_BATCH_MAX_BYTES),
    max_message_bytes: byteSize({ min: 4096 }).prefault(DEFAULT_MAX_MESSAGE_BYTES),
    max_inflight_bytes: byteSize({ min: 4096 }).prefault(DEFAULT_MAX_INFLIGHT_BYTES),
    produce_timeout: duration({ min: 100 }).prefault(DEFAULT_PRODUCE_TIMEOUT),
    not_ready_after: notReadyAfterSchema('0s'),
    create_topics: bool().default(true),
    partitions: int({ min: 1, max: 10_000 }).default(DEFAULT_TOPIC_PARTITIONS),
    replication_factor: int({ min: 1, max: 32 }).default(DEFAULT_REPLICATION_FACTOR),
    watermark_interval: duration({ min: 0, max: 60_000 }).prefault(DEFAULT_WATERMARK_INTERVAL),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.batch_max_bytes > c.max_message_bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['batch_max_bytes'],
        message: `must be at most max_message_bytes (${c.max_message_bytes}): the messages of one request may all land on one partition, whose record batch the broker limits`,
        input: c.batch_max_bytes,
      });
    }
    if (c.max_inflight_bytes < c.max_message_bytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_inflight_bytes'],
        message: `must be at least max_message_bytes (${c.max_message_bytes})`,
        input: c.max_inflight_bytes,
      });
    }
  });

/** KafkaExporterConfig is the parsed config (durations in ms, sizes in bytes). */
export type KafkaExporterConfig = z.output<typeof kafkaExporterConfigSchema>;
