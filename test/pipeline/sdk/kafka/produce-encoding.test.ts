// The one-pass produce request encoder against kafkajs' own: byte-identical request bodies for random
// requests (topics, partitions, keys, values of every size, headers incl. repeated ones, transactional ids,
// producer ids as numbers and Longs, timestamps given or not), a valid record batch CRC32C, and the install
// hook routing kafkajs' produce protocol (v3-v7, uncompressed only) through it.

import { expect } from 'chai';
import {
  installFastProduceEncoding,
  ProduceRequestEncoder,
  RequestBufferPool,
  type ProduceRequestArgs,
  type Crc32c,
} from '../../../../pipeline/sdk/kafka/produce-encoding';
import { rng } from '../../../helpers/random';
import type { FramedBytes } from '../../../../pipeline/sdk/trace-batch';

/* eslint-disable @typescript-eslint/no-require-imports */
const kafkajsRequestV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: ProduceRequestArgs) => {
  encode(): Promise<{ buffer: Buffer }>;
};
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as Crc32c;
const KafkaLong = require('kafkajs/src/utils/long') as {
  fromValue(v: unknown): { getHighBits(): number; getLowBits(): number };
  fromNumber(n: number): unknown;
};
const produceProtocol = require('kafkajs/src/protocol/requests/produce') as {
  protocol(v: { version: number }): (a: ProduceRequestArgs) => {
    request: { encode(): Promise<{ buffer: Buffer }> };
    response: { decode(raw: Buffer): Promise<unknown> };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const FIXED_NOW = 1_795_600_000_123;

async function withFixedNow<T>(fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => FIXED_NOW;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

function randomBytes(next: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

function withFixedNowSync<T>(fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => FIXED_NOW;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

function randomRequest(next: () => number): ProduceRequestArgs {
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
  const sizes = [0, 1, 63, 64, 127, 128, 300, 8191, 8192, 16_384, 70_000];
  const withTimestamps = next() < 0.3;
  const topicData = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, t) => ({
    topic: `topic-${t}-${pick(['a', 'ünïcode', 'x'.repeat(40)])}`,
    partitions: Array.from({ length: 1 + Math.floor(next() * 4) }, (_, p) => ({
      partition: p * 3 + Math.floor(next() * 3),
      firstSequence: Math.floor(next() * 1_000_000),
      messages: Array.from({ length: 1 + Math.floor(next() * 40) }, () => {
        const m: {
          key: Buffer | string | null;
          value: Buffer | string;
          headers?: Record<string, string | Buffer | Array<string | Buffer>>;
          timestamp?: string;
        } = {
          key: pick<Buffer | string | null>([randomBytes(next, 32).toString('hex'), randomBytes(next, 16), null]),
          value: next() < 0.9 ? randomBytes(next, pick(sizes)) : 'a string value ✓',
        };
        if (next() < 0.4) {
          m.headers = {
            traceparent: `00-${randomBytes(next, 16).toString('hex')}-${randomBytes(next, 8).toString('hex')}-01`,
            'b-bin': randomBytes(next, 5),
          };
          if (next() < 0.5) m.headers.multi = ['one', Buffer.from('two'), 'drei ü'];
        }
        if (withTimestamps) m.timestamp = String(FIXED_NOW - Math.floor(next() * 2_000_000_000));
        return m;
      }),
    })),
  }));
  return {
    acks: pick([-1, 1, 0]),
    timeout: pick([30_000, 5_000, 1]),
    compression: 0,
    topicData,
    transactionalId: pick([null, undefined, 'tx-1', 'tx-ünï']),
    producerId: pick<unknown>([undefined, -1, 0, 4711, 2 ** 40 + 5, KafkaLong.fromNumber(123_456_789_012)]),
    producerEpoch: pick([undefined, 0, 7, 32_000]),
  };
}

describe('pipeline/sdk/kafka/produce-encoding', () => {
  const encoder = new ProduceRequestEncoder(kafkajsCrc32c, KafkaLong);

  it('writes the same bytes as kafkajs for 300 random produce requests', async function () {
    // ~9 s of CPU alone (bodies up to 70 kB, compressed by kafkajs); more on a loaded machine
    this.timeout(60_000);
    const next = rng(20261125);
    let checked = 0;
    let bytes = 0;
    for (let i = 0; i < 300; i++) {
      const args = randomRequest(next);
      const [ours, theirs] = await withFixedNow(async () => [
        encoder.encode(args),
        (await kafkajsRequestV3(args).encode()).buffer,
      ]);
      expect(ours.length, `request ${i}: length`).to.equal(theirs.length);
      if (!ours.equals(theirs)) {
        let at = 0;
        while (ours[at] === theirs[at]) at++;
        expect.fail(`request ${i}: first differing byte at ${at} of ${ours.length}`);
      }
      checked++;
      bytes += ours.length;
    }
    expect(checked).to.equal(300);
    expect(bytes).to.be.greaterThan(1_000_000);
  });

  it('writes FramedBytes values (chunks split from a request) as the same bytes as their data', () => {
    const next = rng(20261208);
    for (let i = 0; i < 50; i++) {
      const args = randomRequest(next);
      let framedValues = 0;
      const framed: ProduceRequestArgs = {
        ...args,
        topicData: args.topicData.map((t) => ({
          ...t,
          partitions: t.partitions.map((p) => ({
            ...p,
            messages: p.messages.map((m) => {
              if (!Buffer.isBuffer(m.value)) return m;
              const bytes = m.value;
              framedValues++;
              const value: FramedBytes = {
                byteLength: bytes.length,
                copyTo: (out, offset) => offset + bytes.copy(out, offset),
              };
              return { ...m, value };
            }),
          })),
        })),
      };
      const [plain, viaFramed] = withFixedNowSync(() => [encoder.encode(args), encoder.encode(framed)]);
      expect(viaFramed.equals(plain), `request ${i}`).to.equal(true);
      expect(framedValues, `request ${i}: values given as FramedBytes`).to.be.greaterThan(0);
    }
  });

  it('refuses a FramedBytes value that writes another length than it announced', () => {
    const value: FramedBytes = { byteLength: 4, copyTo: (out, offset) => offset + 3 };
    const args: ProduceRequestArgs = {
      acks: -1,
      timeout: 1000,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value }] }] }],
    };
    expect(() => encoder.encode(args)).to.throw(/a value wrote 3 of 4 bytes/);
  });

  it('writes a record batch whose CRC32C covers attributes..end', () => {
    const args: ProduceRequestArgs = {
      acks: -1,
      timeout: 1000,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: Buffer.from('v') }] }] }],
    };
    const out = encoder.encode(args);
    // body: transactional id (2) acks (2) timeout (4) topics (4) topic name (2+1) partitions (4) partition (4) size (4)
    const batchStart = 2 + 2 + 4 + 4 + 3 + 4 + 4 + 4;
    expect(out.readInt32BE(batchStart - 4)).to.equal(out.length - batchStart);
    expect(out[batchStart + 16]).to.equal(2, 'magic');
    const crc = out.readUInt32BE(batchStart + 17);
    expect(crc).to.equal(kafkajsCrc32c(out.subarray(batchStart + 21)));
    out[out.length - 1] ^= 1;
    expect(kafkajsCrc32c(out.subarray(batchStart + 21))).to.not.equal(crc);
  });

  it('install routes uncompressed produce v3-v7 through the encoder and leaves compressed ones to kafkajs', async () => {
    const status = installFastProduceEncoding();
    expect(status.installed, status.reason).to.equal(true);
    expect(installFastProduceEncoding()).to.equal(status, 'idempotent');
    const args = randomRequest(rng(7));
    for (const version of [3, 4, 5, 6, 7]) {
      const entry = produceProtocol.protocol({ version })(args);
      const viaKafkajs = await withFixedNow(async () => (await entry.request.encode()).buffer);
      const direct = await withFixedNow(async () => encoder.encode(args));
      expect(viaKafkajs.equals(direct), `v${version}`).to.equal(true);
      expect(entry.request.encode.toString(), `v${version} goes through the one-pass encoder`).to.include(
        'encoder.encode(args',
      );
    }
    const gzipped = produceProtocol.protocol({ version: 7 })({ ...args, compression: 1 });
    expect(gzipped.request.encode.toString()).to.not.include('encoder.encode(args');
  });

  it('kafkajs wraps the body in its request header without copying it, and the bytes are the expected ones', async () => {
    installFastProduceEncoding();
    const args = randomRequest(rng(99));
    const entry = produceProtocol.protocol({ version: 7 })(args);
    // kafkajs' request framing is not exported: the test reads it from its source.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const createRequest = require('kafkajs/src/protocol/request') as (a: {
      correlationId: number;
      clientId: string;
      request: unknown;
    }) => Promise<{ buffer: Buffer }>;
    const [framed, body] = await withFixedNow(async () => [
      (await createRequest({ correlationId: 4242, clientId: 'tusk-collector', request: entry.request })).buffer,
      encoder.encode(args),
    ]);
    const header = Buffer.alloc(4 + 2 + 2 + 4 + 2 + 'tusk-collector'.length);
    header.writeInt32BE(header.length - 4 + body.length, 0);
    header.writeInt16BE(0, 4); // Produce
    header.writeInt16BE(7, 6);
    header.writeInt32BE(4242, 8);
    header.writeInt16BE('tusk-collector'.length, 12);
    header.write('tusk-collector', 14);
    expect(framed.equals(Buffer.concat([header, body])), 'size + header + body').to.equal(true);
    // one allocation from body to frame: the frame is a view of the buffer the body was written into
    const again = await withFixedNow(
      async () =>
        (
          await createRequest({
            correlationId: 1,
            clientId: 'c',
            request: produceProtocol.protocol({ version: 7 })(args).request,
          })
        ).buffer,
    );
    const bodyOnly = await withFixedNow(
      async () => (await produceProtocol.protocol({ version: 7 })(args).request.encode()).buffer,
    );
    expect(again.subarray(again.length - bodyOnly.length).equals(bodyOnly)).to.equal(true);
    const viaEncode = await produceProtocol.protocol({ version: 7 })(args).request.encode();
    const wrapped = await createRequest({
      correlationId: 2,
      clientId: 'c',
      request: { apiKey: 0, apiVersion: 7, encode: async () => viaEncode },
    });
    expect(wrapped.buffer.buffer, 'the request shares the body allocation').to.equal(
      (viaEncode as unknown as { buf: Buffer }).buf.buffer,
    );
    // a client id longer than the headroom still works (copied)
    const longId = 'x'.repeat(300);
    const copied = await createRequest({
      correlationId: 3,
      clientId: longId,
      request: {
        apiKey: 0,
        apiVersion: 7,
        encode: async () => produceProtocol.protocol({ version: 7 })(args).request.encode(),
      },
    });
    expect(copied.buffer.readInt16BE(12)).to.equal(300);
    expect(copied.buffer.subarray(14 + 300).equals(bodyOnly)).to.equal(true);
  });

  it('RequestBufferPool hands back released buffers of at least the size asked, bounded, and leaves small ones', () => {
    const pool = new RequestBufferPool(2, 3 << 20);
    const small = pool.acquire(1000);
    expect(small.length).to.equal(1000);
    pool.release(small);
    expect(pool.bytes, 'small requests are plain allocations').to.equal(0);
    const a = pool.acquire(300_000);
    expect(a.length, 'a power of two').to.equal(2 ** 19);
    pool.release(a);
    pool.release(a);
    expect(pool.bytes, 'released once').to.equal(2 ** 19);
    expect(pool.acquire(2 ** 19 + 1)).to.not.equal(a);
    expect(pool.acquire(200_000), 'the smallest free one that fits').to.equal(a);
    expect(pool.bytes).to.equal(0);
    const big = [pool.acquire(1 << 20), pool.acquire(1 << 20), pool.acquire(1 << 20)];
    for (const b of big) pool.release(b);
    expect(pool.bytes, 'at most 2 buffers and 3 MiB kept').to.equal(2 << 20);
    pool.release(Buffer.alloc(1 << 20).subarray(1));
    expect(pool.bytes, 'views are not kept').to.equal(2 << 20);
  });

  it('a produce request reuses the buffer of one whose response arrived, never of one still waiting', async () => {
    installFastProduceEncoding();
    const args: ProduceRequestArgs = {
      acks: -1,
      timeout: 1000,
      topicData: [
        { topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: Buffer.alloc(200_000, 7) }] }] },
      ],
    };
    const bufferOf = async (entry: ReturnType<ReturnType<typeof produceProtocol.protocol>>) =>
      ((await entry.request.encode()) as unknown as { buf: Buffer }).buf.buffer;
    const first = produceProtocol.protocol({ version: 7 })(args);
    const firstBuffer = await bufferOf(first);
    const waiting = produceProtocol.protocol({ version: 7 })(args);
    expect(await bufferOf(waiting), 'the first has no response yet').to.not.equal(firstBuffer);
    // An empty v7 produce response: no topics, throttle time 0.
    await first.response.decode(Buffer.alloc(8));
    const next = produceProtocol.protocol({ version: 7 })(args);
    const nextBuffer = await bufferOf(next);
    expect(nextBuffer, 'reused after the response').to.equal(firstBuffer);
    const body = await withFixedNow(async () => encoder.encode(args));
    const again = (await withFixedNow(async () => next.request.encode())) as unknown as { buf: Buffer };
    expect(again.buf.equals(body), 'the reused buffer holds exactly the new request').to.equal(true);
  });

  it('reports the CRC implementation in use', () => {
    const status = installFastProduceEncoding();
    expect(['native', 'javascript']).to.include(status.crc32c);
    // the native module ships prebuilt for linux-x64 (this project's CI machines)
    if (process.platform === 'linux' && process.arch === 'x64') expect(status.crc32c).to.equal('native');
  });
});
