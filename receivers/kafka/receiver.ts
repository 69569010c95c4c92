// The `kafka` receiver: a kafkajs consumer group reading trace chunks (and optionally log chunks) and
// handing each fetched batch downstream without waiting for it to settle. It commits, per partition, only
// the contiguous prefix of settled messages (commit offset = first unsettled offset), every
// commit_interval, when a rebalance starts, and at shutdown; so a kill -9 replays from the oldest unsettled
// message and nothing acknowledged downstream is lost (architecture.md, contract 2).
//
// kafkajs facts this relies on (read in node_modules/kafkajs/src/consumer, v2.2.4):
// - run({ autoCommit: false }) turns every commit kafkajs would make by itself into a no-op: after each
//   batch, when eachBatch throws, and when a heartbeat sees a rebalance (runner.autoCommitOffsets*).
//   resolveOffset() only moves the fetch position. consumer.stop()/disconnect() never commits.
// - eachBatchAutoResolve: false: the fetch position moves only where resolveOffset() says.
// - consumer.commitOffsets() resolves WITHOUT committing when the runner is stopped; so commits are sent
//   only while the group is joined, and the final commit happens before disconnect().
// - A rebalance (eager protocol) builds a new offset manager whose fetch position is the COMMITTED offset:
//   for partitions kept across it, the receiver seeks back to where it had dispatched, and drops any
//   message below that (never delivering one twice within an assignment).
// - pause() state survives a rebalance: a revoked partition is resumed so a later assignment is not stuck.
//
// Watermark records (pipeline/sdk/kafka/event-time.ts) move the partition's event-time clock, which every
// trace chunk carries along with its record's timestamp, and are settled at once; they are never delivered.
// Log chunks carry no clock: a trace's decision_wait runs on the clock of its spans' partition.
//
// Partitions are assigned by the co-partitioned assigner (assigner.ts): partition N of the traces topic and
// of logs_topic go to the same member, so a trace's logs reach the sampler that decides it. When the topics'
// partition counts differ, or the group fell back to kafkajs's round robin (a member without the assigner),
// the receiver says so in its health (degraded) and log.

import { Kafka, PartitionAssigners, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { ComponentHealth, ComponentSettings, Host, Receiver, ReceiverNext } from '../../pipeline/sdk/component';
import { once } from '../../pipeline/sdk/component';
import { PipelineError, errorMessage } from '../../pipeline/sdk/errors';
import { KAFKA_START_BACKOFF, kafkaConfig } from '../../pipeline/sdk/kafka/client';
import { KafkaErrorCode, KafkaPermanentError } from '../../pipeline/sdk/kafka/errors';
import { DeadLetterWriter } from '../../pipeline/sdk/kafka/dead-letter';
import { ensureTopics } from '../../pipeline/sdk/kafka/topics';
import { coPartitionVerdict, topicPartitionCounts } from '../../pipeline/sdk/kafka/co-partition';
import { PartitionClock, readWatermark } from '../../pipeline/sdk/kafka/event-time';
import { retry } from '../../pipeline/sdk/retry';
import {
  countLogRecords,
  countSpans,
  splitLogsByTraceId,
  splitTracesByTraceId,
  type OtlpSignal,
} from '../../pipeline/sdk/otlp';
import type { KafkaReceiverConfig } from './config';
import { coLocationGaps, coPartitionedAssigner, CO_PARTITIONED_ASSIGNER, type TopicAssignment } from './assigner';
import { Dispatcher, type DeliveryEntry } from './dispatcher';
import { KafkaReceiverMetrics, type SkipReason } from './metrics';
import { PartitionState, partitionKey } from './partition';
import { tracePropagationActive } from '../../pipeline/sdk/self-telemetry/kafka-context';

const TRACE_ID_KEY = /^[0-9a-fA-F]{32}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const EMPTY = Buffer.alloc(0);
const FETCH_BYTES_PER_PARTITION = 1024 * 1024;
/** traceIdOfKey returns the lowercase trace id a message key holds, or undefined when it is not one. */
export function traceIdOfKey(key: Buffer | null): string | undefined {
  if (!key || key.length !== 32) return undefined;
  const s = key.toString('latin1');
  if (!TRACE_ID_KEY.test(s)) return undefined;
  const id = s.toLowerCase();
  return id === ZERO_TRACE_ID ? undefined : id;
}

/**
 * entryOf turns a consumed message into what goes downstream: with a trace-id key, one chunk (the value as
 * is, spans counted by the scanner); without one, the value split by trace id. Throws OtlpDecodeError
 * (permanent) for a value that is not a well-formed request.
 */
export function entryOf(signal: OtlpSignal, offset: number, key: Buffer | null, value: Buffer): DeliveryEntry {
  const traceId = traceIdOfKey(key);
  if (signal === 'traces') {
    if (traceId !== undefined)
      return { offset, key, value, traces: [{ traceId, data: value, spanCount: countSpans(value) }] };
    const split = splitTracesByTraceId(value);
    return { offset, key, value, traces: split.chunks, invalid: split.rejectedSpans };
  }
  if (traceId !== undefined)
    return { offset, key, value, logs: [{ traceId, data: value, recordCount: countLogRecords(value) }] };
  const split = splitLogsByTraceId(value);
  return { offset, key, value, logs: split.chunks, invalid: split.rejectedRecords };
}

/** CollectedBatch is what collectBatch made of a fetched batch. */
export interface CollectedBatch {
  /** Messages to deliver (tracked in the partition's watermark, unsettled). */
  readonly entries: DeliveryEntry[];
  /** Messages that could not be decoded (tracked, to be skipped). */
  readonly poison: [DeliveryEntry, unknown][];
  /** Messages not seen before in this assignment. */
  readonly fresh: number;
  /** Keyless messages with records left out for an invalid trace or span id: offset and record count. */
  readonly invalid: { readonly offset: number; readonly records: number }[];
}

/**
 * collectBatch tracks the fresh messages of a fetched batch in `part`'s settled watermark and turns them into
 * entries. Watermark records move the partition's event-time clock and are settled at once, like empty
 * requests; trace chunks carry the clock and their record's timestamp (the accept time the writer stamped).
 */
export function collectBatch(
  part: PartitionState,
  messages: readonly Pick<KafkaMessage, 'offset' | 'key' | 'value' | 'headers' | 'timestamp'>[],
  keepHeaders: boolean,
  nowMs: number,
): CollectedBatch {
  const entries: DeliveryEntry[] = [];
  const poison: [DeliveryEntry, unknown][] = [];
  const invalid: { offset: number; records: number }[] = [];
  let fresh = 0;
  for (const m of messages) {
    const offset = Number(m.offset);
    const next = part.watermark.nextOffset;
    if (next !== undefined && offset < next) continue; // already dispatched in this assignment
    fresh++;
    const value = m.value ?? EMPTY;
    part.watermark.track(offset, value.length + (m.key?.length ?? 0));
    const notice = readWatermark(m.headers);
    if (notice) {
      part.clock.observe(notice, nowMs);
      part.watermark.settle(offset);
      continue;
    }
    try {
      let entry = entryOf(part.signal, offset, m.key, value);
      const acceptedAt = Number(m.timestamp);
      if (entry.traces && Number.isFinite(acceptedAt)) {
        const eventTime = { clock: part.clock, acceptedAt };
        entry = { ...entry, traces: entry.traces.map((c) => ({ ...c, eventTime })) };
      }
      if (keepHeaders && m.headers) entry = { ...entry, headers: m.headers };
      if (entry.invalid) invalid.push({ offset, records: entry.invalid });
      if ((entry.traces ?? entry.logs ?? []).length > 0) entries.push(entry);
      else part.watermark.settle(offset); // an empty request: nothing to deliver
    } catch (err) {
      poison.push([{ offset, key: m.key, value }, err]);
    }
  }
  return { entries, poison, fresh, invalid };
}

/** KafkaReceiver implements the `kafka` receiver. */
export class KafkaReceiver implements Receiver {
  private readonly _logger: Logger;
  private readonly _metrics: KafkaReceiverMetrics;
  private readonly _dispatcher: Dispatcher;
  private readonly _signals = new Map<string, OtlpSignal>();
  private readonly _parts = new Map<string, PartitionState>();
  /** Event-time clocks of the partitions owned (kept across a consumer restart, closed when a partition moves). */
  private readonly _clocks = new Map<string, PartitionClock>();
  private _kafka?: Kafka;
  private _consumer?: Consumer;
  private readonly _dlq?: DeadLetterWriter;
  private _run?: Promise<void>;
  private _commitTimer?: NodeJS.Timeout;
  private _commitChain: Promise<void> = Promise.resolve();
  private _commitPending = false;
  private _joined = false;
  /** When the coordinator last answered a heartbeat (or the group was joined). */
  private _heartbeatAt = 0;
  private _joins = 0;
  private _stopping = false;
  private readonly _stop = new AbortController();
  private _lastError?: string;
  /** Why the logs topic is not read co-partitioned with the traces topic (undefined: it is, or no logs topic). */
  private _coPartitionIssue?: string;
  /** Why the last assignment did not co-locate the logs partitions with their trace partitions. */
  private _coLocationIssue?: string;
  readonly shutdown: () => Promise<void>;

  constructor(
    private readonly _settings: ComponentSettings,
    private readonly _cfg: KafkaReceiverConfig,
    next: ReceiverNext,
  ) {
    if (_cfg.logs_topic !== '' && !next.logs) {
      throw new KafkaPermanentError(
        KafkaErrorCode.CONFIG,
        `${_settings.id}: logs_topic "${_cfg.logs_topic}" is set but no logs pipeline uses this receiver`,
        { component: _settings.id },
      );
    }
    this._logger = _settings.logger;
    this._metrics = new KafkaReceiverMetrics(_settings.metrics, _settings.id);
    for (const t of _cfg.topic) this._signals.set(t, 'traces');
    if (_cfg.logs_topic !== '') this._signals.set(_cfg.logs_topic, 'logs');
    if (_cfg.dead_letter) {
      const { brokers, client_id, connect_timeout, sasl, tls } = _cfg;
      const client = { brokers, client_id, connect_timeout, sasl, tls };
      const { id, logger, metrics } = _settings;
      this._dlq = new DeadLetterWriter({ component: id, config: _cfg.dead_letter, client, logger, metrics });
    }
    this._dispatcher = new Dispatcher(
      next.traces,
      next.logs,
      {
        settled: (part) => this._afterChange(part),
        retryStateChanged: (part) => this._afterChange(part),
        deadLetter: this._dlq ? (part, entry, reason, err) => this._deadLetter(part, entry, reason, err) : undefined,
      },
      { detachAfterMs: _cfg.detach_after },
      this._logger,
      this._metrics,
    );
    this.shutdown = once(() => this._shutdown());
  }

  /** start joins the group in the background (see health) and starts the periodic commit. */
  async start(host: Host): Promise<void> {
    if (this._run || this._stopping) return;
    this._kafka = new Kafka(kafkaConfig(this._cfg, this._logger, { requestTimeoutMs: 30_000 }));
    this._dlq?.start();
    this._commitTimer = setInterval(() => {
      if (this._joined) void this._commit();
    }, this._cfg.commit_interval);
    this._run = this._runLoop(host);
  }

  /** health is ready while the consumer is a member of the group whose heartbeats are answered. */
  health(): ComponentHealth {
    if (this._stopping) return { ready: false, detail: 'shut down' };
    if (!this._joined)
      return {
        ready: false,
        detail: `not in group ${this._cfg.group}${this._lastError ? `: ${this._lastError}` : ''}`,
      };
    // Cut off from the brokers, kafkajs learns of its eviction only when a request finally fails: past
    // session_timeout without an answered heartbeat, the group has most likely given the partitions to others.
    const silentMs = Date.now() - this._heartbeatAt;
    if (silentMs > this._cfg.session_timeout)
      return {
        ready: false,
        detail:
          `group ${this._cfg.group}: no heartbeat answered for ${(silentMs / 1000).toFixed(0)} s (session_timeout ` +
          `${this._cfg.session_timeout / 1000} s): its partitions have likely moved to other members`,
      };
    let unsettled = 0;
    let paused = 0;
    for (const p of this._parts.values()) {
      unsettled += p.watermark.unsettledCount;
      if (p.paused) paused++;
    }
    const coPartition = this._coPartitionIssue ?? this._coLocationIssue;
    return {
      ready: true,
      degraded: paused > 0 || coPartition !== undefined,
      detail:
        `group ${this._cfg.group}: ${this._parts.size} partitions, ${paused} paused, ${unsettled} unsettled messages` +
        (coPartition !== undefined ? `; ${coPartition}` : ''),
    };
  }

  private async _runLoop(host: Host): Promise<void> {
    const cfg = this._cfg;
    const topics = [...cfg.topic, ...(cfg.logs_topic !== '' ? [cfg.logs_topic] : [])];
    const startOnce = async (): Promise<void> => {
      try {
        if (cfg.create_topics) {
          const { partitions, replication_factor: replicationFactor } = cfg;
          // The logs topic is created like the (first) traces topic, and the other way round.
          const like = (topic: string): string | undefined =>
            cfg.logs_topic === '' || cfg.topic.length === 0
              ? undefined
              : topic === cfg.logs_topic
                ? cfg.topic[0]
                : cfg.logs_topic;
          const specs = topics.map((topic) => ({ topic, partitions, replicationFactor, partitionsLike: like(topic) }));
          await ensureTopics(this._kafka as Kafka, this._logger, specs, 30_000);
        }
        if (this._stopping) return;
        await this._checkCoPartitioning();
        const consumer = this._newConsumer(host);
        this._consumer = consumer;
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: cfg.start_from === 'earliest' });
        if (this._stopping) return;
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 1,
          eachBatch: (p) => this._eachBatch(p),
        });
      } catch (err) {
        this._lastError = errorMessage(err);
        await this._consumer?.disconnect().catch(() => undefined);
        this._consumer = undefined;
        throw err;
      }
    };
    const onRetry = (err: unknown, _delayMs: number, attempt: number): void => {
      this._logger.warn({ err, attempt }, 'Kafka consumer could not start; retrying');
    };
    // Retried until it starts or the receiver shuts down (shutdown aborts the wait).
    await retry(KAFKA_START_BACKOFF, startOnce, { retriable: () => true, signal: this._stop.signal, onRetry }).catch(
      () => undefined,
    );
  }

  private _newConsumer(host: Host): Consumer {
    const cfg = this._cfg;
    const consumer = (this._kafka as Kafka).consumer({
      groupId: cfg.group,
      sessionTimeout: cfg.session_timeout,
      heartbeatInterval: Math.min(3000, Math.floor(cfg.session_timeout / 3)),
      maxBytesPerPartition: Math.min(FETCH_BYTES_PER_PARTITION, cfg.max_inflight_bytes_per_partition),
      maxWaitTimeInMs: cfg.fetch_max_wait,
      minBytes: cfg.fetch_min_bytes,
      allowAutoTopicCreation: false,
      partitionAssigners: [
        coPartitionedAssigner({
          coPartitioned: this._coPartitioned(),
          owned: () => this._owned(),
          logger: this._logger,
        }),
        PartitionAssigners.roundRobin,
      ],
    });
    const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => this._onJoin(consumer, e.payload.memberAssignment));
    consumer.on(GROUP_JOIN, (e) => this._checkCoLocation(e.payload.groupProtocol, e.payload.memberAssignment));
    consumer.on(HEARTBEAT, () => {
      this._heartbeatAt = Date.now();
    });
    consumer.on(REBALANCING, () => {
      this._joined = false;
      // Last chance to commit for partitions that may move (the old generation is still accepted).
      void this._commit();
    });
    consumer.on(CRASH, (e) => {
      this._joined = false;
      this._lastError = errorMessage(e.payload.error);
      this._revokeAll(consumer);
      if (!e.payload.restart && !this._stopping) {
        host.reportFatalError(
          new PipelineError(
            KafkaErrorCode.CONSUMER_CRASH,
            `${this._settings.id}: Kafka consumer crashed for good: ${this._lastError}`,
            { cause: e.payload.error, retriable: false, component: this._settings.id },
          ),
        );
      }
    });
    consumer.on(STOP, () => {
      this._joined = false;
    });
    return consumer;
  }

  private _onJoin(consumer: Consumer, assignment: Record<string, number[]>): void {
    if (++this._joins > 1) this._metrics.rebalance();
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment))
      for (const p of partitions) assigned.add(partitionKey(topic, p));
    for (const part of [...this._parts.values()]) if (!assigned.has(part.key)) this._revoke(consumer, part);
    for (const [key, clock] of [...this._clocks]) {
      if (assigned.has(key)) continue;
      clock.close(); // it stops: the new owner reads on (and decides first, with what came late)
      this._clocks.delete(key);
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      const signal = this._signals.get(topic);
      if (!signal) continue;
      for (const p of partitions) {
        const part = this._parts.get(partitionKey(topic, p));
        if (!part) {
          const key = partitionKey(topic, p);
          let clock = this._clocks.get(key);
          if (!clock) this._clocks.set(key, (clock = new PartitionClock(this._cfg.watermark_writer_expiry)));
          this._parts.set(key, new PartitionState(topic, p, signal, clock));
          continue;
        }
        // Kept across the rebalance: continue fetching where this receiver had dispatched, not from the commit.
        const next = part.watermark.nextOffset;
        if (next !== undefined) consumer.seek({ topic, partition: p, offset: String(next) });
        if (part.paused) consumer.pause([{ topic, partitions: [p] }]);
      }
    }
    this._joined = true;
    this._heartbeatAt = Date.now();
    this._lastError = undefined;
    this._logger.info(
      { group: this._cfg.group, partitions: this._parts.size, generation_joins: this._joins },
      'joined Kafka consumer group',
    );
  }

  /** _coPartitioned is the co-partitioned topic set (the traces topics and logs_topic), when there is one. */
  private _coPartitioned(): string[][] {
    const { topic, logs_topic: logs } = this._cfg;
    return logs !== '' && topic.length > 0 ? [[...topic, logs]] : [];
  }

  /** _owned is the assignment last received (its partitions' clocks are kept across a consumer restart). */
  private _owned(): TopicAssignment {
    const owned: TopicAssignment = {};
    for (const key of this._clocks.keys()) {
      const at = key.lastIndexOf('\u0000');
      (owned[key.slice(0, at)] ??= []).push(Number(key.slice(at + 1)));
    }
    return owned;
  }

  /** _checkCoPartitioning compares the partition counts of the traces topics and logs_topic (once per start). */
  private async _checkCoPartitioning(): Promise<void> {
    const [set] = this._coPartitioned();
    if (!set) return;
    let counts: Map<string, number>;
    try {
      counts = await topicPartitionCounts(this._kafka as Kafka, set);
    } catch (err) {
      // Not fatal: the consumer's own start reports an unreachable cluster; the assignment is checked at join.
      this._logger.debug({ err: errorMessage(err), topics: set }, 'partition counts not read');
      return;
    }
    const verdict = coPartitionVerdict(counts, set.slice(0, -1), set[set.length - 1]);
    this._coPartitionIssue = verdict.ok ? undefined : verdict.detail;
    if (!verdict.ok) this._logger.warn({ topics: set }, verdict.detail);
  }

  /** _checkCoLocation tells (health, log) when a new assignment holds logs partitions apart from their traces. */
  private _checkCoLocation(protocol: string, assignment: TopicAssignment): void {
    const [set] = this._coPartitioned();
    if (!set || this._coPartitionIssue !== undefined) return;
    const gaps = coLocationGaps(assignment, set);
    const was = this._coLocationIssue;
    this._coLocationIssue =
      gaps.length === 0
        ? undefined
        : `assignment not co-partitioned (group protocol ${protocol}` +
          `${protocol === CO_PARTITIONED_ASSIGNER ? '' : ': a member runs without the co-partitioned assigner'}): ` +
          `${gaps.slice(0, 8).join(', ')}${gaps.length > 8 ? ', ...' : ''} without their other topic's partition`;
    if (this._coLocationIssue !== undefined) this._logger.warn({ group: this._cfg.group }, this._coLocationIssue);
    else if (was !== undefined) this._logger.info({ group: this._cfg.group }, 'assignment co-partitioned again');
  }

  private _revoke(consumer: Consumer | undefined, part: PartitionState): void {
    part.revoked = true;
    this._parts.delete(part.key);
    this._metrics.forget(part.topic, part.partition);
    if (part.paused) {
      try {
        consumer?.resume([{ topic: part.topic, partitions: [part.partition] }]);
      } catch {
        // The consumer group is gone (crash/stop): nothing stays paused.
      }
    }
    if (part.watermark.unsettledCount > 0) {
      this._logger.info(
        {
          topic: part.topic,
          partition: part.partition,
          unsettled: part.watermark.unsettledCount,
          committed: part.committed,
        },
        'partition revoked with unsettled messages: the next owner replays them',
      );
    }
    this._updatePausedGauge();
  }

  private _revokeAll(consumer: Consumer | undefined): void {
    for (const part of [...this._parts.values()]) this._revoke(consumer, part);
  }

  private async _eachBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || this._stopping) return;
    const part = this._parts.get(partitionKey(batch.topic, batch.partition));
    if (!part) return; // not (or no longer) ours: kafkajs fetched it for an older assignment
    const collected = collectBatch(part, batch.messages, tracePropagationActive(), Date.now());
    const { entries, poison, fresh } = collected;
    for (const { offset, records } of collected.invalid) {
      this._metrics.invalidRecords(records);
      this._logger.debug(
        { topic: part.topic, partition: part.partition, offset, invalid: records },
        'keyless Kafka message: records with invalid trace or span ids left out',
      );
    }
    const last = batch.lastOffset();
    part.watermark.advance(Number(last) + 1);
    part.highWatermark = Number(batch.highWatermark);
    resolveOffset(last);
    if (fresh > 0) this._metrics.consumed(part.topic, fresh);
    this._dispatcher.dispatch(part, entries);
    for (const [entry, err] of poison) this._dispatcher.skip(part, entry, 'poison', err);
    this._afterChange(part);
  }

  /** _afterChange re-evaluates a partition's pause state and gauges after dispatch, settlement or a retry. */
  private _afterChange(part: PartitionState): void {
    if (part.revoked) return;
    const want =
      this._stopping ||
      part.retrying > 0 ||
      part.watermark.unsettledWeight > this._cfg.max_inflight_bytes_per_partition;
    if (want !== part.paused && this._consumer) {
      try {
        const tp = [{ topic: part.topic, partitions: [part.partition] }];
        if (want) this._consumer.pause(tp);
        else this._consumer.resume(tp);
        part.paused = want;
        this._updatePausedGauge();
      } catch {
        // No consumer group right now (restarting): re-evaluated on the next change.
      }
    }
    this._metrics.partition(part.topic, part.partition, part.watermark.unsettledCount, part.lag);
  }

  private _updatePausedGauge(): void {
    let n = 0;
    for (const p of this._parts.values()) if (p.paused) n++;
    this._metrics.paused(n);
  }

  /** _commit commits every owned partition's settled watermark that moved; commits never overlap. */
  private _commit(): Promise<void> {
    if (this._commitPending) return this._commitChain;
    this._commitPending = true;
    this._commitChain = this._commitChain.then(async () => {
      this._commitPending = false;
      const consumer = this._consumer;
      if (!consumer) return;
      const offsets: { part: PartitionState; offset: number }[] = [];
      for (const part of this._parts.values()) {
        const c = part.watermark.commitOffset;
        if (c !== undefined && c > part.committed) offsets.push({ part, offset: c });
        this._metrics.partition(part.topic, part.partition, part.watermark.unsettledCount, part.lag);
      }
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(
          offsets.map(({ part, offset }) => ({ topic: part.topic, partition: part.partition, offset: String(offset) })),
        );
        for (const { part, offset } of offsets) part.committed = Math.max(part.committed, offset);
        this._metrics.commit(true);
      } catch (err) {
        this._metrics.commit(false);
        this._logger.debug(
          { err: errorMessage(err), partitions: offsets.length },
          'offset commit failed (retried at the next interval)',
        );
      }
    });
    return this._commitChain;
  }

  /** _deadLetter writes one skipped message as it was consumed; rejects when the dead letter was not written. */
  private _deadLetter(part: PartitionState, entry: DeliveryEntry, reason: SkipReason, err: unknown): Promise<void> {
    const source = { topic: part.topic, partition: part.partition, offset: entry.offset };
    const code = err instanceof PipelineError ? err.code : undefined;
    const cause = { reason, signal: part.signal, code, message: errorMessage(err) };
    return (this._dlq as DeadLetterWriter).write([{ key: entry.key, value: entry.value, source }], cause);
  }

  private async _shutdown(): Promise<void> {
    this._stopping = true;
    this._stop.abort();
    const consumer = this._consumer;
    for (const part of this._parts.values()) this._afterChange(part); // pause everything
    this._dispatcher.stop();
    const deadline = Date.now() + this._cfg.shutdown_drain_timeout;
    while (this._dispatcher.inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
    clearInterval(this._commitTimer);
    if (this._joined) await this._commit();
    this._revokeAll(consumer);
    for (const clock of this._clocks.values()) clock.close();
    this._clocks.clear();
    await consumer
      ?.disconnect()
      .catch((err: unknown) => this._logger.warn({ err }, 'Kafka consumer disconnect failed'));
    await this._run?.catch(() => undefined);
    await this._dlq?.close();
  }
}
