// Redis key inspection and clean-up for fault tests: lists the keys under a test run's prefix (SCAN, bounded)
// and deletes them afterwards, so runs leave no sampling state behind in the shared Redis.

import Redis from 'ioredis';
import { traceFingerprint } from '../../processors/tail-sampling/state/ledger-fingerprint';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    enableOfflineQueue: false,
  });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function scanWith(r: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let i = 0; i < 100_000; i++) {
    const [next, batch] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}

/** scanKeys lists every key that starts with `prefix`. */
export function scanKeys(prefix: string): Promise<string[]> {
  return withRedis((r) => scanWith(r, prefix));
}

/** deletePrefix removes every key that starts with `prefix` (best effort; never throws). */
export async function deletePrefix(prefix: string): Promise<void> {
  await withRedis(async (r) => {
    const keys = await scanWith(r, prefix);
    for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
  }).catch(() => undefined);
}

/**
 * ledgerTraceIds lists the trace ids recorded in full in the decision ledger under `prefix`: the fields of
 * its time-bucketed hashes (`<prefix>{s<n>}:ledger:<bucket>`, see processors/tail-sampling/state/README.md).
 * Dropped traces outside the sample are held as fingerprints only: see ledgerHolds.
 */
export function ledgerTraceIds(prefix: string): Promise<Set<string>> {
  return withRedis(async (r) => {
    const ids = new Set<string>();
    for (const key of (await scanWith(r, prefix)).filter((k) => /:ledger:\d+$/.test(k))) {
      for (const field of await r.hkeys(key)) ids.add(field);
    }
    return ids;
  });
}

/**
 * ledgerHolds returns the ids of `traceIds` that the decision ledger under `prefix` holds, as a full record
 * (a field named by the trace id) or as a fingerprint (in a `~<slot digits>` field of 5-byte fingerprints).
 */
export function ledgerHolds(prefix: string, traceIds: readonly string[]): Promise<Set<string>> {
  return withRedis(async (r) => {
    const full = new Set<string>();
    const fingerprints: Array<{ field: string; bytes: Buffer }> = [];
    for (const key of (await scanWith(r, prefix)).filter((k) => /:ledger:\d+$/.test(k))) {
      const fields = await r.hgetallBuffer(key);
      for (const [field, value] of Object.entries(fields)) {
        if (field.startsWith('~')) fingerprints.push({ field: field.slice(1), bytes: value });
        else full.add(field);
      }
    }
    const held = new Set<string>();
    for (const id of traceIds) {
      if (full.has(id)) {
        held.add(id);
        continue;
      }
      const f = traceFingerprint(id);
      const fp = Buffer.from(f.fp, 'hex');
      const found = fingerprints.some(({ field, bytes }) => {
        if (!f.slot.startsWith(field)) return false;
        for (let at = 0; at + fp.length <= bytes.length; at += fp.length) {
          if (bytes.subarray(at, at + fp.length).equals(fp)) return true;
        }
        return false;
      });
      if (found) held.add(id);
    }
    return held;
  });
}
