// The framing of one write-ahead-log record: a trace's (or log records') encoded chunk with a header that
// lets a reader find the record's end and prove its bytes are whole.
//
//   offset 0  u32 LE  payload length N (bytes after this 9-byte header)
//   offset 4  u32 LE  CRC-32C of bytes 8 .. 9+N (the kind byte and the payload)
//   offset 8  u8      kind: 1 = trace chunk, 2 = log chunk
//   offset 9  payload: u8 trace id length L (0 or 16), L bytes of trace id, u32 LE item count (spans or
//             log records), then the chunk's encoded OTLP bytes
//
// A crash in the middle of an append leaves a record whose length runs past the end of the file or whose
// CRC does not match: the reader stops there and reports a torn tail instead of trusting the bytes.

import { crc32c } from '@node-rs/crc32';

/** Bytes before a record's payload: length, CRC and kind. */
export const RECORD_HEADER_BYTES = 9;
/** Largest payload a record may carry (a chunk is bounded by the receivers' request limits far below it). */
export const MAX_RECORD_PAYLOAD = 256 * 1024 * 1024;

/** RecordKind tells which signal a record's chunk belongs to. */
export type RecordKind = 'traces' | 'logs';

const KIND_CODE: Record<RecordKind, number> = { traces: 1, logs: 2 };

/** WalRecord is one chunk as the log stores it. */
export interface WalRecord {
  readonly kind: RecordKind;
  /** Lowercase 32-char hex trace id, or '' (log records outside any trace). */
  readonly traceId: string;
  /** Spans (traces) or log records (logs) in `data`. */
  readonly itemCount: number;
  /** The chunk's encoded OTLP bytes. */
  readonly data: Uint8Array;
}

/** encodeRecord frames a record; the result is what one append writes. */
export function encodeRecord(record: WalRecord): Buffer {
  const idBytes = record.traceId === '' ? 0 : 16;
  const payloadLength = 1 + idBytes + 4 + record.data.byteLength;
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadLength);
  out.writeUInt32LE(payloadLength, 0);
  out.writeUInt8(KIND_CODE[record.kind], 8);
  let at = RECORD_HEADER_BYTES;
  out.writeUInt8(idBytes, at++);
  if (idBytes > 0) {
    out.write(record.traceId, at, 16, 'hex');
    at += 16;
  }
  out.writeUInt32LE(record.itemCount, at);
  at += 4;
  out.set(record.data, at);
  out.writeUInt32LE(crc32c(out.subarray(8)), 4);
  return out;
}

/** What reading one record from a buffer found. */
export type RecordRead =
  | { readonly status: 'ok'; readonly record: WalRecord; readonly next: number }
  | { readonly status: 'end' }
  | { readonly status: 'torn'; readonly reason: string };

/**
 * readRecord reads the record at `offset` of `buf` (a segment's bytes). `end` means the buffer ends exactly
 * there; `torn` means the bytes from `offset` on are not one whole record (cut short, or a CRC mismatch).
 * The record's data is a view of `buf`.
 */
export function readRecord(buf: Buffer, offset: number): RecordRead {
  if (offset === buf.byteLength) return { status: 'end' };
  if (buf.byteLength - offset < RECORD_HEADER_BYTES) return { status: 'torn', reason: 'header cut short' };
  const length = buf.readUInt32LE(offset);
  if (length < 5 || length > MAX_RECORD_PAYLOAD) return { status: 'torn', reason: `impossible length ${length}` };
  const next = offset + RECORD_HEADER_BYTES + length;
  if (next > buf.byteLength) return { status: 'torn', reason: 'payload cut short' };
  if (crc32c(buf.subarray(offset + 8, next)) !== buf.readUInt32LE(offset + 4)) {
    return { status: 'torn', reason: 'checksum mismatch' };
  }
  const code = buf.readUInt8(offset + 8);
  const kind: RecordKind | undefined = code === 1 ? 'traces' : code === 2 ? 'logs' : undefined;
  if (kind === undefined) return { status: 'torn', reason: `unknown record kind ${code}` };
  let at = offset + RECORD_HEADER_BYTES;
  const idBytes = buf.readUInt8(at++);
  if (idBytes !== 0 && idBytes !== 16) return { status: 'torn', reason: `bad trace id length ${idBytes}` };
  if (at + idBytes + 4 > next) return { status: 'torn', reason: 'payload shorter than its fields' };
  const traceId = idBytes === 0 ? '' : buf.toString('hex', at, at + idBytes);
  at += idBytes;
  const itemCount = buf.readUInt32LE(at);
  at += 4;
  return { status: 'ok', record: { kind, traceId, itemCount, data: buf.subarray(at, next) }, next };
}
