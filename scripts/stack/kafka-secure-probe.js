#!/usr/bin/env node
// Readiness probe of the stack Kafka's secured listeners, used by up.sh: with kafkajs, connect an admin
// client and describe the cluster over SASL_SSL with PLAIN, over SASL_SSL with SCRAM-SHA-512 (both trusting
// only the stack CA) and over SSL with the client certificate (mTLS), reading endpoints, files and
// credentials from the secure.json up.sh generated.
// Usage: node scripts/stack/kafka-secure-probe.js <secure.json> [<dir to resolve kafkajs from>] [--verbose]
// Exit 0 when all three work, 1 when one fails (--verbose says which and why), 3 when kafkajs is missing.
'use strict';

const fs = require('node:fs');

const [file, from = process.cwd()] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const verbose = process.argv.includes('--verbose');
let kafkajs;
try {
  kafkajs = require(require.resolve('kafkajs', { paths: [from] }));
} catch {
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;

async function probe(name, brokers, ssl, sasl) {
  const admin = new Kafka({
    clientId: 'stack-secure-ready',
    brokers,
    ssl,
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    authenticationTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const c = await admin.describeCluster();
    if (c.brokers.length === 0) throw new Error('no brokers');
  } catch (err) {
    throw new Error(`${name}: ${err && err.message ? err.message : String(err)}`, { cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function main() {
  const s = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ca = fs.readFileSync(s.ca_file);
  await probe('SASL_SSL PLAIN', s.sasl_ssl_brokers, { ca }, { mechanism: 'plain', ...s.plain });
  await probe('SASL_SSL SCRAM-SHA-512', s.sasl_ssl_brokers, { ca }, { mechanism: 'scram-sha-512', ...s.scram_sha_512 });
  await probe(
    'SSL mTLS',
    s.ssl_brokers,
    { ca, cert: fs.readFileSync(s.client_cert_file), key: fs.readFileSync(s.client_key_file) },
    undefined,
  );
}

const timer = setTimeout(() => {
  if (verbose) console.error('[kafka-secure-probe] timed out after 15s');
  process.exit(1);
}, 15000);
main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    if (verbose) console.error(`[kafka-secure-probe] ${err.message}`);
    process.exit(1);
  },
);
