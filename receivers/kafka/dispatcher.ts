// Hands the messages of a fetched batch downstream WITHOUT waiting, and settles their offsets when the
// downstream promise resolves (for the tail sampler: when the trace is decided and exported, seconds later).
// A downstream that reports chunks one by one (the batch's onChunkSettled notice) settles each message as
// soon as all its chunks did, so one slow trace does not hold the offsets and the in-flight bytes of the
// whole fetch; and a message still unsettled after `detachAfterMs` is copied out of its fetch response, so
// that a slow trace does not keep a whole fetch in memory either. A retriable rejection keeps the messages
// not yet settled and retries them with backoff (the partition is paused meanwhile); a permanent one is
// narrowed down by halving the batch until the single culprit is found, which is then counted, logged and
// skipped (or dead-lettered first). Nothing is settled that was not delivered, skipped on purpose or
// dead-lettered. Redelivery and dead-letter writes retry through the SDK's retry (REDELIVERY_BACKOFF).
// While messages wait for a redelivery, their partition's event-time clock is held at their oldest accept
// time: the downstream must not take the clock's later watermarks as "everything before arrived".

import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { LogsConsumer, TracesConsumer } from '../../pipeline/sdk/component';
import { errorMessage, isPermanent } from '../../pipeline/sdk/errors';
import { retry, type BackoffPolicy, type RetryOptions } from '../../pipeline/sdk/retry';
import {
  withChunkSettledHook,
  type ChunkSettledHook,
  type LogChunk,
  type TraceChunk,
} from '../../pipeline/sdk/trace-batch';
import type { KafkaReceiverMetrics, SkipReason } from './metrics';
import type { PartitionState } from './partition';
import { linksFromHeaders, withConsumeSpan, type KafkaHeaders } from '../../pipeline/sdk/self-telemetry/kafka-context';

/** DeliveryEntry is one consumed message and what it carries downstream. */
export interface DeliveryEntry {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** Trace chunks (traces topic) or log chunks (logs topic): one per trace the message holds. */
  readonly traces?: readonly TraceChunk[];
  readonly logs?: readonly LogChunk[];
  /** Spans / log records of a keyless message left out for an invalid trace or span id (what OTLP rejects too). */
  readonly invalid?: number;
  /** The message's headers, kept only while self-tracing is on (they carry the producer's trace context). */
  readonly headers?: KafkaHeaders;
}

/** DispatcherHooks are the receiver's side of the dispatcher. */
export interface DispatcherHooks {
  /** Offsets of `part` settled (the receiver may resume it and update gauges). */
  settled(part: PartitionState): void;
  /** A delivery of `part` started or stopped waiting for a retry (the receiver pauses/resumes). */
  retryStateChanged(part: PartitionState): void;
  /** Optional: writes a skipped message to the dead-letter topic; resolves once it is acknowledged there. */
  deadLetter?(part: PartitionState, entry: DeliveryEntry, reason: SkipReason, err: unknown): Promise<void>;
}

/**
 * REDELIVERY_BACKOFF is how unsettled messages are redelivered after a retriable rejection (and how a failed
 * dead-letter write is retried): 200 ms doubling to 10 s, +-50%, at least the error's retryAfterMs, with no
 * time limit: until the messages settle, the partition is revoked, or the receiver stops.
 */
export const REDELIVERY_BACKOFF: BackoffPolicy = Object.freeze({
  enabled: true,
  initialIntervalMs: 200,
  randomizationFactor: 0.5,
  multiplier: 2,
  maxIntervalMs: 10_000,
  maxElapsedTimeMs: 0,
});

/** DispatcherOptions tune retries and detaching. */
export interface DispatcherOptions {
  /** Backoff of redeliveries and dead-letter writes. Default REDELIVERY_BACKOFF. */
  readonly retry?: BackoffPolicy;
  /** Messages still unsettled this long after their first delivery are copied out of their fetch (0 = never). */
  readonly detachAfterMs: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

interface Delivery {
  readonly part: PartitionState;
  /**
   * The messages of the current attempt. One settled early is replaced by a stub holding only its offset
   * (its bytes are not needed again), and stubs are left out before a retry.
   */
  entries: DeliveryEntry[];
  /** Per entry: settled early by the downstream's per-chunk notice during the current attempt. */
  early?: Uint8Array;
  /** Whether the delivery counts in its partition's `retrying` (from its first retry until it finishes). */
  retrying: boolean;
  /** When the messages were first delivered (for detaching). */
  readonly since: number;
  /** Whether the entries were copied out of their fetch already. */
  detached: boolean;
}

const EMPTY = Buffer.alloc(0);

/** Dispatcher delivers batches downstream and settles them in their partition's watermark. */
export class Dispatcher {
  /** Aborted by stop(): ends every wait for a retry. */
  private readonly _stop = new AbortController();
  /** Deliveries in flight or waiting for a retry (for detaching). */
  private readonly _open = new Set<Delivery>();
  private _detachTimer?: NodeJS.Timeout;
  private readonly _now: () => number;
  /** Partitions with early settlements whose `settled` hook is due (called once per microtask, not per message). */
  private readonly _noticeDue = new Set<PartitionState>();
  private _inFlight = 0;
  private _stopped = false;

  constructor(
    private readonly _traces: TracesConsumer,
    private readonly _logs: LogsConsumer | undefined,
    private readonly _hooks: DispatcherHooks,
    private readonly _opts: DispatcherOptions,
    private readonly _logger: Logger,
    private readonly _metrics: KafkaReceiverMetrics,
  ) {
    this._now = _opts.now ?? Date.now;
    setMaxListeners(0, this._stop.signal); // one listener per delivery waiting for a retry
  }

  /** inFlight is the number of downstream (and dead-letter) calls not yet settled. */
  get inFlight(): number {
    return this._inFlight;
  }

  /** dispatch hands the entries (already tracked in `part.watermark`) downstream in one call. */
  dispatch(part: PartitionState, entries: readonly DeliveryEntry[]): void {
    if (entries.length === 0) return;
    const d: Delivery = { part, entries: [...entries], retrying: false, since: this._now(), detached: false };
    this._open.add(d);
    this._startDetaching();
    this._deliver(d);
  }

  /**
   * detachOld copies the messages of every open delivery older than `detachAfterMs` out of their fetch
   * response (value, key, chunks; self-tracing headers are dropped), so that the response can be freed while
   * a slow trace keeps its messages unsettled. Runs on a timer; public for tests.
   */
  detachOld(): void {
    const after = this._opts.detachAfterMs;
    if (after <= 0) return;
    const cutoff = this._now() - after;
    let messages = 0;
    let bytes = 0;
    for (const d of this._open) {
      if (d.detached || d.since > cutoff) continue;
      d.detached = true;
      for (let e = 0; e < d.entries.length; e++) {
        if (d.early?.[e]) continue;
        const copy = detachEntry(d.entries[e]);
        d.entries[e] = copy;
        messages++;
        bytes += copy.value.byteLength + (copy.key?.byteLength ?? 0);
      }
    }
    this._metrics.detached(messages, bytes);
  }

  /** skip settles an entry without delivering it (after dead-lettering it when configured). */
  skip(part: PartitionState, entry: DeliveryEntry, reason: SkipReason, err: unknown, since = this._now()): void {
    const traceIds = [...new Set([...(entry.traces ?? []), ...(entry.logs ?? [])].map((c) => c.traceId))];
    this._logger.warn(
      {
        topic: part.topic,
        partition: part.partition,
        offset: entry.offset,
        trace_ids: traceIds.slice(0, 10),
        key: entry.key?.toString('latin1'),
        reason,
        code: (err as { code?: unknown })?.code,
        err: errorMessage(err),
      },
      this._hooks.deadLetter
        ? 'Kafka message rejected for good: dead-lettering it, then skipping it'
        : 'Kafka message rejected for good: skipping it',
    );
    this._metrics.skipped(reason);
    if (!this._hooks.deadLetter) {
      this._settle(part, [entry]);
      return;
    }
    const d: Delivery = { part, entries: [entry], retrying: false, since, detached: false };
    this._open.add(d);
    this._deadLetter(d, reason, err);
  }

  /**
   * stop cancels pending retries (their messages stay unsettled and are replayed by the next owner); calls
   * in flight still settle their messages when they resolve.
   */
  stop(): void {
    this._stopped = true;
    clearInterval(this._detachTimer);
    this._detachTimer = undefined;
    this._stop.abort();
    this._open.clear();
  }

  private _startDetaching(): void {
    if (this._detachTimer || this._opts.detachAfterMs <= 0 || this._stopped) return;
    this._detachTimer = setInterval(
      () => this.detachOld(),
      Math.max(100, Math.min(1000, this._opts.detachAfterMs / 2)),
    );
    this._detachTimer.unref();
  }

  private _active(part: PartitionState): boolean {
    return !this._stopped && !part.revoked;
  }

  /**
   * _deliver hands the messages of `d` downstream, redelivering those not settled early after a retriable
   * rejection, until they settle, the partition is revoked or the dispatcher stops. A permanent rejection is
   * narrowed down by halves to the culprit, which is skipped.
   */
  private _deliver(d: Delivery): void {
    this._retry(d, () => this._attempt(d), {
      onRetry: (err, _delayMs, n) => {
        this._metrics.retried();
        if (n > 1) return;
        const oldest = oldestAcceptTime(d.entries);
        if (oldest !== undefined) d.part.clock.hold(d, oldest);
        const where = { topic: d.part.topic, partition: d.part.partition, offset: d.entries[0].offset };
        const msg = 'downstream rejected Kafka messages retriably; retrying with backoff';
        this._logger.debug({ ...where, err: errorMessage(err) }, msg);
      },
    }).then(
      () => this._finish(d),
      (err: unknown) => {
        if (isPermanent(err)) this._narrow(d, err);
        this._finish(d);
      },
    );
  }

  /**
   * _attempt makes one downstream call with the messages of `d` not settled early, and settles them when it
   * resolves. It rejects with the downstream's error while messages are left to deliver, and resolves
   * without a call once the partition is revoked or the dispatcher stopped (the messages stay unsettled).
   */
  private async _attempt(d: Delivery): Promise<void> {
    if (!this._active(d.part)) return;
    this._inFlight++;
    try {
      await this._call(d);
    } catch (err) {
      this._inFlight--;
      if (!this._active(d.part)) return;
      this._unsettled(d);
      if (d.entries.length === 0) return; // every message settled on its own: nothing to retry
      throw err;
    }
    this._inFlight--;
    this._unsettled(d);
    this._settle(d.part, d.entries);
  }

  /** _call is one downstream call (inside a consume span when self-tracing carried headers). */
  private _call(d: Delivery): Promise<void> {
    const deliver = (): Promise<void> => {
      if (d.part.signal === 'traces') {
        const { chunks, onChunkSettled } = this._chunksOf(d, (e) => e.traces);
        return this._traces.consumeTraces(withChunkSettledHook({ chunks }, onChunkSettled));
      }
      if (this._logs) {
        const { chunks, onChunkSettled } = this._chunksOf(d, (e) => e.logs);
        return this._logs.consumeLogs(withChunkSettledHook({ chunks }, onChunkSettled));
      }
      throw new Error('no logs pipeline for a logs topic');
    };
    if (d.entries[0].headers === undefined) return deliver();
    const links = linksFromHeaders(d.entries.map((e) => e.headers));
    const attributes = {
      'messaging.system': 'kafka',
      'messaging.destination.name': d.part.topic,
      'messaging.destination.partition.id': String(d.part.partition),
      'messaging.batch.message_count': d.entries.length,
    };
    return withConsumeSpan(`consume ${d.part.topic}`, links, attributes, deliver);
  }

  /** _narrow delivers the halves of a permanently rejected delivery on their own, or skips its single message. */
  private _narrow(d: Delivery, err: unknown): void {
    if (d.entries.length === 1) return this.skip(d.part, d.entries[0], 'permanent', err, d.since);
    const mid = d.entries.length >>> 1;
    for (const entries of [d.entries.slice(0, mid), d.entries.slice(mid)]) {
      const half: Delivery = { part: d.part, entries, retrying: false, since: d.since, detached: d.detached };
      this._open.add(half);
      this._deliver(half);
    }
  }

  /**
   * _chunksOf flattens the chunks of a delivery's entries for one downstream call, with the notice that
   * settles an entry once every chunk of it was reported settled.
   */
  private _chunksOf<C>(
    d: Delivery,
    of: (e: DeliveryEntry) => readonly C[] | undefined,
  ): { chunks: C[]; onChunkSettled: ChunkSettledHook } {
    const entries = d.entries;
    const chunks: C[] = [];
    const owner: number[] = [];
    const left = new Int32Array(entries.length);
    for (let e = 0; e < entries.length; e++) {
      const list = of(entries[e]) ?? [];
      left[e] = list.length;
      for (const c of list) {
        chunks.push(c);
        owner.push(e);
      }
    }
    const early = new Uint8Array(entries.length);
    d.early = early;
    // The notice keeps the owner map, not the chunks: they may be copied out of their fetch later.
    const onChunkSettled = (index: number): void => {
      if (!Number.isInteger(index) || index < 0 || index >= owner.length || owner[index] < 0 || d.early !== early)
        return; // not ours, told twice, or an older attempt
      const e = owner[index];
      owner[index] = -1;
      if (--left[e] === 0) this._settleEarly(d, e);
    };
    return { chunks, onChunkSettled };
  }

  /** _settleEarly settles entry `e` of a delivery still in flight: all its chunks were reported settled. */
  private _settleEarly(d: Delivery, e: number): void {
    if (!this._active(d.part) || !d.early) return;
    d.early[e] = 1;
    const offset = d.entries[e].offset;
    d.entries[e] = { offset, key: null, value: EMPTY }; // the bytes are not needed again
    d.part.watermark.settle(offset);
    if (this._noticeDue.has(d.part)) return;
    this._noticeDue.add(d.part);
    queueMicrotask(() => {
      this._noticeDue.delete(d.part);
      if (!d.part.revoked) this._hooks.settled(d.part);
    });
  }

  /** _unsettled drops the entries settled early from a delivery whose call settled (they are done; a retry sends the rest). */
  private _unsettled(d: Delivery): void {
    const early = d.early;
    d.early = undefined;
    if (early) d.entries = d.entries.filter((_, e) => early[e] === 0);
  }

  /** _deadLetter writes the single message of `d` to the dead-letter topic, retrying until it is acknowledged. */
  private _deadLetter(d: Delivery, reason: SkipReason, err: unknown): void {
    const write = this._hooks.deadLetter;
    if (!write) return this._finish(d);
    const attempt = async (): Promise<void> => {
      if (!this._active(d.part)) return;
      this._inFlight++;
      try {
        await write(d.part, d.entries[0], reason, err);
      } catch (dlqErr) {
        this._inFlight--;
        if (!this._active(d.part)) return;
        const where = { topic: d.part.topic, partition: d.part.partition, offset: d.entries[0].offset };
        const msg = 'dead-lettering failed; retrying (the message stays unsettled)';
        this._logger.warn({ ...where, err: errorMessage(dlqErr) }, msg);
        throw dlqErr;
      }
      this._inFlight--;
      this._metrics.deadLettered();
      this._settle(d.part, d.entries);
    };
    // Every failed write is retried, a permanent-looking one too: the message is settled only once dead-lettered.
    this._retry(d, attempt, { retriable: () => true }).then(
      () => this._finish(d),
      () => this._finish(d),
    );
  }

  /** _retry runs `attempt` with the redelivery backoff until stop(); `d` counts as retrying from its first retry. */
  private _retry(
    d: Delivery,
    attempt: () => Promise<void>,
    options: Pick<RetryOptions, 'onRetry' | 'retriable'>,
  ): Promise<void> {
    return retry(this._opts.retry ?? REDELIVERY_BACKOFF, attempt, {
      ...options,
      signal: this._stop.signal,
      onRetry: (err, delayMs, n) => {
        if (!d.retrying) {
          d.retrying = true;
          d.part.retrying++;
          this._hooks.retryStateChanged(d.part);
        }
        options.onRetry?.(err, delayMs, n);
      },
    });
  }

  private _settle(part: PartitionState, entries: readonly DeliveryEntry[]): void {
    if (part.revoked) return;
    for (const e of entries) part.watermark.settle(e.offset);
    this._hooks.settled(part);
  }

  private _finish(d: Delivery): void {
    this._open.delete(d);
    d.part.clock.release(d);
    if (d.retrying) {
      d.retrying = false;
      d.part.retrying--;
      this._hooks.retryStateChanged(d.part);
    }
  }
}

/** oldestAcceptTime is the oldest accept time of the trace chunks of `entries`, when any carries one. */
function oldestAcceptTime(entries: readonly DeliveryEntry[]): number | undefined {
  let oldest: number | undefined;
  for (const e of entries)
    for (const c of e.traces ?? []) {
      const at = c.eventTime?.acceptedAt;
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
  return oldest;
}

/**
 * detachEntry copies a message out of the fetch response its value, key and chunks are views of. A chunk
 * that is a view of the value (a keyed message: the value is the chunk) becomes a view of the copy; one
 * split off a keyless value is a buffer of its own already, and is kept.
 */
function detachEntry(entry: DeliveryEntry): DeliveryEntry {
  const value = Buffer.from(entry.value);
  const rebase = <C extends { readonly data: Uint8Array }>(c: C): C => {
    const d = c.data;
    if (d.buffer !== entry.value.buffer) return c;
    const at = d.byteOffset - entry.value.byteOffset;
    if (at < 0 || at + d.byteLength > value.byteLength) return { ...c, data: Buffer.from(d) };
    return { ...c, data: value.subarray(at, at + d.byteLength) };
  };
  return {
    offset: entry.offset,
    key: entry.key ? Buffer.from(entry.key) : null,
    value,
    traces: entry.traces?.map(rebase),
    logs: entry.logs?.map(rebase),
    invalid: entry.invalid,
  };
}
