// Event time on the Kafka bus. A writer (the Kafka exporter of the ingest tier) stamps every record with the
// time it accepted its data (the record timestamp) and knows, per partition, the oldest accept time of the
// records it still has in flight. Periodically it writes a watermark record to every partition: "this writer
// will not write records accepted before W to this partition any more". A reader (the Kafka receiver) keeps
// the last W of every writer per partition; the partition's watermark is the lowest of the writers heard from
// recently. So a consumer waiting for the rest of a trace can wait on the partition's clock, which stops while
// a writer is stalled (e.g. retrying until a new partition leader is elected), instead of its own wall clock.

import type { IHeaders } from 'kafkajs';
import type { EventClock } from '../trace-batch';

/** Header naming the writer of a watermark record; its presence marks the record as one. */
export const WATERMARK_WRITER_HEADER = 'tusk.watermark.writer';
/** Header holding the watermark (ms since the epoch, decimal), or `end` when the writer stopped for good. */
export const WATERMARK_HEADER = 'tusk.watermark';
/** Value of WATERMARK_HEADER in the last record of a writer that shut down: readers forget it at once. */
export const WATERMARK_END = 'end';

/** WatermarkNotice is what a watermark record says. */
export interface WatermarkNotice {
  readonly writer: string;
  /** The writer's watermark for the record's partition; undefined when the writer ended. */
  readonly watermark: number | undefined;
}

/** WatermarkMessage is a watermark record as kafkajs produces it (an empty value: a valid empty OTLP request). */
export interface WatermarkMessage {
  readonly partition: number;
  readonly key: null;
  readonly value: Buffer;
  readonly timestamp: string;
  readonly headers: Record<string, string>;
}

const EMPTY = Buffer.alloc(0);

/** DEFAULT_WRITER_EXPIRY_MS is how long a reader waits for a silent writer by default (above a broker failover). */
export const DEFAULT_WRITER_EXPIRY_MS = 30_000;

/** watermarkMessage builds the watermark record of `writer` for one partition (`watermark` undefined = ended). */
export function watermarkMessage(writer: string, partition: number, watermark: number | undefined): WatermarkMessage {
  const at = watermark ?? Date.now();
  return {
    partition,
    key: null,
    value: EMPTY,
    timestamp: String(at),
    headers: {
      [WATERMARK_WRITER_HEADER]: writer,
      [WATERMARK_HEADER]: watermark === undefined ? WATERMARK_END : String(watermark),
    },
  };
}

function headerText(v: IHeaders[string]): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  return typeof one === 'string' ? one : one.toString('utf8');
}

/**
 * readWatermark tells whether a consumed record is a watermark record and what it says; undefined for any
 * other record. A watermark header that is not a time makes the record count as an end notice (its writer is
 * forgotten rather than trusted with a wrong time).
 */
export function readWatermark(headers: IHeaders | undefined): WatermarkNotice | undefined {
  if (!headers) return undefined;
  const writer = headerText(headers[WATERMARK_WRITER_HEADER]);
  if (writer === undefined) return undefined;
  const raw = headerText(headers[WATERMARK_HEADER]);
  const w = raw === undefined || raw === WATERMARK_END ? NaN : Number(raw);
  return { writer, watermark: Number.isFinite(w) ? w : undefined };
}

/** AcceptClock hands out accept times: the wall clock, never moving backwards (a clock step back is held). */
export class AcceptClock {
  private _last = 0;

  constructor(private readonly _now: () => number = Date.now) {}

  /** now returns the current accept time (ms since the epoch), at least every earlier one. */
  now(): number {
    const t = this._now();
    if (t > this._last) this._last = t;
    return this._last;
  }
}

/**
 * InFlightAcceptTimes counts the accept times of a writer's records in flight (accepted, not yet written or
 * given up) per partition, to tell the oldest one. Accept times come from an AcceptClock, so each
 * partition's times are added in increasing order and its oldest is the first key of its map. A record
 * whose partition is not known yet (undefined) holds every partition back.
 */
export class InFlightAcceptTimes {
  private readonly _byPartition = new Map<number | undefined, Map<number, number>>();

  /** add counts one record in flight. */
  add(partition: number | undefined, acceptedAt: number): void {
    let times = this._byPartition.get(partition);
    if (!times) this._byPartition.set(partition, (times = new Map()));
    times.set(acceptedAt, (times.get(acceptedAt) ?? 0) + 1);
  }

  /** remove forgets one record added before with the same partition and accept time. */
  remove(partition: number | undefined, acceptedAt: number): void {
    const times = this._byPartition.get(partition);
    const n = times?.get(acceptedAt);
    if (!times || n === undefined) return;
    if (n > 1) times.set(acceptedAt, n - 1);
    else times.delete(acceptedAt);
    if (times.size === 0) this._byPartition.delete(partition);
  }

  /** oldest is the oldest accept time in flight to `partition` (or of unknown partition); undefined for none. */
  oldest(partition: number): number | undefined {
    const a = firstKey(this._byPartition.get(partition));
    const b = firstKey(this._byPartition.get(undefined));
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  /** size is the number of records in flight. */
  get size(): number {
    let n = 0;
    for (const times of this._byPartition.values()) for (const c of times.values()) n += c;
    return n;
  }
}

function firstKey(m: Map<number, number> | undefined): number | undefined {
  if (!m) return undefined;
  for (const k of m.keys()) return k;
  return undefined;
}

/**
 * PartitionClock is a reader's event-time clock of one partition: the last watermark of every writer (the
 * highest seen: a replay after a restart reads older ones again), forgotten when not heard from for
 * `writerExpiryMs` (a writer that died) or told it ended; and holds put by the reader on data it fetched but
 * could not hand on yet. Its watermark is the lowest of them, or undefined when no writer is known. A closed
 * clock (its partition moved to another reader) stops where it was: data still held from it waits for its
 * consumer's own bound, while the new owner reads the partition further.
 */
export class PartitionClock implements EventClock {
  private readonly _writers = new Map<string, { watermark: number; heardAt: number }>();
  private readonly _holds = new Map<object, number>();
  private _closed = false;

  constructor(private readonly _writerExpiryMs: number) {}

  /** observe records a watermark record read at `nowMs`. */
  observe(notice: WatermarkNotice, nowMs: number): void {
    if (this._closed) return;
    if (notice.watermark === undefined) {
      this._writers.delete(notice.writer);
      return;
    }
    const w = this._writers.get(notice.writer);
    if (w) {
      w.watermark = Math.max(w.watermark, notice.watermark);
      w.heardAt = nowMs;
    } else this._writers.set(notice.writer, { watermark: notice.watermark, heardAt: nowMs });
  }

  /** hold keeps the watermark at or below `acceptedAt` until release(key): data of that age is not handed on yet. */
  hold(key: object, acceptedAt: number): void {
    this._holds.set(key, acceptedAt);
  }

  /** release ends a hold. */
  release(key: object): void {
    this._holds.delete(key);
  }

  /** close stops the clock for good: nothing is observed or expired any more, the watermark stays. */
  close(): void {
    this._closed = true;
  }

  /** writers is the number of writers currently known (expired ones are forgotten first). */
  writers(nowMs: number): number {
    this._expire(nowMs);
    return this._writers.size;
  }

  watermark(nowMs: number): number | undefined {
    this._expire(nowMs);
    if (this._writers.size === 0) return undefined;
    let min = Infinity;
    for (const w of this._writers.values()) if (w.watermark < min) min = w.watermark;
    for (const h of this._holds.values()) if (h < min) min = h;
    return min;
  }

  private _expire(nowMs: number): void {
    if (this._closed) return;
    const cutoff = nowMs - this._writerExpiryMs;
    for (const [id, w] of this._writers) if (w.heardAt < cutoff) this._writers.delete(id);
  }
}
