// Readiness probe of the rehearsal Kafka cluster (scripts/cluster/up.sh): exits 0 when the bootstrap
// servers answer a metadata request listing the expected number of brokers and a controller, 1 otherwise,
// 3 when kafkajs is not installed.
//   node scripts/cluster/kafka-ready.js <repo root> <host:port,...> <expected brokers>
'use strict';

const [, , root, brokers, expected] = process.argv;
let kafkajs;
try {
  kafkajs = require(require.resolve('kafkajs', { paths: [root] }));
} catch {
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;
const admin = new Kafka({
  clientId: 'cluster-ready',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 3000,
  retry: { retries: 0 },
}).admin();
const timer = setTimeout(() => process.exit(1), 6000);
admin
  .connect()
  .then(() => admin.describeCluster())
  .then((c) => {
    if (c.brokers.length !== Number(expected) || c.controller === null) throw new Error('not all brokers registered');
    return admin.disconnect();
  })
  .then(
    () => {
      clearTimeout(timer);
      process.exit(0);
    },
    () => process.exit(1),
  );
