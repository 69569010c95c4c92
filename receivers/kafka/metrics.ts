// Prometheus metrics of the `kafka` receiver, pre-bound to the receiver's component id (label `receiver`).

import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../../pipeline/sdk/kafka/metrics';

/** Why a message was skipped. */
export type SkipReason = 'permanent' | 'poison';

/** KafkaReceiverMetrics records what one receiver consumed, settled, committed and skipped. */
export class KafkaReceiverMetrics {
  private readonly _consumed: Counter<'receiver' | 'topic'>;
  private readonly _lag: Gauge<'receiver' | 'topic' | 'partition'>;
  private readonly _unsettled: Gauge<'receiver' | 'topic' | 'partition'>;
  private readonly _commits: Counter<'receiver' | 'result'>;
  private readonly _rebalances: Counter<'receiver'>;
  private readonly _skipped: Counter<'receiver' | 'reason'>;
  private readonly _deadLettered: Counter<'receiver'>;
  private readonly _retries: Counter<'receiver'>;
  private readonly _paused: Gauge<'receiver'>;
  private readonly _invalid: Counter<'receiver'>;
  private readonly _detached: Counter<'receiver'>;
  private readonly _detachedBytes: Counter<'receiver'>;

  constructor(
    registry: Registry,
    private readonly _receiver: string,
  ) {
    this._consumed = counter(registry, {
      name: 'tusk_kafka_consumed_messages_total',
      help: 'Messages fetched and handed downstream (replays included).',
      labelNames: ['receiver', 'topic'],
    });
    this._lag = gauge(registry, {
      name: 'tusk_kafka_consumer_lag',
      help: 'Messages between the committed (settled) offset and the partition end, per owned partition.',
      labelNames: ['receiver', 'topic', 'partition'],
    });
    this._unsettled = gauge(registry, {
      name: 'tusk_kafka_unsettled_messages',
      help: 'Messages handed downstream and not yet settled, per owned partition.',
      labelNames: ['receiver', 'topic', 'partition'],
    });
    this._commits = counter(registry, {
      name: 'tusk_kafka_commits_total',
      help: 'Offset commits of the settled watermark, by result (ok, error).',
      labelNames: ['receiver', 'result'],
    });
    this._rebalances = counter(registry, {
      name: 'tusk_kafka_rebalances_total',
      help: 'Group (re)joins after the first one (rebalances, restarts after a crash).',
      labelNames: ['receiver'],
    });
    this._skipped = counter(registry, {
      name: 'tusk_kafka_skipped_messages_total',
      help: 'Messages settled without delivery: reason=permanent (rejected for good downstream) or poison (not valid OTLP).',
      labelNames: ['receiver', 'reason'],
    });
    this._deadLettered = counter(registry, {
      name: 'tusk_kafka_dead_lettered_messages_total',
      help: 'Skipped messages written to the dead-letter topic.',
      labelNames: ['receiver'],
    });
    this._retries = counter(registry, {
      name: 'tusk_kafka_delivery_retries_total',
      help: 'Deliveries retried after a retriable downstream rejection.',
      labelNames: ['receiver'],
    });
    this._invalid = counter(registry, {
      name: 'tusk_kafka_invalid_records_total',
      help: 'Spans or log records of keyless messages left out because their trace or span id is invalid (as the OTLP receiver rejects them).',
      labelNames: ['receiver'],
    });
    this._detached = counter(registry, {
      name: 'tusk_kafka_detached_messages_total',
      help: 'Messages still unsettled after detach_after, copied out of their fetch response so that it can be freed.',
      labelNames: ['receiver'],
    });
    this._detachedBytes = counter(registry, {
      name: 'tusk_kafka_detached_bytes_total',
      help: 'Bytes of the detached messages (values and keys).',
      labelNames: ['receiver'],
    });
    this._paused = gauge(registry, {
      name: 'tusk_kafka_paused_partitions',
      help: 'Owned partitions paused (over the in-flight limit or retrying).',
      labelNames: ['receiver'],
    });
  }

  consumed(topic: string, n: number): void {
    this._consumed.inc({ receiver: this._receiver, topic }, n);
  }

  partition(topic: string, partition: number, unsettled: number, lag: number | undefined): void {
    const labels = { receiver: this._receiver, topic, partition: String(partition) };
    this._unsettled.set(labels, unsettled);
    if (lag !== undefined) this._lag.set(labels, lag);
  }

  /** forget removes the gauges of a partition no longer owned. */
  forget(topic: string, partition: number): void {
    const labels = { receiver: this._receiver, topic, partition: String(partition) };
    this._unsettled.remove(labels);
    this._lag.remove(labels);
  }

  commit(ok: boolean): void {
    this._commits.inc({ receiver: this._receiver, result: ok ? 'ok' : 'error' });
  }

  rebalance(): void {
    this._rebalances.inc({ receiver: this._receiver });
  }

  skipped(reason: SkipReason): void {
    this._skipped.inc({ receiver: this._receiver, reason });
  }

  deadLettered(): void {
    this._deadLettered.inc({ receiver: this._receiver });
  }

  retried(): void {
    this._retries.inc({ receiver: this._receiver });
  }

  invalidRecords(n: number): void {
    this._invalid.inc({ receiver: this._receiver }, n);
  }

  detached(messages: number, bytes: number): void {
    if (messages === 0) return;
    this._detached.inc({ receiver: this._receiver }, messages);
    this._detachedBytes.inc({ receiver: this._receiver }, bytes);
  }

  paused(n: number): void {
    this._paused.set({ receiver: this._receiver }, n);
  }
}
