// One-pass encoding of kafkajs produce requests (uncompressed record batches), with a hardware CRC32C.
//
// kafkajs 2.2.4 encodes a produce request as a tower of nested encoders: every record, the record batch,
// the partition entry, the topic entry and the request each get their own buffer, zero-filled and grown
// by doubling, and each level copies the level below; the batch checksum is a table-driven CRC32C in
// JavaScript. For trace-sized records (kilobytes each) that is about 20 allocations and copies of every
// byte and ~350 MB/s of checksum: most of the ingest tier's CPU, and the external-memory churn that keeps
// V8's garbage collector busy (BENCHMARKS.md, profile item 6).
//
// installFastProduceEncoding() wraps the protocol lookup of kafkajs' Produce API so that every produce
// request of version 3-7 (all share the request layout) without compression is written here instead: sizes
// computed first, one exact-size buffer, each key/value/header copied once (a FramedBytes value, a chunk
// split from an OTLP request, is framed straight into it from the request's bytes), CRC32C by @node-rs/crc32
// (SSE4.2/ARMv8 instructions; the JavaScript table CRC of kafkajs when the native module is unavailable).
// The buffer keeps free bytes in front, where kafkajs' request header lands without copying the body.
// The bytes are identical to kafkajs' own encoder (test/pipeline/kafka/produce-encoding.test.ts checks
// that on random requests); compressed requests and every other API go through kafkajs unchanged.
//
// The hook is kafkajs' module exports (`protocol` of src/protocol/requests/produce), looked up on every
// produce call, so installing works whenever it happens. It checks the kafkajs version it was written for
// and does nothing on any other.

import type { CompressionTypes } from 'kafkajs';
import { isFramedBytes, type FramedBytes } from '../trace-batch';
import { installedKafkajsVersion, KAFKAJS_PATCHED_VERSION } from './kafkajs-fixes';

/** How produce requests are encoded in this process. */
export interface ProduceEncodingStatus {
  /** True when produce requests v3-v7 without compression are encoded here. */
  readonly installed: boolean;
  /** Why it is not installed, when it is not. */
  readonly reason?: string;
  /** 'native' (@node-rs/crc32) or 'javascript' (kafkajs' own table CRC). */
  readonly crc32c: 'native' | 'javascript';
}

// ---------------------------------------------------------------------------------------------------
// The slice of kafkajs internals used here (CommonJS modules without type declarations).

interface KafkaLong {
  getHighBits(): number;
  getLowBits(): number;
}
interface KafkaLongStatic {
  fromValue(value: unknown): KafkaLong;
}
interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeEncoder(value: KafkaEncoder): KafkaEncoder;
  /** Set on a produce body written with free bytes in front of it (see installFastProduceEncoding). */
  [HEADROOM]?: Headroom;
}

/** Free bytes in front of an encoder's data: `whole` is the allocation, the data starts at `room`. */
interface Headroom {
  readonly whole: Buffer;
  readonly room: number;
}
type KafkaEncoderClass = (new (initialSize?: number) => KafkaEncoder) & { prototype: KafkaEncoder };

/** A message as kafkajs hands it to the produce request (after partitioning). */
interface ProduceMessage {
  key?: Buffer | string | null;
  /** FramedBytes (see writesFramedValues) are written into the request without being built first. */
  value: Buffer | string | null | FramedBytes;
  headers?: Record<string, Buffer | string | null | undefined | Array<Buffer | string>>;
  timestamp?: string | number;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
/** The arguments kafkajs passes to a produce request builder (src/protocol/requests/produce/index.js). */
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  compression?: CompressionTypes;
  topicData: TopicData[];
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  encode: () => Promise<KafkaEncoder>;
}
/** The response decoder of a produce request version (kafkajs: src/protocol/requests/produce/vN/response.js). */
interface ProduceResponse {
  decode(raw: Buffer): Promise<unknown>;
  parse(data: unknown): unknown;
}
/** What a version entry of kafkajs' produce protocol returns: the request and its response decoder. */
interface ProduceProtocolEntry {
  request: ProduceRequest;
  response: ProduceResponse;
}
type ProduceRequestBuilder = (args: ProduceRequestArgs) => ProduceProtocolEntry;
interface ProduceProtocolModule {
  versions: string[];
  protocol: (v: { version: number }) => ProduceRequestBuilder | undefined;
}

const INSTALLED = Symbol.for('tusk-collector.fast-produce-encoding');
const HEADROOM = Symbol('tusk-collector.produce-headroom');
/**
 * Bytes reserved in front of a produce body for the request header kafkajs prepends (size, api key and
 * version, correlation id, client id): 14 bytes plus the client id; longer client ids fall back to a copy.
 */
const HEADER_ROOM_BYTES = 256;

let status: ProduceEncodingStatus | undefined;

/** crc32c returns the CRC32C (Castagnoli) of a byte range as an unsigned 32-bit number. */
export type Crc32c = (data: Buffer) => number;

function loadCrc32c(): { fn: Crc32c; kind: 'native' | 'javascript' } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const native = require('@node-rs/crc32') as { crc32c(input: Buffer, initial?: number): number };
    const probe = Buffer.from('123456789');
    if (native.crc32c(probe) >>> 0 === 0xe3069283) return { fn: (b) => native.crc32c(b) >>> 0, kind: 'native' };
  } catch {
    // no prebuilt binary for this platform: fall through to the JavaScript table
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const js = require('kafkajs/src/protocol/recordBatch/crc32C') as Crc32c;
  return { fn: js, kind: 'javascript' };
}

/**
 * installFastProduceEncoding makes kafkajs encode uncompressed produce requests with this module.
 * Idempotent; safe to call before or after clients were created.
 */
export function installFastProduceEncoding(): ProduceEncodingStatus {
  if (status) return status;
  const crc = loadCrc32c();
  const version = installedKafkajsVersion();
  if (version !== KAFKAJS_PATCHED_VERSION) {
    status = {
      installed: false,
      reason: `kafkajs ${version ?? '(unknown)'} is not the ${KAFKAJS_PATCHED_VERSION} this encoder reproduces`,
      crc32c: crc.kind,
    };
    return status;
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const produce = require('kafkajs/src/protocol/requests/produce') as ProduceProtocolModule & { [INSTALLED]?: true };
  const Encoder = require('kafkajs/src/protocol/encoder') as KafkaEncoderClass;
  const Long = require('kafkajs/src/utils/long') as KafkaLongStatic;
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (!produce[INSTALLED]) {
    const encoder = new ProduceRequestEncoder(crc.fn, Long);
    const original = produce.protocol;
    produce.protocol = ({ version: apiVersion }) => {
      const build = original({ version: apiVersion });
      if (typeof build !== 'function' || apiVersion < 3 || apiVersion > 7) return build;
      return (args: ProduceRequestArgs) => {
        const entry = build(args);
        if ((args.compression ?? 0) !== 0) return entry;
        // The buffers this request was encoded into go back to the pool when its response arrives: the broker
        // has read the whole request, so the socket is done with them. Without a response (acks=0, a timeout,
        // a lost connection) they are left to the garbage collector.
        const lent: Buffer[] = [];
        const alloc = (size: number): Buffer => {
          const full = requestBuffers.acquire(size);
          if (size >= POOLED_FROM_BYTES) lent.push(full);
          return full.subarray(0, size);
        };
        const response = entry.response;
        entry.response = {
          decode: (raw) => {
            for (const b of lent.splice(0)) requestBuffers.release(b);
            return response.decode(raw);
          },
          parse: (data) => response.parse(data),
        };
        entry.request.encode = async () => {
          const whole = encoder.encode(args, HEADER_ROOM_BYTES, alloc);
          const out = new Encoder(0);
          out.buf = whole.subarray(HEADER_ROOM_BYTES);
          out.offset = out.buf.length;
          out[HEADROOM] = { whole, room: HEADER_ROOM_BYTES };
          return out;
        };
        return entry;
      };
    };
    // The request header kafkajs puts in front (src/protocol/request.js) goes through two more encoders,
    // each growing by zero-filled power-of-two buffers. Grown here without zero-filling (bytes past
    // `offset` are never read) and straight to the size a large write needs.
    Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkaEncoder, length: number): void {
      const needed = this.offset + length;
      if (needed <= this.buf.length) return;
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    };
    // kafkajs then wraps the body twice (src/protocol/request.js: header + body, then size + that), each
    // time copying it. Writing a body that has headroom into a short header instead moves the header into
    // the headroom: the request ends up as one view of the body's allocation, no copy of the records.
    const copyingWriteEncoder = Encoder.prototype.writeEncoder;
    Encoder.prototype.writeEncoder = function writeEncoder(this: KafkaEncoder, value: KafkaEncoder): KafkaEncoder {
      const h = value?.[HEADROOM];
      if (
        h !== undefined &&
        this !== value &&
        this.offset <= h.room &&
        value.buf.buffer === h.whole.buffer &&
        value.buf.byteOffset === h.whole.byteOffset + h.room
      ) {
        const start = h.room - this.offset;
        this.buf.copy(h.whole, start, 0, this.offset);
        this.buf = h.whole.subarray(start, h.room + value.offset);
        this.offset += value.offset;
        this[HEADROOM] = { whole: h.whole, room: start };
        value[HEADROOM] = undefined; // its bytes now belong to this encoder
        return this;
      }
      return copyingWriteEncoder.call(this, value);
    };
    produce[INSTALLED] = true;
  }
  status = { installed: true, crc32c: crc.kind };
  return status;
}

/**
 * writesFramedValues tells whether a message value may be FramedBytes (trace-batch.ts) in produce requests
 * with this compression: when this module encodes them (installed, no compression). kafkajs' own encoders
 * take only Buffers and strings.
 */
export function writesFramedValues(compression: CompressionTypes | undefined): boolean {
  return status?.installed === true && (compression ?? 0) === 0;
}

/** produceEncodingStatus tells how produce requests are encoded (undefined before installing). */
export function produceEncodingStatus(): ProduceEncodingStatus | undefined {
  return status;
}

/** Requests smaller than this are plain allocations (Node's slab pool); larger ones come from RequestBufferPool. */
const POOLED_FROM_BYTES = 64 << 10;

/**
 * RequestBufferPool keeps the buffers of produce requests whose response arrived, for the next requests:
 * a request of a few hundred kilobytes per call otherwise allocates as many ArrayBuffer bytes as the spans it
 * carries, and V8 starts a full marking after every 64 MB of such allocations. Buffers come in power-of-two
 * capacities (a request takes the smallest free one that fits); at most `maxBuffers` and `maxBytes` are kept.
 */
export class RequestBufferPool {
  private readonly _free: Buffer[] = [];
  private _bytes = 0;

  constructor(
    private readonly _maxBuffers = 8,
    private readonly _maxBytes = 32 << 20,
  ) {}

  /** Bytes held for reuse. */
  get bytes(): number {
    return this._bytes;
  }

  /**
   * acquire returns a buffer of at least `size` bytes (exactly `size` below POOLED_FROM_BYTES). Its bytes are
   * not zeroed. Hand it back with release once nothing reads it any more.
   */
  acquire(size: number): Buffer {
    if (size < POOLED_FROM_BYTES) return Buffer.allocUnsafe(size);
    let best = -1;
    for (let i = 0; i < this._free.length; i++) {
      const len = this._free[i].length;
      if (len >= size && (best < 0 || len < this._free[best].length)) best = i;
    }
    if (best < 0) return Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(size)));
    const b = this._free[best];
    this._free.splice(best, 1);
    this._bytes -= b.length;
    return b;
  }

  /** release keeps `b` (a buffer acquire returned, whole) for reuse, unless the pool is full. */
  release(b: Buffer): void {
    if (b.length < POOLED_FROM_BYTES || b.byteOffset !== 0 || b.length !== b.buffer.byteLength) return;
    if (this._free.length >= this._maxBuffers || this._bytes + b.length > this._maxBytes) return;
    if (this._free.includes(b)) return;
    this._free.push(b);
    this._bytes += b.length;
  }
}

/** The pool of this process's produce requests. */
const requestBuffers = new RequestBufferPool();

// ---------------------------------------------------------------------------------------------------
// The encoder: Kafka Produce request v3 body with RecordBatch v2 (magic 2) record sets.

const RECORD_BATCH_MAGIC = 2;
const TRANSACTIONAL_ATTRIBUTE = 0x10;
/** Bytes of a record batch from baseOffset to the records count (the fixed header). */
const BATCH_HEADER_BYTES = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Offset of the CRC field inside a record batch, and of the first byte the CRC covers. */
const CRC_OFFSET = 8 + 4 + 4 + 1;
const CRC_START = CRC_OFFSET + 4;

interface Header {
  readonly key: Buffer;
  readonly value: Buffer | null;
}
interface PlannedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | FramedBytes | null;
  readonly headers: readonly Header[];
  readonly timestampDelta: number;
  readonly bodySize: number;
}
interface PlannedPartition {
  readonly partition: number;
  readonly firstSequence: number;
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
  readonly records: PlannedRecord[];
  readonly batchSize: number;
}

function asBytes(v: Buffer | string | number | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}

function zigZag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function sizeOfUVarInt(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    n++;
    v >>>= 7;
  }
  return n;
}

function sizeOfVarInt(v: number): number {
  return sizeOfUVarInt(zigZag32(v));
}

function zigZag64(v: number): bigint {
  const b = BigInt.asIntN(64, BigInt(Math.trunc(v)));
  return BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
}

function sizeOfVarLong(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return sizeOfVarInt(v);
  let z = zigZag64(v);
  let n = 1;
  while (z > 0x7fn) {
    n++;
    z >>= 7n;
  }
  return n;
}

function sizeOfVarBytes(b: Buffer | FramedBytes | null): number {
  return b === null ? 1 : sizeOfVarInt(b.byteLength) + b.byteLength;
}

/** ProduceRequestEncoder writes one produce request into one exact-size buffer. */
export class ProduceRequestEncoder {
  constructor(
    private readonly _crc32c: Crc32c,
    private readonly _long: KafkaLongStatic,
  ) {}

  /**
   * encode returns the request body (without the request header kafkajs prepends), starting `headroom`
   * bytes into the returned buffer (the bytes before it are left for the header).
   */
  encode(args: ProduceRequestArgs, headroom = 0, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
    const transactionalId = args.transactionalId ?? null;
    const transactionalIdBytes = transactionalId === null ? null : Buffer.from(transactionalId, 'utf8');
    const now = Date.now();
    let size = 2 + (transactionalIdBytes ? transactionalIdBytes.length : 0) + 2 + 4 + 4;
    const topics: Array<{ name: Buffer; partitions: PlannedPartition[] }> = [];
    for (const t of args.topicData) {
      const name = Buffer.from(t.topic, 'utf8');
      size += 2 + name.length + 4;
      const partitions: PlannedPartition[] = [];
      for (const p of t.partitions) {
        const planned = this._plan(p, now);
        partitions.push(planned);
        size += 4 + 4 + planned.batchSize;
      }
      topics.push({ name, partitions });
    }

    const out = alloc(headroom + size);
    let o = headroom;
    if (transactionalIdBytes === null) {
      o = out.writeInt16BE(-1, o);
    } else {
      o = out.writeInt16BE(transactionalIdBytes.length, o);
      o += transactionalIdBytes.copy(out, o);
    }
    o = out.writeInt16BE(args.acks, o);
    o = out.writeInt32BE(args.timeout, o);
    o = out.writeInt32BE(topics.length, o);
    const producerId = this._long.fromValue(args.producerId ?? -1);
    const attributes = transactionalId ? TRANSACTIONAL_ATTRIBUTE : 0;
    for (const t of topics) {
      o = out.writeInt16BE(t.name.length, o);
      o += t.name.copy(out, o);
      o = out.writeInt32BE(t.partitions.length, o);
      for (const p of t.partitions) {
        o = out.writeInt32BE(p.partition, o);
        o = out.writeInt32BE(p.batchSize, o);
        o = this._writeBatch(out, o, p, attributes, producerId, args.producerEpoch ?? 0);
      }
    }
    if (o !== headroom + size) throw new Error(`produce request encoding wrote ${o - headroom} bytes, planned ${size}`);
    return out;
  }

  private _plan(p: PartitionData, now: number): PlannedPartition {
    // Timestamps exactly as kafkajs derives them: the given ones sorted (as strings when they are strings),
    // the first and the last of them, or now for all when none is given.
    const given: Array<string | number> = [];
    for (const m of p.messages) if (m.timestamp !== undefined && m.timestamp !== null) given.push(m.timestamp);
    given.sort();
    const firstTimestamp = given.length === 0 ? now : Number(given[0]);
    const maxTimestamp = given.length === 0 ? now : Number(given[given.length - 1]);
    let batchSize = BATCH_HEADER_BYTES;
    const records: PlannedRecord[] = new Array(p.messages.length);
    for (let i = 0; i < p.messages.length; i++) {
      const m = p.messages[i];
      const key = asBytes(m.key);
      const value = isFramedBytes(m.value) ? m.value : asBytes(m.value);
      const headers: Header[] = [];
      if (m.headers) {
        for (const hk of Object.keys(m.headers)) {
          const hv = m.headers[hk];
          const keyBytes = Buffer.from(hk, 'utf8');
          if (Array.isArray(hv)) for (const v of hv) headers.push({ key: keyBytes, value: asBytes(v) });
          else headers.push({ key: keyBytes, value: asBytes(hv) });
        }
      }
      const timestampDelta =
        (m.timestamp !== undefined && m.timestamp !== null && m.timestamp !== '' && m.timestamp !== 0
          ? Number(m.timestamp)
          : now) - firstTimestamp;
      let bodySize =
        1 +
        sizeOfVarLong(timestampDelta) +
        sizeOfVarInt(i) +
        sizeOfVarBytes(key) +
        sizeOfVarBytes(value) +
        sizeOfVarInt(headers.length);
      for (const h of headers) bodySize += sizeOfVarBytes(h.key) + sizeOfVarBytes(h.value);
      records[i] = { key, value, headers, timestampDelta, bodySize };
      batchSize += sizeOfVarInt(bodySize) + bodySize;
    }
    return {
      partition: p.partition,
      firstSequence: p.firstSequence ?? 0,
      firstTimestamp,
      maxTimestamp,
      records,
      batchSize,
    };
  }

  private _writeBatch(
    out: Buffer,
    start: number,
    p: PlannedPartition,
    attributes: number,
    producerId: KafkaLong,
    producerEpoch: number,
  ): number {
    let o = start;
    o = writeInt64(out, o, 0, 0); // baseOffset
    o = out.writeInt32BE(p.batchSize - 12, o); // batchLength: everything after this field
    o = out.writeInt32BE(0, o); // partitionLeaderEpoch
    o = out.writeInt8(RECORD_BATCH_MAGIC, o);
    o += 4; // CRC, written last
    o = out.writeInt16BE(attributes, o);
    o = out.writeInt32BE(p.records.length - 1, o); // lastOffsetDelta
    o = writeInt64Number(out, o, p.firstTimestamp);
    o = writeInt64Number(out, o, p.maxTimestamp);
    o = writeInt64(out, o, producerId.getHighBits(), producerId.getLowBits());
    o = out.writeInt16BE(producerEpoch, o);
    o = out.writeInt32BE(p.firstSequence, o);
    o = out.writeInt32BE(p.records.length, o);
    for (let i = 0; i < p.records.length; i++) {
      const r = p.records[i];
      o = writeVarInt(out, o, r.bodySize);
      out[o++] = 0; // record attributes
      o = writeVarLong(out, o, r.timestampDelta);
      o = writeVarInt(out, o, i); // offsetDelta
      o = writeVarBytes(out, o, r.key);
      o = writeVarBytes(out, o, r.value);
      o = writeVarInt(out, o, r.headers.length);
      for (const h of r.headers) {
        o = writeVarBytes(out, o, h.key);
        o = writeVarBytes(out, o, h.value);
      }
    }
    out.writeUInt32BE(this._crc32c(out.subarray(start + CRC_START, o)), start + CRC_OFFSET);
    return o;
  }
}

function writeInt64(out: Buffer, o: number, high: number, low: number): number {
  out.writeInt32BE(high | 0, o);
  out.writeInt32BE(low | 0, o + 4);
  return o + 8;
}

function writeInt64Number(out: Buffer, o: number, v: number): number {
  out.writeBigInt64BE(BigInt(Math.trunc(v)), o);
  return o + 8;
}

function writeUVarInt(out: Buffer, o: number, v: number): number {
  while (v > 0x7f) {
    out[o++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[o++] = v;
  return o;
}

function writeVarInt(out: Buffer, o: number, v: number): number {
  return writeUVarInt(out, o, zigZag32(v));
}

function writeVarLong(out: Buffer, o: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return writeVarInt(out, o, v);
  let z = zigZag64(v);
  while (z > 0x7fn) {
    out[o++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  out[o++] = Number(z);
  return o;
}

function writeVarBytes(out: Buffer, o: number, b: Buffer | FramedBytes | null): number {
  if (b === null) return writeVarInt(out, o, -1);
  o = writeVarInt(out, o, b.byteLength);
  if (Buffer.isBuffer(b)) return o + b.copy(out, o);
  const end = b.copyTo(out, o);
  if (end !== o + b.byteLength)
    throw new Error(`produce request encoding: a value wrote ${end - o} of ${b.byteLength} bytes`);
  return end;
}
