#!/usr/bin/env node
// Smoke test: prove that kafkajs (the project's client) works against the local broker.
//   admin: create a 4-partition topic, list topics, describe the cluster
//   producer: acks=-1 (all), idempotent: true
//   consumer: join a consumer group, read everything, commit offsets explicitly
//   admin: fetch the group's committed offsets and check them, then clean up
// Usage: node scripts/stack/kafka-smoke.js [--quiet]   (KAFKA_BROKERS, default 127.0.0.1:9092)
// Exit 0 on success, 1 on failure. Bounded: gives up after 60 s.
'use strict';

const { Kafka, logLevel, Partitioners } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const quiet = process.argv.includes('--quiet');
const say = (...a) => {
  if (!quiet) console.log('[kafka-smoke]', ...a);
};

const N = 40;
const PARTITIONS = 4;
const suffix = `${Date.now()}-${process.pid}`;
const topic = `stack-smoke-${suffix}`;
const groupId = `stack-smoke-group-${suffix}`;

const kafka = new Kafka({
  clientId: 'tusk-stack-smoke',
  brokers,
  // NOTHING by default: on a fresh broker kafkajs logs retried 'coordinator loading' errors. KAFKAJS_LOG=1 shows them.
  logLevel: process.env.KAFKAJS_LOG ? logLevel.INFO : logLevel.NOTHING,
  connectionTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 5, initialRetryTime: 200 },
});

async function main() {
  const t0 = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  say(
    `connected: cluster ${cluster.clusterId}, brokers ${cluster.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(',')}, controller ${cluster.controller}`,
  );

  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
  });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const nParts = meta.topics[0].partitions.length;
  if (!created || nParts !== PARTITIONS) throw new Error(`createTopics: created=${created} partitions=${nParts}`);
  const listed = await admin.listTopics();
  if (!listed.includes(topic)) throw new Error('listTopics does not show the new topic');
  say(`admin.createTopics ok: ${topic} with ${nParts} partitions`);

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner, // murmur2, Java-client compatible
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2000 }, // idempotence wants unbounded retries; the 60 s guard bounds the run
  });
  await producer.connect();
  const messages = Array.from({ length: N }, (_, i) => ({
    key: `trace-${i % 10}`,
    value: `span-${i}`,
    headers: { i: String(i) },
  }));
  const res = await producer.send({ topic, acks: -1, messages });
  const usedPartitions = new Set(res.map((r) => r.partition));
  say(
    `producer.send ok: ${N} messages, acks=-1, idempotent=true, partitions used ${[...usedPartitions].sort().join(',')}`,
  );
  await producer.disconnect();

  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = new Set();
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumer: only ${seen.size}/${N} messages after 30 s`)), 30000);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ topic: t, partition, message }) => {
          seen.add(message.value.toString());
          await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          if (seen.size >= N) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await done;
  say(`consumer group ${groupId}: received ${seen.size}/${N}, offsets committed`);
  await consumer.disconnect();

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  if (committed !== N)
    throw new Error(`committed offsets sum to ${committed}, expected ${N}: ${JSON.stringify(offsets)}`);
  say(`admin.fetchOffsets ok: committed offsets sum to ${committed}`);

  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.deleteTopics({ topics: [topic], timeout: 10000 }).catch(() => {});
  await admin.disconnect();
  say(`PASS in ${Date.now() - t0} ms`);
}

const guard = setTimeout(() => {
  console.error('[kafka-smoke] FAIL: timed out after 60 s');
  process.exit(1);
}, 60000);
main().then(
  () => {
    clearTimeout(guard);
    process.exit(0);
  },
  (e) => {
    console.error('[kafka-smoke] FAIL:', e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
