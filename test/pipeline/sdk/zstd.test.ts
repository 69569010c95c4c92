// Unit tests of pipeline/sdk/zstd.ts: the header-only output bound (exact with a declared content size,
// per-block otherwise), bounded decompression that refuses bombs before allocating their output (with and
// without a declared size), the exact limit check, skippable and concatenated frames, and malformed input.

import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  ZSTD_BLOCK_SIZE_MAX,
  ZstdFormatError,
  ZstdTooLargeError,
  decompressZstdBounded,
  zstdCompress,
  zstdDecompress,
  zstdDecompressedBound,
} from '../../../pipeline/sdk/zstd';
import { JAVA_VECTORS, JAVA_VECTOR_INPUT } from './kafka/java-vectors';

/**
 * rleFrame hand-builds a valid zstd frame WITHOUT a declared content size (like a streaming compressor):
 * a 128 KiB window and `blocks` RLE blocks of 128 KiB of `byte` each: 128 KiB of output per 4 input bytes.
 */
function rleFrame(blocks: number, byte = 0x61): Buffer {
  const out = Buffer.alloc(6 + 4 * blocks);
  out.writeUInt32LE(0xfd2fb528, 0);
  out[4] = 0x00; // no content size, no single segment, no checksum, no dictionary
  out[5] = 7 << 3; // window 2^(10+7) = 128 KiB
  for (let i = 0; i < blocks; i++) {
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | (ZSTD_BLOCK_SIZE_MAX << 3);
    const at = 6 + 4 * i;
    out[at] = header & 0xff;
    out[at + 1] = (header >> 8) & 0xff;
    out[at + 2] = (header >> 16) & 0xff;
    out[at + 3] = byte;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('pipeline/sdk/zstd', () => {
  it('bounds a frame with a declared content size exactly', async () => {
    for (const data of [Buffer.from('x'), randomBytes(300_000), Buffer.alloc(5_000_000, 7)]) {
      const packed = await zstdCompress(data);
      expect(zstdDecompressedBound(packed), `${data.length} bytes`).to.equal(data.length);
    }
  });

  it("bounds streaming frames (no declared size) per block: the hand-made RLE frame and Java's zstd", async () => {
    const three = rleFrame(3);
    expect(zstdDecompressedBound(three)).to.equal(3 * ZSTD_BLOCK_SIZE_MAX);
    const out = await zstdDecompress(three);
    expect(out.length).to.equal(3 * ZSTD_BLOCK_SIZE_MAX); // the hand-made frame is real zstd
    expect(out.every((b) => b === 0x61)).to.equal(true);
    const bound = zstdDecompressedBound(JAVA_VECTORS.zstd);
    expect(bound)
      .to.be.at.least(JAVA_VECTOR_INPUT.length)
      .and.at.most(JAVA_VECTOR_INPUT.length + ZSTD_BLOCK_SIZE_MAX);
  });

  it('decompresses within the limit, and checks the real size exactly', async () => {
    const data = randomBytes(200_000);
    const packed = await zstdCompress(data);
    expect(Buffer.compare(await decompressZstdBounded(packed, 200_000), data)).to.equal(0);
    const err = await rejection(decompressZstdBounded(packed, 199_999));
    expect(err).to.be.instanceOf(ZstdTooLargeError);
    const java = await decompressZstdBounded(JAVA_VECTORS.zstd, JAVA_VECTOR_INPUT.length);
    expect(java.toString('utf8')).to.equal(JAVA_VECTOR_INPUT.toString('utf8'));
  });

  it('refuses bombs before decompressing: 100 MiB declared, and 100 MiB of RLE blocks without a declared size', async () => {
    const declared = await zstdCompress(Buffer.alloc(100 * 1024 * 1024));
    const undeclared = rleFrame(800);
    expect(declared.length).to.be.lessThan(10 * 1024);
    expect(undeclared.length).to.be.lessThan(4 * 1024);
    for (const [what, bomb] of [
      ['declared', declared],
      ['undeclared', undeclared],
    ] as const) {
      expect(zstdDecompressedBound(bomb), what).to.equal(100 * 1024 * 1024);
      const before = process.memoryUsage().arrayBuffers;
      const t0 = Date.now();
      const err = await rejection(decompressZstdBounded(bomb, 1024 * 1024));
      expect(err, what).to.be.instanceOf(ZstdTooLargeError);
      expect(err.message, what).to.match(/may decompress to 104857600 bytes, over the limit of 1048576/);
      expect(Date.now() - t0, what).to.be.lessThan(200);
      expect(process.memoryUsage().arrayBuffers - before, what).to.be.lessThan(16 * 1024 * 1024);
    }
  });

  it('reads concatenated frames and skips skippable frames', async () => {
    const a = await zstdCompress(Buffer.from('first '));
    const skippable = Buffer.concat([
      Buffer.from([0x5a, 0x2a, 0x4d, 0x18]),
      Buffer.from([3, 0, 0, 0]),
      Buffer.from('abc'),
    ]);
    const b = rleFrame(1, 0x62);
    const all = Buffer.concat([a, skippable, b]);
    expect(zstdDecompressedBound(all)).to.equal(6 + ZSTD_BLOCK_SIZE_MAX);
    const out = await decompressZstdBounded(all, 1024 * 1024);
    expect(out.length).to.equal(6 + ZSTD_BLOCK_SIZE_MAX);
    expect(out.subarray(0, 6).toString()).to.equal('first ');
  });

  it('throws ZstdFormatError for empty, non-zstd, truncated data and reserved bits', async () => {
    const good = await zstdCompress(randomBytes(1000));
    const reservedType = rleFrame(1);
    reservedType[6] |= 3 << 1; // block type 3 is reserved
    const reservedBit = rleFrame(1);
    reservedBit[4] |= 0x08;
    for (const [what, bad] of [
      ['empty', Buffer.alloc(0)],
      ['not zstd', Buffer.from('this is not zstd at all')],
      ['truncated block', good.subarray(0, good.length - 10)],
      ['truncated header', good.subarray(0, 5)],
      ['reserved block type', reservedType],
      ['reserved header bit', reservedBit],
      ['trailing garbage', Buffer.concat([good, Buffer.from('xx')])],
    ] as const) {
      expect(() => zstdDecompressedBound(bad), what).to.throw(ZstdFormatError);
    }
  });

  it('rejects a frame whose headers are fine but whose compressed block is corrupt', async () => {
    // One last compressed block of 16 bytes 0xff: its literals header asks for a Huffman table from a
    // previous block that does not exist.
    const bad = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]),
      Buffer.from([1 | (2 << 1) | (16 << 3), 0, 0]),
      Buffer.alloc(16, 0xff),
    ]);
    expect(zstdDecompressedBound(bad)).to.equal(ZSTD_BLOCK_SIZE_MAX);
    const err = await rejection(decompressZstdBounded(bad, 1024 * 1024));
    expect(err).to.not.be.instanceOf(ZstdTooLargeError);
    expect(err.message).to.match(/zstd|corrupt|error/i);
  });
});
