// Partitioners for trace-id keyed messages, as kafkajs custom partitioners: `murmur2` (what kafkajs's default and
// the Java client's DefaultPartitioner do with keyed messages, in 32-bit arithmetic) and `fnv1a` (Sarama's HashPartitioner, which the
// OpenTelemetry Collector's Kafka exporter uses). A mixed deployment must use one of them everywhere, or
// the spans of one trace land on different partitions and so on different samplers.

import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

/** PartitionerName is the `partitioner` config value. */
export type PartitionerName = 'murmur2' | 'fnv1a';

/** PARTITIONER_NAMES lists the supported partitioners. */
export const PARTITIONER_NAMES: readonly PartitionerName[] = ['murmur2', 'fnv1a'];

const MURMUR2_SEED = 0x9747b28c;
const MURMUR2_M = 0x5bd1e995;

/**
 * murmur2 is the Java client's murmur2 hash of `data` (Utils.murmur2: a signed 32-bit result), in 32-bit integer
 * arithmetic. kafkajs computes the same value with 64-bit Long objects, about forty of them per 32-byte key
 * (measured: a quarter of the ingest tier's allocations).
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (MURMUR2_SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> 24;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M) ^ k;
  }
  // The last 1-3 bytes (the Java switch's fall-through cases, written out).
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2] << 16;
    if (rest >= 2) h ^= data[tail + 1] << 8;
    h ^= data[tail];
    h = Math.imul(h, MURMUR2_M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

const FNV32_OFFSET_BASIS = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** fnv1a32 is the 32-bit FNV-1a hash of `data` as an unsigned integer (Go's hash/fnv New32a). */
export function fnv1a32(data: Uint8Array): number {
  let h = FNV32_OFFSET_BASIS;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i];
    h = Math.imul(h, FNV32_PRIME) >>> 0;
  }
  return h >>> 0;
}

/**
 * saramaHashPartition maps a 32-bit hash to a partition exactly like Sarama's HashPartitioner (and
 * franz-go's SaramaCompatHasher): `p = int32(hash) % n`, negated when negative. Go's `%` truncates toward
 * zero like JavaScript's, so the remainder of a negative int32 is negative or zero.
 */
export function saramaHashPartition(hash: number, numPartitions: number): number {
  const p = (hash | 0) % numPartitions;
  return p < 0 ? -p : p | 0; // `| 0` turns the -0 of e.g. int32-min % 8 into 0
}

function keyBytes(key: PartitionerArgs['message']['key']): Uint8Array | undefined {
  if (key === null || key === undefined) return undefined;
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/**
 * keyedPartitioner builds a kafkajs custom partitioner from the partition of a key: an explicit `partition` wins;
 * a keyed message goes to `partitionOfKey(key, n)` over ALL partitions (available or not, so a key never moves
 * while a leader is down); an unkeyed message goes round-robin over the partitions that have a leader (from a
 * random start).
 */
function keyedPartitioner(partitionOfKey: (key: Uint8Array, numPartitions: number) => number): ICustomPartitioner {
  return () => {
    let roundRobin = Math.floor(Math.random() * 0x7fffffff);
    return ({ partitionMetadata, message }: PartitionerArgs): number => {
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      const n = partitionMetadata.length;
      const key = keyBytes(message.key);
      if (key !== undefined) return partitionOfKey(key, n);
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      roundRobin = (roundRobin + 1) & 0x7fffffff;
      if (available.length > 0) return available[roundRobin % available.length].partitionId;
      return roundRobin % n;
    };
  };
}

/**
 * Fnv1aPartitioner is a kafkajs custom partitioner compatible with Sarama's default HashPartitioner: a keyed
 * message goes to saramaHashPartition(fnv1a32(key), n) (see keyedPartitioner for the rest).
 */
export const Fnv1aPartitioner: ICustomPartitioner = keyedPartitioner((key, n) => saramaHashPartition(fnv1a32(key), n));

/**
 * Murmur2Partitioner is kafkajs' DefaultPartitioner (the Java client's for keyed messages) without its per-message
 * allocations: a keyed message goes to (murmur2(key) & 0x7fffffff) % n (see keyedPartitioner for the rest).
 */
export const Murmur2Partitioner: ICustomPartitioner = keyedPartitioner((key, n) => (murmur2(key) & 0x7fffffff) % n);

/** partitionerFor returns the kafkajs partitioner factory of a config value. */
export function partitionerFor(name: PartitionerName): ICustomPartitioner {
  return name === 'fnv1a' ? Fnv1aPartitioner : Murmur2Partitioner;
}

/**
 * partitionOf computes the partition a keyed message goes to with a partitioner, for tests and tools
 * (e.g. to tell which sampler owns a trace id).
 */
export function partitionOf(name: PartitionerName, key: string | Uint8Array, numPartitions: number): number {
  const k =
    typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return keyPartitioner(name)(k, numPartitions);
}

/**
 * keyPartitioner returns a function computing, with the partitioner `name`, the partition of a keyed message
 * for a partition count (the producer's own mapping, without a producer: for writers that track partitions).
 */
export function keyPartitioner(name: PartitionerName): (key: Buffer, numPartitions: number) => number {
  const partitioner = partitionerFor(name)();
  const metadata = new Map<number, PartitionerArgs['partitionMetadata']>();
  return (key, numPartitions) => {
    let partitionMetadata = metadata.get(numPartitions);
    if (!partitionMetadata) {
      partitionMetadata = Array.from({ length: numPartitions }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      metadata.set(numPartitions, partitionMetadata);
    }
    return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
  };
}
