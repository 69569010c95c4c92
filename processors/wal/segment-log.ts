// The segmented write-ahead log on disk: appends with group commit, a size bound, and deletion of each
// segment once every record in it has settled.
//
// Files are `<dir>/<20-digit sequence>.wal`, written in sequence order and never rewritten. Appends queue
// up while a write is in progress and go out together in the next one (one writev and, with fsync
// "batch", one fdatasync for all of them): the cost of a sync is shared by every request waiting for it.
// Each record belongs to one segment; the processor settles a record when its chunk reached the end of its
// journey, and a segment whose records have all settled is deleted, the active one included (the next
// append opens a new file). So the log holds, at any time, the segments with something still to deliver.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { BackpressureError, PipelineError, ShutdownError } from '../../pipeline/sdk/errors';
import { encodeRecord, readRecord, type WalRecord } from './record';

/** FsyncPolicy says when appended bytes are forced to disk before the append resolves. */
export type FsyncPolicy = 'batch' | 'interval' | 'off';

/** SegmentLogOptions configure one log. */
export interface SegmentLogOptions {
  readonly dir: string;
  /** A segment is closed for appends once it holds this many bytes. */
  readonly segmentBytes: number;
  /** Appends are refused (BackpressureError) while the log would exceed this many bytes. */
  readonly maxBytes: number;
  readonly fsync: FsyncPolicy;
  /** With fsync "interval": how often written bytes are synced (ms). */
  readonly fsyncIntervalMs: number;
  /** Retry-After given with a refusal because the log is full (ms). */
  readonly retryAfterMs: number;
  readonly logger: Logger;
  /** Called with the duration (seconds) of every sync. */
  readonly onSync?: (seconds: number) => void;
}

/** RecordRef points at one appended record, for settling it. */
export interface RecordRef {
  readonly segment: Segment;
}

/** Segment is one file of the log. */
export class Segment {
  /** Records appended or replayed and not yet settled. */
  unsettled = 0;
  /** Bytes in the file (appended and written). */
  bytes = 0;
  /** Closed for appends (full, replayed from a previous run, or settled while idle). */
  sealed = false;
  deleted = false;
  /** Unix ms of the oldest record still unsettled (approximate: when the segment was opened). */
  readonly openedAt = Date.now();
  fd: number | undefined;

  constructor(
    readonly sequence: number,
    readonly file: string,
  ) {}
}

/** A record read back from a previous run's segment, with the ref that settles it. */
export interface ReplayedRecord {
  readonly record: WalRecord;
  readonly ref: RecordRef;
}

/** What reading one old segment found. */
export interface ReplayedSegment {
  readonly file: string;
  readonly records: ReplayedRecord[];
  /** Set when the segment ended in a torn record (crash mid-write): why, and at which byte. */
  readonly torn?: { readonly reason: string; readonly offset: number };
}

interface PendingAppend {
  readonly buffers: Buffer[];
  readonly bytes: number;
  readonly resolve: (refs: RecordRef[]) => void;
  readonly reject: (err: Error) => void;
}

const SEGMENT_NAME = /^(\d{20})\.wal$/;

function segmentName(sequence: number): string {
  return `${String(sequence).padStart(20, '0')}.wal`;
}

/** SegmentLog is the log of one processor: open it, replay what a previous run left, append, settle. */
export class SegmentLog {
  private readonly _segments: Segment[] = [];
  private _active: Segment | undefined;
  private _nextSequence = 1;
  private _pending: PendingAppend[] = [];
  private _pendingBytes = 0;
  private _writing: Promise<void> | undefined;
  private _syncTimer: NodeJS.Timeout | undefined;
  private _dirty = false;
  private _closed = false;
  private _totalBytes = 0;

  constructor(private readonly _opts: SegmentLogOptions) {}

  /** Bytes held on disk and queued to be written. */
  get bytes(): number {
    return this._totalBytes + this._pendingBytes;
  }

  /** Segment files on disk. */
  get segmentCount(): number {
    return this._segments.length;
  }

  /** Unix ms of the oldest segment that still has unsettled records, or undefined. */
  get oldestUnsettledAt(): number | undefined {
    return this._segments.find((s) => s.unsettled > 0)?.openedAt;
  }

  /**
   * open creates the directory if needed, checks that it is writable, and reads every segment a previous
   * run left, in order. Torn tails are cut off (the file is truncated to its last whole record). The
   * returned records are unsettled until `settle` is called with their refs.
   */
  async open(): Promise<ReplayedSegment[]> {
    const dir = this._opts.dir;
    try {
      await fs.promises.mkdir(dir, { recursive: true });
      await fs.promises.access(dir, fs.constants.W_OK | fs.constants.R_OK);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PipelineError('ERR_WAL_DIR', `write-ahead log directory ${dir} is not usable: ${reason}`, {
        cause: err,
        retriable: false,
      });
    }
    const names = (await fs.promises.readdir(dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const replayed: ReplayedSegment[] = [];
    for (const name of names) {
      const sequence = Number(SEGMENT_NAME.exec(name)![1]);
      this._nextSequence = Math.max(this._nextSequence, sequence + 1);
      replayed.push(await this._readOld(new Segment(sequence, path.join(dir, name))));
    }
    if (this._opts.fsync === 'interval') {
      this._syncTimer = setInterval(() => void this._syncInterval(), this._opts.fsyncIntervalMs);
      this._syncTimer.unref();
    }
    return replayed;
  }

  private async _readOld(segment: Segment): Promise<ReplayedSegment> {
    const buf = await fs.promises.readFile(segment.file);
    const records: ReplayedRecord[] = [];
    let offset = 0;
    let torn: ReplayedSegment['torn'];
    for (;;) {
      const read = readRecord(buf, offset);
      if (read.status === 'end') break;
      if (read.status === 'torn') {
        torn = { reason: read.reason, offset };
        await fs.promises.truncate(segment.file, offset);
        break;
      }
      // Replayed data is copied out of the file's buffer so that the buffer can go once delivered.
      const record = { ...read.record, data: Buffer.from(read.record.data) };
      records.push({ record, ref: { segment } });
      offset = read.next;
    }
    segment.bytes = offset;
    segment.sealed = true;
    segment.unsettled = records.length;
    this._totalBytes += offset;
    this._segments.push(segment);
    if (records.length === 0) await this._delete(segment);
    return { file: segment.file, records, torn };
  }

  /**
   * append writes the records and resolves with their refs once they are in the file (and synced, with
   * fsync "batch"). It rejects with BackpressureError while the log is full, ShutdownError once closed.
   */
  append(records: readonly WalRecord[]): Promise<RecordRef[]> {
    if (this._closed) return Promise.reject(new ShutdownError('write-ahead log'));
    const buffers = records.map(encodeRecord);
    let bytes = 0;
    for (const b of buffers) bytes += b.byteLength;
    if (this.bytes + bytes > this._opts.maxBytes) {
      const message = `write-ahead log is full (${this.bytes} of ${this._opts.maxBytes} bytes held)`;
      return Promise.reject(new BackpressureError(message, this._opts.retryAfterMs));
    }
    return new Promise<RecordRef[]>((resolve, reject) => {
      this._pending.push({ buffers, bytes, resolve, reject });
      this._pendingBytes += bytes;
      this._writing ??= this._writeLoop();
    });
  }

  /** settle marks a record delivered; a segment with nothing left to deliver is deleted. */
  settle(ref: RecordRef): void {
    const segment = ref.segment;
    segment.unsettled--;
    if (segment.unsettled > 0 || segment.deleted) return;
    if (segment === this._active) {
      if (this._writing !== undefined) return; // the write loop seals and deletes it once idle
      this._active = undefined;
      segment.sealed = true;
    }
    if (segment.sealed) void this._delete(segment);
  }

  private async _writeLoop(): Promise<void> {
    try {
      while (this._pending.length > 0) {
        const batch = this._pending;
        this._pending = [];
        let bytes = 0;
        for (const p of batch) bytes += p.bytes;
        this._pendingBytes -= bytes;
        try {
          const segment = await this._segmentFor(bytes);
          const buffers = batch.flatMap((p) => p.buffers);
          await writeAll(segment.fd!, buffers);
          segment.bytes += bytes;
          this._totalBytes += bytes;
          if (this._opts.fsync === 'batch') await this._sync(segment);
          else this._dirty = true;
          for (const p of batch) {
            segment.unsettled += p.buffers.length;
            p.resolve(p.buffers.map(() => ({ segment })));
          }
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          this._opts.logger.error({ err }, 'write-ahead log append failed');
          const failure = new PipelineError('ERR_WAL_WRITE', `write-ahead log append failed: ${reason}`, {
            cause: err,
            retriable: true,
          });
          for (const p of batch) p.reject(failure);
        }
      }
    } finally {
      this._writing = undefined;
      const active = this._active;
      if (active && active.unsettled === 0 && active.bytes > 0) {
        this._active = undefined;
        active.sealed = true;
        await this._delete(active);
      }
    }
  }

  /** The segment the next `bytes` go to: the active one, or a new one when it is full or missing. */
  private async _segmentFor(bytes: number): Promise<Segment> {
    const active = this._active;
    if (active && (active.bytes === 0 || active.bytes + bytes <= this._opts.segmentBytes)) return active;
    if (active) {
      active.sealed = true;
      this._active = undefined;
      if (active.unsettled === 0) await this._delete(active);
      else await this._closeFd(active, true);
    }
    const sequence = this._nextSequence++;
    const segment = new Segment(sequence, path.join(this._opts.dir, segmentName(sequence)));
    segment.fd = await new Promise<number>((resolve, reject) =>
      fs.open(segment.file, 'wx', 0o600, (err, fd) => (err ? reject(err) : resolve(fd))),
    );
    this._segments.push(segment);
    this._active = segment;
    return segment;
  }

  private async _sync(segment: Segment): Promise<void> {
    if (segment.fd === undefined) return;
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => fs.fdatasync(segment.fd!, (err) => (err ? reject(err) : resolve())));
    this._opts.onSync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async _syncInterval(): Promise<void> {
    if (!this._dirty || this._active === undefined) return;
    this._dirty = false;
    try {
      await this._sync(this._active);
    } catch (err) {
      this._opts.logger.error({ err }, 'write-ahead log sync failed');
    }
  }

  private async _closeFd(segment: Segment, sync: boolean): Promise<void> {
    const fd = segment.fd;
    if (fd === undefined) return;
    segment.fd = undefined;
    if (sync && this._opts.fsync !== 'off') {
      await new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve()));
    }
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }

  private async _delete(segment: Segment): Promise<void> {
    if (segment.deleted) return;
    segment.deleted = true;
    const index = this._segments.indexOf(segment);
    if (index >= 0) this._segments.splice(index, 1);
    this._totalBytes -= segment.bytes;
    await this._closeFd(segment, false);
    try {
      await fs.promises.unlink(segment.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this._opts.logger.error({ err, file: segment.file }, 'write-ahead log could not delete a settled segment');
      }
    }
  }

  /**
   * close refuses new appends, waits for queued ones to be written and synced, and closes the files.
   * Records still unsettled stay on disk for the next run; settling after close still deletes segments.
   */
  async close(): Promise<void> {
    this._closed = true;
    if (this._syncTimer) clearInterval(this._syncTimer);
    await this._writing;
    const active = this._active;
    if (active) await this._closeFd(active, true);
  }
}

/** Buffers per writev call, well under the kernel's IOV_MAX (1024). */
const MAX_IOVECS = 512;

/** writeAll writes every buffer to `fd` at its current position, looping over short writes. */
async function writeAll(fd: number, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const slice = rest.length > MAX_IOVECS ? rest.slice(0, MAX_IOVECS) : rest;
    const written = await new Promise<number>((resolve, reject) =>
      fs.writev(fd, slice, (err, n) => (err ? reject(err) : resolve(n))),
    );
    let left = written;
    let i = 0;
    while (i < rest.length && left >= rest[i].byteLength) left -= rest[i++].byteLength;
    rest = rest.slice(i);
    if (left > 0) rest[0] = rest[0].subarray(left);
  }
}
