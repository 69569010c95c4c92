// The write-ahead log's Prometheus metrics, registered on the service registry with a `processor` label.

import type { Registry } from 'prom-client';
import { componentMetrics } from '../../pipeline/sdk/metrics';

/** WalMetrics are the log's series, bound to one processor. */
export interface WalMetrics {
  bytes: { set(v: number): void };
  segments: { set(v: number): void };
  oldestUnsettledAge: { set(v: number): void };
  appendedBytes: { inc(v?: number): void };
  refusedChunks: { inc(labels: { reason: 'full' | 'shutdown' | 'write_error' }, v?: number): void };
  replayedChunks: { inc(labels: { signal: 'traces' | 'logs' }, v?: number): void };
  tornSegments: { inc(v?: number): void };
  redeliveries: { inc(v?: number): void };
  droppedChunks: { inc(labels: { reason: 'permanent' }, v?: number): void };
  fsyncSeconds: { observe(v: number): void };
}

/** createWalMetrics registers (or reuses) the metrics on `registry` and binds them to `processor`. */
export function createWalMetrics(registry: Registry, processor: string): WalMetrics {
  const { gauge, counter, histogram } = componentMetrics(registry, 'processor');
  const p = { processor };
  const bytes = gauge('tusk_wal_bytes', 'Bytes held by the write-ahead log (segments on disk and queued appends).');
  const segments = gauge('tusk_wal_segments', 'Segment files of the write-ahead log.');
  const age = gauge(
    'tusk_wal_oldest_unsettled_age_seconds',
    'Age of the oldest segment that still holds data not yet settled downstream (0 = none).',
  );
  const appended = counter('tusk_wal_appended_bytes_total', 'Chunk bytes appended to the write-ahead log.', []);
  const refused = counter(
    'tusk_wal_refused_chunks_total',
    'Chunks refused by the write-ahead log, by reason (full, shutdown, write_error); the sender was not acknowledged.',
    ['reason'],
  );
  const replayed = counter(
    'tusk_wal_replayed_chunks_total',
    'Chunks replayed at start from what the previous run had not settled.',
    ['signal'],
  );
  const torn = counter('tusk_wal_torn_segments_total', 'Segments found ending in a torn record at start.', []);
  const redeliveries = counter(
    'tusk_wal_redeliveries_total',
    'Redeliveries of chunks the pipeline refused retriably.',
    [],
  );
  const dropped = counter(
    'tusk_wal_dropped_chunks_total',
    'Chunks given up because the next component rejected them permanently.',
    ['reason'],
  );
  const fsync = histogram(
    'tusk_wal_fsync_duration_seconds',
    'Duration of the write-ahead log syncs (fdatasync).',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  return {
    bytes: { set: (v) => bytes.set(p, v) },
    segments: { set: (v) => segments.set(p, v) },
    oldestUnsettledAge: { set: (v) => age.set(p, v) },
    appendedBytes: { inc: (v) => appended.inc(p, v) },
    refusedChunks: { inc: (l, v) => refused.inc({ ...p, ...l }, v) },
    replayedChunks: { inc: (l, v) => replayed.inc({ ...p, ...l }, v) },
    tornSegments: { inc: (v) => torn.inc(p, v) },
    redeliveries: { inc: (v) => redeliveries.inc(p, v) },
    droppedChunks: { inc: (l, v) => dropped.inc({ ...p, ...l }, v) },
    fsyncSeconds: { observe: (v) => fsync.observe(p, v) },
  };
}
