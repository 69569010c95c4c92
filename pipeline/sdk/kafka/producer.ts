// The Kafka components' producer (exporter records, dead letters): acks=all, one request in flight per
// broker, bounded retries, and REPLACED after any failed send, so that nothing of a failed attempt (its
// connections, its metadata) carries over to the next one.
//
// The retries are ours, never kafkajs': a send is retried whole, on a fresh producer. kafkajs 2.2.4 retries
// a failed send only to the brokers that have not answered yet, keyed by broker: when a dead leader's
// partitions move to a broker that had already answered for its own partitions, their records are never
// sent again, and the send still resolves as acknowledged (found by the broker-kill drill). Retrying the
// whole send can write the partitions that had succeeded twice: delivery is at-least-once, never less.
// The producer is not idempotent: kafkajs refuses an idempotent producer without retries of its own, and
// a producer id only deduplicates retries within one producer, which are not used here.

import type { CompressionTypes, ICustomPartitioner, Kafka, Producer, RetryOptions, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import { retry, type BackoffPolicy } from '../retry';

/** ProducerOptions configure the managed producer. */
export interface ManagedProducerOptions {
  readonly createPartitioner: ICustomPartitioner;
  /** Retries of a whole send (kafkajs' shape: initialRetryTime, maxRetryTime, retries, factor, multiplier). */
  readonly retry: RetryOptions;
  /** Broker-side wait for the in-sync replicas' acknowledgement (ms). */
  readonly ackTimeoutMs: number;
  readonly compression: CompressionTypes;
}

interface Slot {
  readonly producer: Producer;
  ready: Promise<void>;
  pending: number;
  retired: boolean;
  connected: boolean;
}

/** ManagedProducer sends requests with acks=all through a producer it replaces after failures. */
export class ManagedProducer {
  private _current?: Slot;
  private readonly _slots = new Set<Slot>();
  private _closed = false;

  constructor(
    private readonly _kafka: Kafka,
    private readonly _opts: ManagedProducerOptions,
    private readonly _logger: Logger,
  ) {}

  /** connected tells whether the current producer is connected (false before the first send succeeds to connect). */
  get connected(): boolean {
    return this._current?.connected ?? false;
  }

  /**
   * send produces the messages of every topic and resolves when Kafka acknowledged all of them. A failed
   * attempt is retried whole on a fresh producer, up to `retry.retries` times, while the error is retriable.
   */
  async send(topicMessages: TopicMessages[]): Promise<void> {
    const retries = this._opts.retry.retries ?? 5;
    let attempts = 0;
    await retry(
      backoffOf(this._opts.retry),
      () => {
        attempts++;
        return this._sendOnce(topicMessages);
      },
      { retriable: (err) => !this._closed && attempts <= retries && isRetriableSendError(err) },
    );
  }

  /** _sendOnce is one attempt on the current producer (kafkajs does not retry it); a failure retires it. */
  private async _sendOnce(topicMessages: TopicMessages[]): Promise<void> {
    if (this._closed) throw new Error('producer closed');
    const slot = this._slot();
    slot.pending++;
    try {
      await slot.ready;
      await slot.producer.sendBatch({
        topicMessages,
        acks: -1,
        timeout: this._opts.ackTimeoutMs,
        compression: this._opts.compression,
      });
    } catch (err) {
      if (this._current === slot) {
        this._current = undefined;
        this._logger.debug(
          { err },
          'replacing the Kafka producer after a failed send (fresh producer id and sequence numbers)',
        );
      }
      slot.retired = true;
      throw err;
    } finally {
      slot.pending--;
      if (slot.retired && slot.pending === 0) void this._disconnect(slot);
    }
  }

  /** close disconnects every producer. Idempotent; sends still running fail. */
  async close(): Promise<void> {
    this._closed = true;
    this._current = undefined;
    await Promise.all([...this._slots].map((s) => this._disconnect(s)));
  }

  private _slot(): Slot {
    if (this._current) return this._current;
    const producer = this._kafka.producer({
      createPartitioner: this._opts.createPartitioner,
      // Not idempotent: kafkajs refuses an idempotent producer without its own retries, and a producer id only
      // deduplicates kafkajs' retries within one producer, which are not used (see the file header).
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // One attempt per send: kafkajs' own retry of a send can lose records (see the file header).
      retry: { ...this._opts.retry, retries: 0 },
    });
    const slot: Slot = { producer, ready: Promise.resolve(), pending: 0, retired: false, connected: false };
    slot.ready = producer.connect().then(() => {
      slot.connected = true;
    });
    // Avoid an unhandled rejection when nobody awaits `ready` (the send that created it awaits it).
    slot.ready.catch(() => undefined);
    this._slots.add(slot);
    this._current = slot;
    return slot;
  }

  private async _disconnect(slot: Slot): Promise<void> {
    if (!this._slots.delete(slot)) return;
    await slot.producer
      .disconnect()
      .catch((err: unknown) => this._logger.debug({ err }, 'Kafka producer disconnect failed'));
  }
}

/** backoffOf maps kafkajs' retry options to the SDK's backoff (no time limit: `retries` bounds it). */
function backoffOf(r: RetryOptions): BackoffPolicy {
  return {
    enabled: true,
    initialIntervalMs: r.initialRetryTime ?? 300,
    randomizationFactor: r.factor ?? 0.2,
    multiplier: r.multiplier ?? 2,
    maxIntervalMs: r.maxRetryTime ?? 30_000,
    maxElapsedTimeMs: 0,
  };
}

/**
 * isRetriableSendError tells whether a failed attempt may succeed on a fresh producer. kafkajs wraps the
 * error of a send it did not retry: in KafkaJSNumberOfRetriesExceeded when the cause was retriable, in
 * KafkaJSNonRetriableError when it was not (a message too large, an authorization failure).
 */
export function isRetriableSendError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; retriable?: unknown };
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  if (e.name === 'KafkaJSNonRetriableError') return false;
  return e.retriable !== false;
}
