// Unit tests of the Kafka snappy/lz4/zstd codecs (pipeline/sdk/kafka/codecs.ts): round trips, the xerial
// framing the Java client writes (fixed vectors from kafka-clients 4.4.0, multi-block too), raw snappy,
// corrupt input, the registration in kafkajs's codec table, and a record batch through kafkajs's own
// encoder and decoder with each codec.

import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressSync as snappyRawCompress } from 'snappy';
import {
  KAFKA_CODECS,
  KAFKA_COMPRESSIONS,
  XERIAL_BLOCK_BYTES,
  XERIAL_MAGIC,
  compressionType,
  isXerialFramed,
  registerKafkaCodecs,
  snappyDecompress,
  type KafkaCodec,
} from '../../../../pipeline/sdk/kafka/codecs';
import { JAVA_VECTORS, JAVA_VECTOR_INPUT } from './java-vectors';

type CodecType = CompressionTypes.Snappy | CompressionTypes.LZ4 | CompressionTypes.ZSTD;
const CODECS: [string, CodecType][] = [
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
];

/** Minimal shapes of the kafkajs internals the record batch test drives (kafkajs 2.2.4 src/protocol). */
interface KafkajsEncoder {
  buffer: Buffer;
}
type RecordBatchFn = (args: { compression: number; records: unknown[] }) => Promise<KafkajsEncoder>;
type RecordFn = (args: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
  headers?: Record<string, Buffer>;
}) => unknown;
type BatchDecoderFn = (decoder: unknown) => Promise<{ records: { key: Buffer; value: Buffer; offset: string }[] }>;
type DecoderCtor = new (buffer: Buffer) => unknown;

/** xerialBlocks lists the compressed block lengths of a xerial stream. */
function xerialBlocks(buf: Buffer): number[] {
  const lengths: number[] = [];
  for (let pos = 16; pos < buf.length;) {
    const len = buf.readInt32BE(pos);
    lengths.push(len);
    pos += 4 + len;
  }
  return lengths;
}

describe('pipeline/sdk/kafka/codecs', () => {
  const compressible = Buffer.from('span attributes repeat a lot; '.repeat(10_000));
  const random = randomBytes(100 * 1024 + 7);

  for (const [name, type] of CODECS) {
    const codec: KafkaCodec = KAFKA_CODECS[type];
    it(`${name}: round trips empty, tiny, incompressible and compressible data`, async () => {
      for (const data of [Buffer.alloc(0), Buffer.from([42]), random, compressible]) {
        const packed = await codec.compress({ buffer: data });
        if (data === compressible) expect(packed.length, 'compressible data shrinks').to.be.lessThan(data.length / 5);
        const back = await codec.decompress(packed);
        expect(Buffer.compare(back, data), `${data.length} bytes`).to.equal(0);
      }
    });

    it(`${name}: rejects corrupt input`, async () => {
      const packed = await codec.compress({ buffer: random });
      const broken = [Buffer.from('definitely not compressed data'), packed.subarray(0, packed.length - 9)];
      for (const bad of broken) {
        let failed = false;
        try {
          await codec.decompress(bad);
        } catch {
          failed = true;
        }
        expect(failed, `${bad.length} bytes of corrupt ${name}`).to.equal(true);
      }
    });
  }

  it("decodes what Kafka's Java client writes: xerial snappy (one and several blocks), LZ4 frame, streaming zstd", async () => {
    expect(isXerialFramed(JAVA_VECTORS.snappy)).to.equal(true);
    expect(xerialBlocks(JAVA_VECTORS.snappy1kBlocks)).to.have.length(3);
    const cases: [string, CodecType, Buffer][] = [
      ['snappy', CompressionTypes.Snappy, JAVA_VECTORS.snappy],
      ['snappy (1 KiB blocks)', CompressionTypes.Snappy, JAVA_VECTORS.snappy1kBlocks],
      ['lz4', CompressionTypes.LZ4, JAVA_VECTORS.lz4],
      ['zstd', CompressionTypes.ZSTD, JAVA_VECTORS.zstd],
    ];
    for (const [what, type, vector] of cases) {
      const out = await KAFKA_CODECS[type].decompress(vector);
      expect(out.toString('utf8'), what).to.equal(JAVA_VECTOR_INPUT.toString('utf8'));
    }
  });

  it('writes snappy as a snappy-java stream: magic, version 1/1, one block per 32 KiB of input', async () => {
    const packed = await KAFKA_CODECS[CompressionTypes.Snappy].compress({ buffer: random });
    expect(packed.subarray(0, 8).equals(XERIAL_MAGIC)).to.equal(true);
    expect(packed.readInt32BE(8)).to.equal(1);
    expect(packed.readInt32BE(12)).to.equal(1);
    expect(xerialBlocks(packed)).to.have.length(Math.ceil(random.length / XERIAL_BLOCK_BYTES));
  });

  it('reads raw (unframed) snappy, as Sarama and librdkafka may write it', async () => {
    const raw = snappyRawCompress(compressible);
    expect(isXerialFramed(raw)).to.equal(false);
    expect(Buffer.compare(await snappyDecompress(raw), compressible)).to.equal(0);
  });

  it('rejects a xerial stream whose block length overruns the message', async () => {
    const bad = Buffer.from(JAVA_VECTORS.snappy);
    bad.writeInt32BE(bad.length, 16);
    let message = '';
    try {
      await snappyDecompress(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.match(/overruns/);
  });

  it('maps every compression name to its kafkajs type', () => {
    expect(KAFKA_COMPRESSIONS.map(compressionType)).to.deep.equal([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ]);
  });

  it("registers the three codecs in kafkajs's table and leaves gzip alone", () => {
    const gzip = CompressionCodecs[CompressionTypes.GZIP]();
    registerKafkaCodecs();
    registerKafkaCodecs(); // idempotent
    for (const [, type] of CODECS) expect(CompressionCodecs[type]()).to.equal(KAFKA_CODECS[type]);
    expect(CompressionCodecs[CompressionTypes.GZIP]()).to.equal(gzip);
  });

  it("carries a record batch through kafkajs's own encoder and decoder with each codec", async () => {
    registerKafkaCodecs();
    /* eslint-disable @typescript-eslint/no-require-imports */
    const RecordBatch = (require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: RecordBatchFn }).RecordBatch;
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as RecordFn;
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoderFn;
    const Decoder = require('kafkajs/src/protocol/decoder') as DecoderCtor;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const values = [random, compressible, Buffer.from('third')];
    for (const [name, type] of CODECS) {
      const records = values.map((value, i) => Record({ offsetDelta: i, key: Buffer.from(`key-${i}`), value }));
      const encoded = await RecordBatch({ compression: type, records });
      const plain = await RecordBatch({ compression: CompressionTypes.None, records });
      expect(encoded.buffer.length, `${name} batch is compressed`).to.be.lessThan(plain.buffer.length);
      expect(encoded.buffer.readInt16BE(8 + 4 + 4 + 1 + 4) & 0x07, `${name} attribute`).to.equal(type);
      const batch = await decodeBatch(new Decoder(encoded.buffer)); // firstOffset, length, batch
      expect(
        batch.records.map((r) => r.key.toString()),
        name,
      ).to.deep.equal(['key-0', 'key-1', 'key-2']);
      batch.records.forEach((r, i) => expect(Buffer.compare(r.value, values[i]), `${name} record ${i}`).to.equal(0));
    }
  });
});
