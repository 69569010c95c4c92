// Gathers the messages of concurrent calls into produce requests (up to `linger` or `batch_max_bytes`),
// sends them one request at a time, and settles each call when Kafka acknowledged ALL of its messages.
// Memory is bounded: bytes accepted but not acknowledged never exceed `max_inflight_bytes` (beyond it a
// call is rejected at once with BackpressureError); a call not acknowledged within `produce_timeout` is
// rejected retriably, and its messages that are still waiting are not sent. Messages that carry an accept
// time are produced with it as their record timestamp (a retry keeps it), and those marked so are counted in
// the writer's in-flight accept times from submit until their request ended or they were given up.

import type { TopicMessages } from 'kafkajs';
import { BackpressureError, ShutdownError, type PipelineError } from '../../pipeline/sdk/errors';
import { KafkaError, KafkaErrorCode, mapProduceError } from '../../pipeline/sdk/kafka/errors';
import type { InFlightAcceptTimes } from '../../pipeline/sdk/kafka/event-time';
import type { FramedBytes } from '../../pipeline/sdk/trace-batch';
import type { KafkaExporterMetrics, ProduceFailure } from './metrics';

/** Upper bound of a record's encoding besides its key and value (length, attributes, deltas, header count). */
export const RECORD_OVERHEAD_BYTES = 40;
/** Room kept in every request for the record batch header (61 bytes in format v2). */
export const BATCH_OVERHEAD_BYTES = 128;
/** Produce requests in flight at once (kafkajs serialises an idempotent producer per broker anyway). */
const MAX_CONCURRENT_REQUESTS = 1;

/** OutMessage is one Kafka message to produce. */
export interface OutMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  /** The value: bytes, or FramedBytes when the exporter's produce requests take them (writesFramedValues). */
  readonly value: Buffer | FramedBytes;
  /** Trace context of the producing call (self-tracing), written as message headers. */
  readonly headers?: Record<string, string>;
  /** When the exporter accepted the message (ms since the epoch): its record timestamp. */
  readonly acceptedAt?: number;
  /** The partition to write to (unset: the producer's partitioner picks it). */
  readonly partition?: number;
  /** Counted in the batcher's in-flight accept times (with `acceptedAt` and `partition`) until it is done. */
  readonly watermarked?: boolean;
}

/** recordSize estimates the bytes a message takes in a record batch (an upper bound). */
export function recordSize(m: OutMessage): number {
  let headerBytes = 0;
  if (m.headers) for (const [k, v] of Object.entries(m.headers)) headerBytes += k.length + v.length + 4;
  return m.value.byteLength + (m.key ? m.key.length : 0) + headerBytes + RECORD_OVERHEAD_BYTES;
}

/** SendFn produces one request; it resolves when Kafka acknowledged every message of it. */
export type SendFn = (topicMessages: TopicMessages[]) => Promise<void>;

/** BatcherOptions bound the batcher. */
export interface BatcherOptions {
  readonly component: string;
  readonly lingerMs: number;
  readonly batchMaxBytes: number;
  readonly maxInflightBytes: number;
  readonly produceTimeoutMs: number;
  /** The last Kafka error the exporter saw (connection, authentication, TLS), named in produce timeouts. */
  readonly lastError?: () => string | undefined;
  /** Called when Kafka acknowledged a call in full. */
  readonly onSuccess?: () => void;
  /** Called when a call failed for a Kafka reason (retriable, not shutdown), for the exporter's status. */
  readonly onFailure?: (err: PipelineError) => void;
  /** Accept times of the `watermarked` messages in flight (accepted, not yet written or given up). */
  readonly inFlight?: InFlightAcceptTimes;
}

interface Ticket {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  /** Requests holding some of this call's messages that have not finished. */
  pending: number;
  /** True while submit is still placing messages. */
  adding: boolean;
  done: boolean;
  timer?: NodeJS.Timeout;
}

interface Item {
  readonly msg: OutMessage;
  readonly size: number;
  readonly ticket: Ticket;
}

interface Request {
  readonly items: Item[];
  bytes: number;
  readonly tickets: Set<Ticket>;
}

function reasonOf(err: PipelineError): ProduceFailure {
  switch (err.code) {
    case KafkaErrorCode.PRODUCE_TIMEOUT:
      return 'timeout';
    case KafkaErrorCode.MESSAGE_TOO_LARGE:
      return 'too_large';
    case KafkaErrorCode.REJECTED:
      return 'rejected';
    case 'ERR_PIPELINE_SHUTDOWN':
      return 'shutdown';
    default:
      return 'kafka';
  }
}

/** ProduceBatcher batches, bounds and times out produce calls. */
export class ProduceBatcher {
  private _inflight = 0;
  private _open?: Request;
  private _linger?: NodeJS.Timeout;
  private readonly _queue: Request[] = [];
  private _sending = 0;
  private _closed = false;
  private readonly _idleWaiters: (() => void)[] = [];
  private readonly _requestCap: number;

  constructor(
    private readonly _opts: BatcherOptions,
    private readonly _send: SendFn,
    private readonly _metrics: KafkaExporterMetrics,
  ) {
    this._requestCap = _opts.batchMaxBytes - BATCH_OVERHEAD_BYTES;
  }

  /** inflightBytes is the estimated size of the messages accepted and not yet acknowledged or given up. */
  get inflightBytes(): number {
    return this._inflight;
  }

  /**
   * submit accepts a call's messages and resolves when Kafka acknowledged all of them. It rejects with
   * BackpressureError at once when they do not fit max_inflight_bytes (a call alone is always admitted),
   * with KafkaError(ERR_KAFKA_PRODUCE_TIMEOUT) after produce_timeout, with the mapped Kafka error when a
   * request failed, and with ShutdownError after close.
   */
  submit(messages: readonly OutMessage[]): Promise<void> {
    if (this._closed) {
      this._metrics.failed('shutdown', true);
      return Promise.reject(new ShutdownError(this._opts.component));
    }
    if (messages.length === 0) return Promise.resolve();
    const sizes = messages.map(recordSize);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (this._inflight > 0 && this._inflight + bytes > this._opts.maxInflightBytes) {
      this._metrics.failed('backpressure', true);
      const retryAfterMs = Math.max(100, Math.min(5000, this._opts.produceTimeoutMs / 10));
      return Promise.reject(
        new BackpressureError(
          `${this._opts.component}: ${this._inflight} bytes in flight to Kafka, limit ${this._opts.maxInflightBytes}`,
          retryAfterMs,
          { component: this._opts.component },
        ),
      );
    }
    this._addInflight(bytes);
    return new Promise<void>((resolve, reject) => {
      const ticket: Ticket = { resolve, reject, pending: 0, adding: true, done: false };
      ticket.timer = setTimeout(() => {
        const cause = this._opts.lastError?.();
        this._fail(
          ticket,
          new KafkaError(
            KafkaErrorCode.PRODUCE_TIMEOUT,
            `${this._opts.component}: Kafka did not acknowledge within produce_timeout (${this._opts.produceTimeoutMs}ms)${cause ? `; last Kafka error: ${cause}` : ''}`,
            { component: this._opts.component },
          ),
        );
      }, this._opts.produceTimeoutMs);
      for (let i = 0; i < messages.length; i++) {
        const msg = messages[i];
        if (msg.watermarked && msg.acceptedAt !== undefined) this._opts.inFlight?.add(msg.partition, msg.acceptedAt);
        this._append({ msg, size: sizes[i], ticket });
      }
      ticket.adding = false;
      if (this._opts.lingerMs === 0) this._seal();
      else if (this._open && !this._linger) this._linger = setTimeout(() => this._seal(), this._opts.lingerMs);
      this._check(ticket);
    });
  }

  /**
   * close stops accepting calls, sends what was accepted, and waits for it up to `timeoutMs`; calls still
   * unacknowledged then are rejected with ShutdownError (retriable: nothing is claimed that Kafka did not ack).
   */
  async close(timeoutMs: number): Promise<void> {
    this._closed = true;
    this._seal();
    if (this._sending > 0 || this._queue.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this._idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const req of this._queue.splice(0)) {
      this._release(req.bytes);
      this._done(req.items);
      for (const t of req.tickets) this._fail(t, new ShutdownError(this._opts.component));
    }
  }

  private _append(item: Item): void {
    if (this._open && this._open.bytes + item.size > this._requestCap) this._seal();
    const req = (this._open ??= { items: [], bytes: 0, tickets: new Set() });
    req.items.push(item);
    req.bytes += item.size;
    if (!req.tickets.has(item.ticket)) {
      req.tickets.add(item.ticket);
      item.ticket.pending++;
    }
    if (req.bytes >= this._requestCap) this._seal();
  }

  private _seal(): void {
    if (this._linger) {
      clearTimeout(this._linger);
      this._linger = undefined;
    }
    if (!this._open) return;
    this._queue.push(this._open);
    this._open = undefined;
    this._pump();
  }

  private _pump(): void {
    while (this._sending < MAX_CONCURRENT_REQUESTS && this._queue.length > 0) {
      const req = this._queue.shift() as Request;
      this._sending++;
      void this._sendRequest(req).finally(() => {
        this._sending--;
        this._pump();
        if (this._sending === 0 && this._queue.length === 0) for (const w of this._idleWaiters.splice(0)) w();
      });
    }
  }

  private async _sendRequest(req: Request): Promise<void> {
    // Messages of calls already rejected (timed out, failed elsewhere) are not sent: their callers were told
    // "not accepted" and will send them again.
    const live = req.items.filter((i) => !i.ticket.done);
    let release = req.bytes;
    let requeued: Set<Item> | undefined;
    try {
      if (live.length === 0) return;
      const byTopic = new Map<string, TopicMessages>();
      for (const { msg } of live) {
        let tm = byTopic.get(msg.topic);
        if (!tm) byTopic.set(msg.topic, (tm = { topic: msg.topic, messages: [] }));
        tm.messages.push({
          key: msg.key,
          // FramedBytes only reach here when the SDK's produce encoding writes them (writesFramedValues).
          value: msg.value as Buffer,
          ...(msg.headers && { headers: msg.headers }),
          ...(msg.partition !== undefined && { partition: msg.partition }),
          ...(msg.acceptedAt !== undefined && { timestamp: String(msg.acceptedAt) }),
        });
      }
      const started = process.hrtime.bigint();
      try {
        await this._send([...byTopic.values()]);
      } catch (err) {
        this._metrics.requestDone(Number(process.hrtime.bigint() - started) / 1e9);
        const mapped = mapProduceError(err, [...byTopic.keys()].join(','), this._opts.component);
        const liveTickets = new Set(live.map((i) => i.ticket));
        if (!mapped.retriable && liveTickets.size > 1) {
          // One call's records may be what the broker refused: send each call's records on their own so
          // the others are not failed for it.
          for (const t of liveTickets) {
            const items = live.filter((i) => i.ticket === t);
            const bytes = items.reduce((a, i) => a + i.size, 0);
            requeued ??= new Set();
            for (const i of items) requeued.add(i);
            t.pending++;
            this._queue.unshift({ items, bytes, tickets: new Set([t]) });
            release -= bytes;
          }
          for (const t of req.tickets) this._partDone(t);
          return;
        }
        for (const t of req.tickets) this._fail(t, mapped);
        return;
      }
      this._metrics.requestDone(Number(process.hrtime.bigint() - started) / 1e9);
      for (const tm of byTopic.values()) {
        this._metrics.produced(
          tm.topic,
          tm.messages.length,
          tm.messages.reduce((a, m) => a + (m.value as Buffer).byteLength, 0),
        );
      }
    } finally {
      this._release(release);
      this._done(requeued ? req.items.filter((i) => !requeued?.has(i)) : req.items);
    }
    for (const t of req.tickets) this._partDone(t);
  }

  /** _done removes items written or given up from the in-flight accept times. */
  private _done(items: readonly Item[]): void {
    const inFlight = this._opts.inFlight;
    if (!inFlight) return;
    for (const { msg } of items)
      if (msg.watermarked && msg.acceptedAt !== undefined) inFlight.remove(msg.partition, msg.acceptedAt);
  }

  private _partDone(t: Ticket): void {
    t.pending--;
    this._check(t);
  }

  private _check(t: Ticket): void {
    if (t.done || t.adding || t.pending > 0) return;
    t.done = true;
    clearTimeout(t.timer);
    this._opts.onSuccess?.();
    t.resolve();
  }

  private _fail(t: Ticket, err: PipelineError): void {
    if (t.done) return;
    t.done = true;
    clearTimeout(t.timer);
    const reason = reasonOf(err);
    if (err.retriable && reason !== 'shutdown') this._opts.onFailure?.(err);
    this._metrics.failed(reason, err.retriable);
    t.reject(err);
  }

  private _addInflight(bytes: number): void {
    this._inflight += bytes;
    this._metrics.inflight(this._inflight);
  }

  private _release(bytes: number): void {
    this._inflight -= bytes;
    this._metrics.inflight(this._inflight);
  }
}
