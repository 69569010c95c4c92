// Builds the TraceView policies see from a trace's span summaries, and the deterministic trace-id hash
// that every probability decision compares against (same trace id => same value on every replica and
// after a replay).

import * as crypto from 'node:crypto';
import type { SpanSummary, TraceView } from './policies/types';

const TWO_POW_53 = 2 ** 53;

/**
 * sha256 digests bytes: one-shot crypto.hash where Node has it (>= 20.12; no Hash object per call, ~30%
 * faster), else createHash (package.json allows any Node 20). The same digest either way.
 */
const sha256: (data: Buffer) => Buffer =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'buffer') : (data) => crypto.createHash('sha256').update(data).digest();

/**
 * traceIdHash maps a trace id (32 hex chars) and an optional salt to a uniform value in [0, 1).
 * SHA-256 over salt + the 16 trace-id bytes, first 53 bits: stable across Node versions and platforms,
 * well mixed even for non-random (sequential) trace ids.
 */
export function traceIdHash(traceId: string, salt = ''): number {
  const id = Buffer.from(traceId, 'hex');
  const d = sha256(salt === '' ? id : Buffer.concat([Buffer.from(salt, 'utf8'), id]));
  // 21 high bits of the first word, 32 bits of the second: 53 bits, exact in a double.
  const hi = d.readUInt32BE(0) >>> 11;
  const lo = d.readUInt32BE(4);
  return (hi * 2 ** 32 + lo) / TWO_POW_53;
}

/** rootOf returns the span without parent that started first, or else the earliest span; undefined if none. */
export function rootOf(spans: readonly SpanSummary[]): { root: SpanSummary | undefined; hasRoot: boolean } {
  let root: SpanSummary | undefined;
  let earliest: SpanSummary | undefined;
  for (const s of spans) {
    if (earliest === undefined || s.startUs < earliest.startUs) earliest = s;
    if (s.parentSpanId === '' && (root === undefined || s.startUs < root.startUs)) root = s;
  }
  return root ? { root, hasRoot: true } : { root: earliest, hasRoot: false };
}

/** buildTraceView summarizes a trace for the policies. */
export function buildTraceView(traceId: string, spans: readonly SpanSummary[], firstSeenMs: number, hash = traceIdHash(traceId)): TraceView {
  const { root, hasRoot } = rootOf(spans);
  let minStart = Infinity;
  let maxEnd = -Infinity;
  let hasError = false;
  for (const s of spans) {
    if (s.startUs < minStart) minStart = s.startUs;
    if (s.endUs > maxEnd) maxEnd = s.endUs;
    if (s.statusCode === 2) hasError = true;
  }
  const service = root?.service ?? '';
  const operation = root?.name ?? '';
  return {
    traceId,
    spans,
    root,
    hasRoot,
    service,
    operation,
    key: `${service}:${operation}`,
    rootDurationUs: root ? Math.max(0, root.endUs - root.startUs) : 0,
    durationUs: spans.length > 0 ? Math.max(0, maxEnd - minStart) : 0,
    hasError,
    hash,
    firstSeenMs,
  };
}
