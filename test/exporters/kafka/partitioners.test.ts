// Tests of the Kafka partitioners: FNV-1a 32 against vectors worked out by hand from the definition, the
// Sarama sign handling, the kafkajs custom-partitioner contract, and murmur2 against the Java client's vectors.

import { expect } from 'chai';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import {
  Fnv1aPartitioner,
  Murmur2Partitioner,
  fnv1a32,
  murmur2,
  partitionerFor,
  partitionOf,
  saramaHashPartition,
} from '../../../pipeline/sdk/kafka/partitioners';

// kafkajs's murmur2 is not exported from its index; its default partitioner is built from this file.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

function metadata(n: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: n }, (_, i) => ({
    partitionId: i,
    leader: leaderless.includes(i) ? -1 : 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
}

describe('kafka partitioners', () => {
  describe('fnv1a32 (FNV-1a, 32 bit: h = 0x811c9dc5; per byte h = (h ^ b) * 0x01000193 mod 2^32)', () => {
    it('hashes the empty input to the offset basis', () => {
      expect(fnv1a32(new Uint8Array(0))).to.equal(0x811c9dc5);
    });

    it('hashes "a" to 0xe40c292c (worked by hand)', () => {
      // h = 0x811c9dc5 ^ 0x61 = 0x811c9da4
      // h * 0x01000193 = h * 0x01000000 + h * 0x193 (mod 2^32)
      //   h * 0x01000000 mod 2^32 = 0xa4000000 (low byte shifted up 24 bits)
      //   h * 0x193 = 2166136228 * 403 = 872952899884; mod 2^32 = 1074538796 = 0x400c292c
      //   0xa4000000 + 0x400c292c = 0xe40c292c
      expect(fnv1a32(Buffer.from('a'))).to.equal(0xe40c292c);
    });

    it('hashes "ab" to 0x4d2505ca (worked by hand from the "a" state)', () => {
      // h = 0xe40c292c ^ 0x62 = 0xe40c294e
      //   h * 0x01000000 mod 2^32 = 0x4e000000
      //   h * 0x193 = 3826002254 * 403 = 1541878908362; mod 2^32 = 4280616394 = 0xff2505ca
      //   0x4e000000 + 0xff2505ca = 0x14d2505ca -> mod 2^32 = 0x4d2505ca
      expect(fnv1a32(Buffer.from('ab'))).to.equal(0x4d2505ca);
    });

    it('matches the FNV reference vector for "foobar" (0xbf9cf968)', () => {
      expect(fnv1a32(Buffer.from('foobar'))).to.equal(0xbf9cf968);
    });

    it('returns an unsigned 32-bit integer for any input', () => {
      for (let n = 0; n < 200; n++) {
        const h = fnv1a32(Buffer.from(`key-${n}`));
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).to.equal(true);
      }
    });
  });

  describe('saramaHashPartition (Sarama: p = int32(hash) % n, negated if negative)', () => {
    it('takes a negative int32 remainder and negates it, unlike the Java-style 0x7fffffff mask', () => {
      // fnv1a("a") = 0xe40c292c -> int32 -468965076; -468965076 % 5 = -1 -> 1.
      expect(saramaHashPartition(0xe40c292c, 5)).to.equal(1);
      // The Java-style mask would give (0x640c292c = 1678518572) % 5 = 2: the two schemes differ here.
      expect((0xe40c292c & 0x7fffffff) % 5).to.equal(2);
      // -468965076 % 8 = -4 -> 4.
      expect(saramaHashPartition(0xe40c292c, 8)).to.equal(4);
    });

    it('keeps a positive int32 hash as a plain remainder', () => {
      // fnv1a("ab") = 0x4d2505ca = 1294271946: % 8 = 2, % 5 = 1.
      expect(saramaHashPartition(0x4d2505ca, 8)).to.equal(2);
      expect(saramaHashPartition(0x4d2505ca, 5)).to.equal(1);
    });

    it('handles int32 min (0x80000000) without overflow', () => {
      // -2147483648 % 3 = -2 -> 2; % 8 = -0 -> 0.
      expect(saramaHashPartition(0x80000000, 3)).to.equal(2);
      expect(Object.is(saramaHashPartition(0x80000000, 8), 0)).to.equal(true);
    });

    it('always lands in [0, n)', () => {
      for (let n = 1; n <= 13; n++) {
        for (let k = 0; k < 300; k++) {
          const p = saramaHashPartition(fnv1a32(Buffer.from(`trace-${k}`)), n);
          expect(p >= 0 && p < n).to.equal(true, `n=${n} k=${k} p=${p}`);
        }
      }
    });
  });

  describe('Fnv1aPartitioner (kafkajs custom partitioner)', () => {
    it('puts a keyed message on saramaHashPartition(fnv1a32(key), n)', () => {
      const partition = Fnv1aPartitioner()({
        topic: 't',
        partitionMetadata: metadata(5),
        message: { key: Buffer.from('a'), value: null },
      });
      expect(partition).to.equal(1);
      const fromString = Fnv1aPartitioner()({
        topic: 't',
        partitionMetadata: metadata(8),
        message: { key: 'ab', value: null },
      });
      expect(fromString).to.equal(2);
    });

    it('counts every partition for keyed messages, even one without a leader (a key never moves)', () => {
      const partition = Fnv1aPartitioner()({
        topic: 't',
        partitionMetadata: metadata(5, [1]),
        message: { key: Buffer.from('a'), value: null },
      });
      expect(partition).to.equal(1);
    });

    it('honours an explicit partition', () => {
      expect(
        Fnv1aPartitioner()({
          topic: 't',
          partitionMetadata: metadata(5),
          message: { key: 'a', value: null, partition: 3 },
        }),
      ).to.equal(3);
    });

    it('spreads unkeyed messages round-robin over partitions that have a leader', () => {
      const p = Fnv1aPartitioner();
      const seen = new Map<number, number>();
      for (let i = 0; i < 40; i++) {
        const got = p({ topic: 't', partitionMetadata: metadata(4, [2]), message: { value: 'v' } });
        seen.set(got, (seen.get(got) ?? 0) + 1);
      }
      expect([...seen.keys()].sort()).to.deep.equal([0, 1, 3]);
      for (const count of seen.values()) expect(count).to.be.within(13, 14);
    });

    it('is what partitionerFor("fnv1a") returns, and partitionOf agrees with it', () => {
      expect(partitionerFor('fnv1a')).to.equal(Fnv1aPartitioner);
      expect(partitionOf('fnv1a', 'a', 5)).to.equal(1);
    });
  });

  describe('murmur2 (Java-client compatible, as kafkajs DefaultPartitioner)', () => {
    // Vectors of the Java client's Utils.murmur2 (org.apache.kafka.common.utils.UtilsTest).
    const javaVectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of javaVectors) {
      it(`hashes "${key}" like the Java client (and kafkajs)`, () => {
        expect(murmur2(Buffer.from(key))).to.equal(expected);
        expect(kafkajsMurmur2(Buffer.from(key))).to.equal(expected);
      });
    }

    it("equals kafkajs' 64-bit Long version on random keys of every length from 0 to 64 bytes", () => {
      let seed = 7;
      const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
      for (let len = 0; len <= 64; len++) {
        for (let round = 0; round < 20; round++) {
          const key = Buffer.from(Array.from({ length: len }, next));
          expect(murmur2(key), `${len} bytes: ${key.toString('hex')}`).to.equal(kafkajsMurmur2(key));
        }
      }
    });

    it("Murmur2Partitioner puts every message where kafkajs' DefaultPartitioner does (keyed, explicit)", () => {
      const ours = Murmur2Partitioner();
      const theirs = Partitioners.DefaultPartitioner();
      const partitionMetadata = metadata(7, [3]);
      for (let i = 0; i < 200; i++) {
        const message = { key: Buffer.from(`trace-${i * 7919}`), value: null, partition: i % 10 === 0 ? 5 : undefined };
        const args = { topic: 't', partitionMetadata, message };
        expect(ours(args), message.key.toString()).to.equal(theirs(args));
      }
    });

    it('Murmur2Partitioner spreads unkeyed messages round-robin over partitions that have a leader', () => {
      const p = Murmur2Partitioner();
      const seen = new Set<number>();
      for (let i = 0; i < 12; i++)
        seen.add(p({ topic: 't', partitionMetadata: metadata(4, [1]), message: { key: null, value: null } }));
      expect([...seen].sort()).to.deep.equal([0, 2, 3]);
      expect(partitionerFor('murmur2')).to.equal(Murmur2Partitioner);
    });

    it('maps a trace-id key to (murmur2(key) & 0x7fffffff) % n, as partitionOf("murmur2") does', () => {
      const key = '4bf92f3577b34da6a3ce929d0e0e4736';
      const expected = (murmur2(Buffer.from(key)) & 0x7fffffff) % 8;
      expect(partitionOf('murmur2', key, 8)).to.equal(expected);
      expect(expected).to.equal(2);
    });
  });
});
