// Zstandard (de)compression shared by the Kafka codecs (pipeline/sdk/kafka/codecs.ts) and the OTLP/HTTP
// receiver's `Content-Encoding: zstd`: @mongodb-js/zstd (libzstd through napi-rs, prebuilt binaries, work
// off the event loop) plus a bomb-safe bounded decompression. The library only decompresses whole bodies,
// so `decompressZstdBounded` first walks the frame and block headers (RFC 8878) without decompressing:
// a frame's output is at most its declared Frame_Content_Size, and at most the sum of its blocks' sizes
// (raw and RLE blocks state theirs, a compressed block yields at most Block_Maximum_Size = min(window,
// 128 KiB)). A body whose bound is over the limit is refused before anything is allocated for it.

import { compress, decompress } from '@mongodb-js/zstd';

/** Largest output of one zstd block (ZSTD_BLOCKSIZE_MAX). */
export const ZSTD_BLOCK_SIZE_MAX = 128 * 1024;
/** Compression level of the Kafka codec: Kafka's own default (`compression.zstd.level`). */
export const ZSTD_DEFAULT_LEVEL = 3;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // 0x184D2A50..0x184D2A5F
const DICT_ID_BYTES = [0, 1, 2, 4];
const FCS_BYTES = [0, 2, 4, 8];

/** ZstdFormatError: the bytes are not a well-formed sequence of zstd frames. */
export class ZstdFormatError extends Error {
  override readonly name = 'ZstdFormatError';
}

/** ZstdTooLargeError: the body would decompress to more than the limit (a RangeError like zlib's maxOutputLength). */
export class ZstdTooLargeError extends RangeError {
  override readonly name = 'ZstdTooLargeError';
  readonly code = 'ERR_BUFFER_TOO_LARGE';
}

/**
 * zstdDecompressedBound returns an upper bound of what `buf` decompresses to, reading headers only.
 * Exact for frames that declare their content size; for frames that do not (streaming compressors, e.g.
 * Kafka's Java client), it may overestimate by up to Block_Maximum_Size per compressed block that was cut
 * short (usually only the last). Throws ZstdFormatError for anything that is not zstd frames (skippable
 * frames are allowed), truncated input, reserved bits or block types.
 */
export function zstdDecompressedBound(buf: Uint8Array): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const need = (pos: number, n: number, what: string) => {
    if (pos + n > buf.length)
      throw new ZstdFormatError(
        `truncated zstd data: ${what} at byte ${pos} needs ${n} bytes, ${buf.length - pos} left`,
      );
  };
  if (buf.length === 0) throw new ZstdFormatError('empty zstd data');
  let pos = 0;
  let total = 0;
  while (pos < buf.length) {
    need(pos, 4, 'frame magic');
    const magic = view.getUint32(pos, true);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      need(pos, 8, 'skippable frame header');
      const size = view.getUint32(pos + 4, true);
      need(pos + 8, size, 'skippable frame');
      pos += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC)
      throw new ZstdFormatError(`not a zstd frame at byte ${pos} (magic 0x${magic.toString(16).padStart(8, '0')})`);
    pos += 4;
    need(pos, 1, 'frame header descriptor');
    const fhd = buf[pos++];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if ((fhd & 0x08) !== 0) throw new ZstdFormatError(`zstd frame header at byte ${pos - 1} has the reserved bit set`);
    const hasChecksum = (fhd & 0x04) !== 0;
    let windowSize = 0;
    if (!singleSegment) {
      need(pos, 1, 'window descriptor');
      const wd = buf[pos++];
      const base = 2 ** (10 + (wd >> 3));
      windowSize = base + (base / 8) * (wd & 7);
    }
    const dictBytes = DICT_ID_BYTES[fhd & 3];
    need(pos, dictBytes, 'dictionary id');
    pos += dictBytes;
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : FCS_BYTES[fcsFlag];
    need(pos, fcsBytes, 'frame content size');
    let contentSize = Infinity;
    if (fcsBytes === 1) contentSize = buf[pos];
    else if (fcsBytes === 2) contentSize = view.getUint16(pos, true) + 256;
    else if (fcsBytes === 4) contentSize = view.getUint32(pos, true);
    else if (fcsBytes === 8) contentSize = Number(view.getBigUint64(pos, true));
    pos += fcsBytes;
    if (singleSegment) windowSize = contentSize;
    const blockMax = Math.min(windowSize, ZSTD_BLOCK_SIZE_MAX);
    let frameBound = 0;
    for (;;) {
      need(pos, 3, 'block header');
      const header = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16);
      pos += 3;
      const last = (header & 1) !== 0;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 0) {
        need(pos, size, 'raw block');
        frameBound += size;
        pos += size;
      } else if (type === 1) {
        need(pos, 1, 'RLE block');
        frameBound += size;
        pos += 1;
      } else if (type === 2) {
        need(pos, size, 'compressed block');
        frameBound += blockMax;
        pos += size;
      } else {
        throw new ZstdFormatError(`zstd block at byte ${pos - 3} has the reserved block type`);
      }
      if (last) break;
    }
    if (hasChecksum) {
      need(pos, 4, 'content checksum');
      pos += 4;
    }
    // libzstd refuses a frame whose output differs from its declared size, so the smaller one bounds it.
    total += Math.min(contentSize, frameBound);
  }
  return total;
}

/**
 * decompressZstdBounded decompresses `buf` unless it could decompress to more than `limit` bytes
 * (ZstdTooLargeError, before decompressing). At most `limit + ZSTD_BLOCK_SIZE_MAX` bytes are ever
 * allocated for the output (the header bound may overestimate a frame without a declared size by one short
 * block); the real size is then checked against `limit` exactly. ZstdFormatError or the library's error for
 * corrupt data.
 */
export async function decompressZstdBounded(buf: Uint8Array, limit: number): Promise<Buffer> {
  const bound = zstdDecompressedBound(buf);
  if (bound > limit + ZSTD_BLOCK_SIZE_MAX)
    throw new ZstdTooLargeError(`zstd body may decompress to ${bound} bytes, over the limit of ${limit}`);
  const out = await decompress(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  if (out.length > limit)
    throw new ZstdTooLargeError(`zstd body decompresses to ${out.length} bytes, over the limit of ${limit}`);
  return out;
}

/** zstdCompress compresses `buf` into one zstd frame (off the event loop). */
export function zstdCompress(buf: Buffer, level = ZSTD_DEFAULT_LEVEL): Promise<Buffer> {
  return compress(buf, level);
}

/** zstdDecompress decompresses any sequence of zstd frames, with or without declared sizes (no limit: trusted input only). */
export function zstdDecompress(buf: Buffer): Promise<Buffer> {
  return decompress(buf);
}
