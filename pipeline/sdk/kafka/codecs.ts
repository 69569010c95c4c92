// Kafka compression codecs kafkajs 2.2.4 lacks (snappy, lz4, zstd), registered in kafkajs's codec table
// (`CompressionCodecs[type] = () => codec`) by `registerKafkaCodecs()`, which pipeline/sdk/kafka/client.ts
// calls whenever a client config is built: from then on every kafkajs client of the process can read
// record batches compressed with any Kafka codec, and the exporter can write them. Native, prebuilt
// libraries (napi-rs; async work off the event loop): `snappy`, `lz4-napi`, `@mongodb-js/zstd`.
//
// Wire formats, as Kafka's Java client writes and reads them (kafka-clients 4.x `compress/*`):
// - snappy: xerial snappy-java framing (SnappyOutputStream): the 8-byte magic 82 'SNAPPY' 00, int32 BE
//   version 1 and compatible version 1, then blocks of [int32 BE length][raw snappy], 32 KiB of input
//   each. Written framed; read framed or raw (Sarama and librdkafka may write one raw snappy block).
// - lz4: the standard LZ4 frame format (independent blocks, correct header checksum: record batches of
//   magic 2 never carry the old broken checksum of magic 0).
// - zstd: standard zstd frames, level 3 (Kafka's default); read with or without declared content size.

import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import { zstdCompress, zstdDecompress } from '../zstd';

/** KafkaCodec is kafkajs's codec shape: `compress` gets its Encoder (the records in `.buffer`). */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** The xerial snappy-java stream header magic. */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** Input bytes per xerial block (snappy-java's default block size). */
export const XERIAL_BLOCK_BYTES = 32 * 1024;

async function snappyRaw(buf: Buffer): Promise<Buffer> {
  return (await snappyUncompress(buf, { asBuffer: true })) as Buffer;
}

/** isXerialFramed tells whether `buf` starts with the snappy-java stream header. */
export function isXerialFramed(buf: Buffer): boolean {
  return buf.length >= XERIAL_HEADER_BYTES && buf.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** xerialCompress writes `data` as a snappy-java stream: header, then one raw snappy block per 32 KiB. */
export async function xerialCompress(data: Buffer): Promise<Buffer> {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // compatible version
  const pieces: Promise<Buffer>[] = [];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES)
    pieces.push(snappyCompress(data.subarray(at, at + XERIAL_BLOCK_BYTES)));
  const out: Buffer[] = [header];
  for (const block of await Promise.all(pieces)) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length, 0);
    out.push(len, block);
  }
  return Buffer.concat(out);
}

/** snappyDecompress reads a snappy-java (xerial) stream or, without its header, one raw snappy block. */
export async function snappyDecompress(buf: Buffer): Promise<Buffer> {
  if (!isXerialFramed(buf)) return snappyRaw(buf);
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new Error(`snappy: truncated xerial block length at byte ${pos}`);
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > buf.length)
      throw new Error(
        `snappy: xerial block of ${len} bytes at byte ${pos - 4} overruns the ${buf.length}-byte message`,
      );
    blocks.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  return Buffer.concat(await Promise.all(blocks.map(snappyRaw)));
}

/** The `compression` names a producer config accepts, in kafkajs type order. */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
/** KafkaCompression is one of KAFKA_COMPRESSIONS. */
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** compressionType maps a `compression` name to the kafkajs type (the record batch attribute value). */
export function compressionType(name: KafkaCompression): CompressionTypes {
  switch (name) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
  }
}

/** The codecs, by kafkajs compression type. */
export const KAFKA_CODECS: Readonly<
  Record<CompressionTypes.Snappy | CompressionTypes.LZ4 | CompressionTypes.ZSTD, KafkaCodec>
> = {
  [CompressionTypes.Snappy]: { compress: (e) => xerialCompress(e.buffer), decompress: snappyDecompress },
  [CompressionTypes.LZ4]: { compress: (e) => compressFrame(e.buffer), decompress: (b) => decompressFrame(b) },
  [CompressionTypes.ZSTD]: { compress: (e) => zstdCompress(e.buffer), decompress: zstdDecompress },
};

/**
 * registerKafkaCodecs puts the snappy, lz4 and zstd codecs into kafkajs's codec table (a table of the
 * kafkajs module, shared by all its clients). Idempotent; gzip and none stay kafkajs's own.
 */
export function registerKafkaCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => KAFKA_CODECS[CompressionTypes.Snappy];
  CompressionCodecs[CompressionTypes.LZ4] = () => KAFKA_CODECS[CompressionTypes.LZ4];
  CompressionCodecs[CompressionTypes.ZSTD] = () => KAFKA_CODECS[CompressionTypes.ZSTD];
}
