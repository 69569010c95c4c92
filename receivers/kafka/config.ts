// Config of the `kafka` receiver: the consumer group, topics, how many unsettled bytes a partition may
// hold, how often the settled watermark is committed, and where poison messages go.

import { z } from 'zod';
import { bool, byteSize, duration, int, stringList } from '../../pipeline/sdk/config-types';
import { kafkaClientFields, kafkaTopicName } from '../../pipeline/sdk/kafka/client';
import { deadLetterSchema } from '../../pipeline/sdk/kafka/dead-letter';

export const DEFAULT_TOPIC = 'otlp_spans';
export const DEFAULT_GROUP = 'tusk-sampler';
export const DEFAULT_SESSION_TIMEOUT = '30s';
export const DEFAULT_INFLIGHT_PER_PARTITION = '16MiB';
export const DEFAULT_COMMIT_INTERVAL = '1s';
export const DEFAULT_FETCH_MAX_WAIT = '250ms';
export const DEFAULT_FETCH_MIN_BYTES = '1MiB';
export const DEFAULT_DRAIN_TIMEOUT = '5s';
export const DEFAULT_DETACH_AFTER = '5s';
export const DEFAULT_PARTITIONS = 8;
export const DEFAULT_WATERMARK_WRITER_EXPIRY = '30s';

/**
 * kafkaReceiverConfigSchema. Besides brokers/client_id/connect_timeout/sasl/tls (pipeline/sdk/kafka/client.ts):
 * - `topic` (default "otlp_spans"): trace topic(s): one name, a list, or a comma-separated string. [] = none
 *   (a logs-only receiver).
 * - `logs_topic` (default '' = none): topic of log chunks, handed to the logs pipeline (which must exist).
 * - `group` (default "tusk-sampler"): consumer group id; the sampling tier scales up to the partition count.
 * - `session_timeout` (default 30s): the broker drops a member silent this long (heartbeats every third of it, at most 3s).
 * - `max_inflight_bytes_per_partition` (default 16MiB): unsettled bytes one partition may hold before it is
 *   paused (resumed when below again); it may go over by one fetch (at most 1MiB per partition).
 * - `commit_interval` (default 1s): how often the settled watermark is committed (also on rebalance and
 *   shutdown). It bounds how much settled work a kill -9 replays.
 * - `start_from` (default "earliest"): where a group without a committed offset starts: "earliest" or "latest".
 * - `fetch_max_wait` (default 250ms): how long the broker holds a fetch without new data; also how soon a
 *   resumed partition is fetched again.
 * - `fetch_min_bytes` (default 1MiB): the broker answers a fetch once this much is ready (or at
 *   fetch_max_wait). Fewer, larger fetches at moderate rates (-12% sampler CPU at 10k spans/s in the
 *   benchmark's end-to-end case) for at most fetch_max_wait of extra latency; "1" = answer at once.
 * - `detach_after` (default 5s): a message still unsettled this long after it was handed downstream (its
 *   trace waits for decision_wait) is copied out of its fetch response, so that one slow trace does not keep a
 *   whole fetch (up to a few MiB) in memory. Longer than the sampler's usual decision time (root_settle_delay),
 *   so most messages are never copied. 0 = never copy.
 * - `shutdown_drain_timeout` (default 5s): shutdown waits this long for in-flight messages to settle before it
 *   commits and leaves the group; the rest is replayed by the next owner. 0 = do not wait.
 * - `dead_letter` (absent = none): pipeline/sdk/kafka/dead-letter.ts `deadLetterSchema`. Permanently rejected or
 *   undecodable messages are produced to its topic (same key and value, `tusk.dlq.*` headers saying why and
 *   from where) before they are skipped; without it they are counted, logged, skipped. Without `brokers` it
 *   writes with this receiver's own client settings (brokers, client_id, connect_timeout, sasl, tls).
 * - `create_topics` (default true) / `partitions` (default 8) / `replication_factor` (default 1): create
 *   missing topics at start (so the broker's default partition count never applies); the dead-letter topic
 *   follows its own section's keys.
 * - `watermark_writer_expiry` (default 30s): a writer of watermark records (an ingest-tier Kafka exporter) not
 *   heard from on a partition for this long stops holding the partition's event-time clock back (it died; what
 *   it had not written was never acknowledged). Longer than the brokers' failover, during which writers stall.
 */
export const kafkaReceiverConfigSchema = z
  .object({
    ...kafkaClientFields,
    topic: stringList()
      .pipe(z.array(kafkaTopicName()))
      .default(() => [DEFAULT_TOPIC]),
    logs_topic: z.union([z.literal(''), kafkaTopicName()]).default(''),
    group: z.string().min(1).default(DEFAULT_GROUP),
    session_timeout: duration({ min: 6000, max: 1_800_000 }).prefault(DEFAULT_SESSION_TIMEOUT),
    max_inflight_bytes_per_partition: byteSize({ min: 1024 }).prefault(DEFAULT_INFLIGHT_PER_PARTITION),
    commit_interval: duration({ min: 10, max: 60_000 }).prefault(DEFAULT_COMMIT_INTERVAL),
    start_from: z.enum(['earliest', 'latest']).default('earliest'),
    fetch_max_wait: duration({ min: 10, max: 30_000 }).prefault(DEFAULT_FETCH_MAX_WAIT),
    fetch_min_bytes: byteSize({ min: 1, max: 64 * 1024 * 1024 }).prefault(DEFAULT_FETCH_MIN_BYTES),
    detach_after: duration({ min: 0 }).prefault(DEFAULT_DETACH_AFTER),
    shutdown_drain_timeout: duration({ min: 0 }).prefault(DEFAULT_DRAIN_TIMEOUT),
    dead_letter: deadLetterSchema.optional(),
    create_topics: bool().default(true),
    partitions: int({ min: 1, max: 10_000 }).default(DEFAULT_PARTITIONS),
    replication_factor: int({ min: 1, max: 32 }).default(1),
    watermark_writer_expiry: duration({ min: 1 }).prefault(DEFAULT_WATERMARK_WRITER_EXPIRY),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.topic.length === 0 && c.logs_topic === '')
      ctx.addIssue({ code: 'custom', path: ['topic'], message: 'set a trace topic, a logs_topic, or both' });
    const all = [...c.topic, c.logs_topic, c.dead_letter?.topic ?? ''].filter((t) => t !== '');
    const dup = all.find((t, i) => all.indexOf(t) !== i);
    if (dup !== undefined) {
      const message = `topic "${dup}" is used twice (topic, logs_topic and dead_letter.topic must differ)`;
      ctx.addIssue({ code: 'custom', path: ['topic'], message });
    }
  });

/** KafkaReceiverConfig is the parsed config (durations in ms, sizes in bytes). */
export type KafkaReceiverConfig = z.output<typeof kafkaReceiverConfigSchema>;
