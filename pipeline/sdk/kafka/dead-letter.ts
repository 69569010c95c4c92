// The one dead-letter writer (exporters through the exporter helper, the Kafka receiver): puts data rejected
// for good on a Kafka topic, value = the original bytes, key = the trace id (or the consumed message's own
// key), with `tusk.dlq.*` headers saying who gave up on it, why, and where it came from (docs/dead-letter.md).
// It writes through the managed producer (acks=all, sends retried whole, murmur2 on the key) with the shared Kafka
// client settings (TLS, SASL), makes sure of its topic with the topic helpers (never broker auto-creation),
// counts what it wrote and failed to write, and rejects a write Kafka did not acknowledge, so that the
// caller does not settle the data.

import { CompressionTypes, Kafka, type KafkaConfig, type Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import { z } from 'zod';
import { bool, duration, int, parseDuration } from '../config-types';
import { errorMessage } from '../errors';
import {
  brokerList,
  DEFAULT_CLIENT_ID,
  DEFAULT_CONNECT_TIMEOUT,
  kafkaConfig,
  kafkaTlsSchema,
  kafkaTopicName,
  saslSchema,
  type KafkaClientConfig,
} from './client';
import { KafkaError, KafkaErrorCode, KafkaPermanentError, protocolTypeOf, rootKafkaCause } from './errors';
import { counter } from './metrics';
import { partitionerFor } from './partitioners';
import { ManagedProducer } from './producer';
import { ensureTopics, missingTopics } from './topics';

/** Default partition count of a dead-letter topic the writer creates (as the Kafka components' topics). */
export const DEFAULT_DEAD_LETTER_PARTITIONS = 8;
/** Default replication factor of a dead-letter topic the writer creates. */
export const DEFAULT_DEAD_LETTER_REPLICATION_FACTOR = 1;
/** Longest `tusk.dlq.error.message` (characters). */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

const REQUEST_TIMEOUT_MS = 30_000;
const TOPIC_TIMEOUT_MS = 30_000;
const RETRY = { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 };
/** The client keys that need `brokers` beside them in a dead_letter section. */
const CLIENT_KEYS = ['client_id', 'connect_timeout', 'sasl', 'tls'] as const;

/**
 * DeadLetterHeader names the headers of a dead letter: one scheme for every component (docs/dead-letter.md).
 * Values are UTF-8 strings.
 */
export const DeadLetterHeader = {
  /** Why it was given up on: "permanent" (rejected for good downstream) or "poison" (not valid OTLP). */
  REASON: 'tusk.dlq.reason',
  /** The component id that wrote it, e.g. `exporters.jaeger` or `receivers.kafka`. */
  COMPONENT: 'tusk.dlq.component',
  /** "traces" (value = ExportTraceServiceRequest) or "logs" (value = ExportLogsServiceRequest). */
  SIGNAL: 'tusk.dlq.signal',
  /** The stable code of the error that settled it (e.g. ERR_EXPORTER_HTTP_STATUS), when it had one. */
  ERROR_CODE: 'tusk.dlq.error.code',
  /** The error's message, cut to MAX_ERROR_MESSAGE_CHARS. */
  ERROR_MESSAGE: 'tusk.dlq.error.message',
  /** The backend's HTTP or gRPC status, when it answered with one (exporters). */
  ERROR_STATUS: 'tusk.dlq.error.status',
  /** Topic, partition and offset of the consumed message (Kafka receiver). */
  SOURCE_TOPIC: 'tusk.dlq.source.topic',
  SOURCE_PARTITION: 'tusk.dlq.source.partition',
  SOURCE_OFFSET: 'tusk.dlq.source.offset',
  /** When it was dead-lettered: ISO 8601, UTC, milliseconds. */
  TIME: 'tusk.dlq.time',
} as const;

/**
 * dead_letter: where data rejected for good goes. Absent = nowhere (it is counted, logged and dropped).
 * - `topic` (required): the dead-letter topic.
 * - `brokers`, `client_id`, `connect_timeout`, `sasl`, `tls`: the Kafka client settings of pipeline/sdk/kafka/
 *   client.ts. With `brokers`, the section's own (the shared defaults apply to what it leaves out: no SASL,
 *   no TLS). Without `brokers`, the component's own Kafka client settings (the Kafka receiver's; exporters
 *   have none, so they require `brokers`), and then the other client keys must be left out too.
 * - `create_topic` (default true): create the topic when missing; false = it must exist (a write fails
 *   retriably, naming it, until it does).
 * - `partitions` (default 8) and `replication_factor` (default 1): for the topic the writer creates.
 */
export const deadLetterSchema = z
  .object({
    topic: kafkaTopicName(),
    brokers: brokerList().optional(),
    client_id: z.string().min(1).optional(),
    connect_timeout: duration({ min: 1 }).optional(),
    sasl: saslSchema.optional(),
    tls: kafkaTlsSchema.optional(),
    create_topic: bool().default(true),
    partitions: int({ min: 1, max: 10_000 }).default(DEFAULT_DEAD_LETTER_PARTITIONS),
    replication_factor: int({ min: 1, max: 32 }).default(DEFAULT_DEAD_LETTER_REPLICATION_FACTOR),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.brokers !== undefined) return;
    for (const key of CLIENT_KEYS) {
      if (c[key] !== undefined) {
        const message = "needs `brokers` in the same section (without it, the component's own Kafka settings apply)";
        ctx.addIssue({ code: 'custom', path: [key], message });
      }
    }
  });

/** DeadLetterConfig is the parsed `dead_letter` section (durations in ms). */
export type DeadLetterConfig = z.output<typeof deadLetterSchema>;

/**
 * deadLetterClient resolves the Kafka client settings a dead_letter section writes with: its own when it sets
 * `brokers`, else `own` (the component's), else undefined (an exporter's section without brokers).
 */
export function deadLetterClient(cfg: DeadLetterConfig, own?: KafkaClientConfig): KafkaClientConfig | undefined {
  if (cfg.brokers === undefined) return own;
  return {
    brokers: cfg.brokers,
    client_id: cfg.client_id ?? DEFAULT_CLIENT_ID,
    connect_timeout: cfg.connect_timeout ?? (parseDuration(DEFAULT_CONNECT_TIMEOUT) as number),
    sasl: cfg.sasl,
    tls: cfg.tls,
  };
}

/** DeadLetterReason says why data is dead-lettered (the `tusk.dlq.reason` header). */
export type DeadLetterReason = 'permanent' | 'poison';

/** DeadLetterCause is what the headers of one write say, common to all its messages. */
export interface DeadLetterCause {
  readonly reason: DeadLetterReason;
  /** What the values hold. */
  readonly signal: 'traces' | 'logs';
  /** The stable code of the error, when it has one. */
  readonly code?: string;
  readonly message: string;
  /** The backend's HTTP or gRPC status, when it answered with one. */
  readonly status?: number;
}

/** DeadLetter is one message to write. */
export interface DeadLetter {
  /** The trace id, or the consumed message's key as it was; null = no key (round-robin). */
  readonly key: string | Buffer | null;
  /** The original bytes, unchanged. */
  readonly value: Uint8Array;
  /** Where a consumed message came from (the Kafka receiver). */
  readonly source?: { readonly topic: string; readonly partition: number; readonly offset: number };
}

/** DeadLetterWriterOptions configure a writer. */
export interface DeadLetterWriterOptions {
  /** The component id: the `tusk.dlq.component` header, the metrics label and the error's component. */
  readonly component: string;
  readonly config: DeadLetterConfig;
  /** The component's own Kafka client settings, used when the section has no `brokers` (Kafka receiver). */
  readonly client?: KafkaClientConfig;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Builds the kafkajs client (tests pass a fake). Default: `new Kafka(config)`. */
  readonly newKafka?: (config: KafkaConfig) => Kafka;
  /** Clock of the `tusk.dlq.time` header (tests). Default: Date.now. */
  readonly now?: () => number;
}

/**
 * DeadLetterWriter writes dead letters with acks=all. `start` builds the client (reading TLS files) and makes
 * sure of the topic in the background; the first write waits for the topic and a failed check is redone by
 * the next write. `write` resolves once Kafka acknowledged every message and otherwise rejects with a
 * retriable KafkaError ERR_KAFKA_DEAD_LETTER after logging it. `close` is idempotent and safe without start.
 */
export class DeadLetterWriter {
  private readonly _client: KafkaClientConfig;
  private readonly _written: Counter<'component' | 'result'>;
  private _kafka?: Kafka;
  private _producer?: ManagedProducer;
  private _topic?: Promise<void>;
  private _closed = false;

  /** Throws KafkaPermanentError ERR_KAFKA_CONFIG when there are no client settings to write with. */
  constructor(private readonly _opts: DeadLetterWriterOptions) {
    const client = deadLetterClient(_opts.config, _opts.client);
    if (!client) {
      const msg = `${_opts.component}: dead_letter needs brokers (this component has no Kafka settings of its own)`;
      throw new KafkaPermanentError(KafkaErrorCode.CONFIG, msg, { component: _opts.component });
    }
    this._client = client;
    this._written = counter(_opts.metrics, {
      name: 'tusk_dead_letter_messages_total',
      help: 'Dead letters by result: written (acknowledged by Kafka) or failed (not written, data left unsettled).',
      labelNames: ['component', 'result'],
    });
  }

  /** topic is the dead-letter topic. */
  get topic(): string {
    return this._opts.config.topic;
  }

  /** start builds the client and checks (or creates) the topic in the background. Idempotent. */
  start(): void {
    if (this._closed || this._producer) return;
    this._open();
    this._topicReady().catch(() => undefined); // logged there; the first write tries again
  }

  /**
   * write puts the messages on the topic with the headers of `cause` (plus each one's source) and resolves once
   * Kafka acknowledged all of them. Rejects with a retriable KafkaError (ERR_KAFKA_DEAD_LETTER) otherwise: the
   * caller must then keep the data unsettled.
   */
  async write(letters: readonly DeadLetter[], cause: DeadLetterCause): Promise<void> {
    if (letters.length === 0) return;
    const { component, config } = this._opts;
    try {
      if (this._closed) throw new Error('the dead-letter writer is shut down');
      const producer = this._open();
      await this._topicReady();
      const common = this._headers(cause);
      const messages: Message[] = letters.map((l) => ({
        key: l.key,
        value: Buffer.isBuffer(l.value) ? l.value : Buffer.from(l.value.buffer, l.value.byteOffset, l.value.byteLength),
        headers: l.source ? { ...common, ...sourceHeaders(l.source) } : common,
      }));
      await producer.send([{ topic: config.topic, messages }]);
    } catch (err) {
      this._written.inc({ component, result: 'failed' }, letters.length);
      const what = `${letters.length} dead letter(s) to topic ${config.topic}`;
      const text = `${component}: writing ${what} failed: ${errorMessage(err)}`;
      this._opts.logger.error(
        {
          topic: config.topic,
          messages: letters.length,
          reason: cause.reason,
          signal: cause.signal,
          err: errorMessage(err),
        },
        'dead-letter write failed: the data stays unsettled and is retried',
      );
      const root = rootKafkaCause(err);
      throw new KafkaError(KafkaErrorCode.DEAD_LETTER, text, {
        topic: config.topic,
        cause: err,
        component,
        kafkajsName: typeof root.name === 'string' ? root.name : undefined,
        protocolType: protocolTypeOf(err),
      });
    }
    this._written.inc({ component, result: 'written' }, letters.length);
  }

  /** close disconnects the producer; later writes reject. Idempotent; safe without start. */
  async close(): Promise<void> {
    this._closed = true;
    await this._producer?.close();
  }

  private _open(): ManagedProducer {
    if (this._producer) return this._producer;
    const cfg = kafkaConfig(this._client, this._opts.logger, { requestTimeoutMs: REQUEST_TIMEOUT_MS, retry: RETRY });
    const kafka = (this._opts.newKafka ?? ((c: KafkaConfig) => new Kafka(c)))(cfg);
    const opts = {
      createPartitioner: partitionerFor('murmur2'),
      retry: RETRY,
      ackTimeoutMs: REQUEST_TIMEOUT_MS,
      compression: CompressionTypes.None,
    };
    this._kafka = kafka;
    this._producer = new ManagedProducer(kafka, opts, this._opts.logger);
    return this._producer;
  }

  /** _topicReady memoizes the topic check; a failed one is forgotten so that the next write redoes it. */
  private _topicReady(): Promise<void> {
    if (this._topic) return this._topic;
    const p = this._makeSureOfTopic().catch((err: unknown) => {
      if (this._topic === p) this._topic = undefined;
      this._opts.logger.warn(
        { topic: this.topic, err: errorMessage(err) },
        'cannot make sure of the dead-letter topic yet',
      );
      throw err;
    });
    this._topic = p;
    return p;
  }

  private async _makeSureOfTopic(): Promise<void> {
    const { topic, create_topic, partitions, replication_factor } = this._opts.config;
    const kafka = this._kafka as Kafka;
    if (create_topic) {
      await ensureTopics(
        kafka,
        this._opts.logger,
        [{ topic, partitions, replicationFactor: replication_factor }],
        TOPIC_TIMEOUT_MS,
      );
      return;
    }
    if ((await missingTopics(kafka, [topic])).length > 0) {
      throw new KafkaError(
        KafkaErrorCode.DEAD_LETTER,
        `dead-letter topic ${topic} does not exist (create_topic is false)`,
        {
          topic,
          component: this._opts.component,
        },
      );
    }
  }

  private _headers(cause: DeadLetterCause): Record<string, string> {
    const h: Record<string, string> = {
      [DeadLetterHeader.REASON]: cause.reason,
      [DeadLetterHeader.COMPONENT]: this._opts.component,
      [DeadLetterHeader.SIGNAL]: cause.signal,
    };
    if (cause.code !== undefined && cause.code !== '') h[DeadLetterHeader.ERROR_CODE] = cause.code;
    h[DeadLetterHeader.ERROR_MESSAGE] = cause.message.slice(0, MAX_ERROR_MESSAGE_CHARS);
    if (cause.status !== undefined) h[DeadLetterHeader.ERROR_STATUS] = String(cause.status);
    h[DeadLetterHeader.TIME] = new Date((this._opts.now ?? Date.now)()).toISOString();
    return h;
  }
}

function sourceHeaders(source: NonNullable<DeadLetter['source']>): Record<string, string> {
  return {
    [DeadLetterHeader.SOURCE_TOPIC]: source.topic,
    [DeadLetterHeader.SOURCE_PARTITION]: String(source.partition),
    [DeadLetterHeader.SOURCE_OFFSET]: String(source.offset),
  };
}
