// Builds the TraceView policies see from a trace's span summaries (or straight from a buffered trace's
// packed span table, building span objects only if a policy reads them), and the deterministic trace-id hash
// that every probability decision compares against (same trace id => same value on every replica and
// after a replay).

import * as crypto from 'node:crypto';
import type { SpanSummary, TraceView } from './policies/types';
import { PackedSpan, type SpanTable } from './span-table';

const TWO_POW_53 = 2 ** 53;

/**
 * sha256 digests bytes: one-shot crypto.hash where Node has it (>= 20.12; no Hash object per call, ~30%
 * faster), else createHash (package.json allows any Node 20). The same digest either way.
 */
const sha256: (data: Buffer) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

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

/** isRootSpan is `s.parentSpanId === ''`; a PackedSpan answers without decoding its parent id. */
function isRootSpan(s: SpanSummary): boolean {
  return s instanceof PackedSpan ? s.isRoot : s.parentSpanId === '';
}

/** rootOf returns the span without parent that started first, or else the earliest span; undefined if none. */
export function rootOf(spans: readonly SpanSummary[]): { root: SpanSummary | undefined; hasRoot: boolean } {
  let root: SpanSummary | undefined;
  let earliest: SpanSummary | undefined;
  for (const s of spans) {
    if (earliest === undefined || s.startUs < earliest.startUs) earliest = s;
    if (isRootSpan(s) && (root === undefined || s.startUs < root.startUs)) root = s;
  }
  return root ? { root, hasRoot: true } : { root: earliest, hasRoot: false };
}

/** buildTraceView summarizes a trace for the policies (one pass over the spans: the rootOf rule and the totals). */
export function buildTraceView(
  traceId: string,
  spans: readonly SpanSummary[],
  firstSeenMs: number,
  hash = traceIdHash(traceId),
): TraceView {
  let root: SpanSummary | undefined;
  let earliest: SpanSummary | undefined;
  let minStart = Infinity;
  let maxEnd = -Infinity;
  let hasError = false;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (earliest === undefined || s.startUs < earliest.startUs) earliest = s;
    if (isRootSpan(s) && (root === undefined || s.startUs < root.startUs)) root = s;
    if (s.startUs < minStart) minStart = s.startUs;
    if (s.endUs > maxEnd) maxEnd = s.endUs;
    if (s.statusCode === 2) hasError = true;
  }
  const hasRoot = root !== undefined;
  if (!hasRoot) root = earliest;
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

/**
 * PackedTraceView is the TraceView of a buffered trace read straight from its SpanTable rows: root, times
 * and error flag without building a span object; `spans` (PackedSpans, in table order) is built on first
 * read only, so a trace whose policies never look at single spans allocates none. Same values as
 * `buildTraceView(traceId, table.spans(chunks), ...)`.
 */
class PackedTraceView implements TraceView {
  readonly root: SpanSummary | undefined;
  readonly hasRoot: boolean;
  readonly service: string;
  readonly operation: string;
  readonly key: string;
  readonly rootDurationUs: number;
  readonly durationUs: number;
  readonly hasError: boolean;
  /** Spans held when the view was built (a trace being decided may still receive chunks). */
  private readonly _count: number;
  private _spans: readonly SpanSummary[] | undefined;

  constructor(
    readonly traceId: string,
    private readonly _table: SpanTable,
    private readonly _chunks: readonly Uint8Array[],
    readonly firstSeenMs: number,
    readonly hash: number,
  ) {
    const n = (this._count = _table.count);
    let root = -1;
    let earliest = -1;
    let minStart = Infinity;
    let maxEnd = -Infinity;
    let hasError = false;
    for (let i = 0; i < n; i++) {
      const start = _table.startUs(i);
      const end = _table.endUs(i);
      if (earliest === -1 || start < _table.startUs(earliest)) earliest = i;
      if (_table.isRoot(i) && (root === -1 || start < _table.startUs(root))) root = i;
      if (start < minStart) minStart = start;
      if (end > maxEnd) maxEnd = end;
      if (_table.statusCode(i) === 2) hasError = true;
    }
    this.hasRoot = root !== -1;
    if (root === -1) root = earliest;
    const rootSpan = root === -1 ? undefined : _table.span(_chunks, root);
    this.root = rootSpan;
    this.service = rootSpan?.service ?? '';
    this.operation = rootSpan?.name ?? '';
    this.key = `${this.service}:${this.operation}`;
    this.rootDurationUs = rootSpan ? Math.max(0, rootSpan.endUs - rootSpan.startUs) : 0;
    this.durationUs = n > 0 ? Math.max(0, maxEnd - minStart) : 0;
    this.hasError = hasError;
  }

  get spans(): readonly SpanSummary[] {
    return (this._spans ??= this._table.spans(this._chunks, this._count));
  }
}

/** buildPackedTraceView summarizes a buffered trace for the policies from its span table (see PackedTraceView). */
export function buildPackedTraceView(
  traceId: string,
  table: SpanTable,
  chunks: readonly Uint8Array[],
  firstSeenMs: number,
  hash = traceIdHash(traceId),
): TraceView {
  return new PackedTraceView(traceId, table, chunks, firstSeenMs, hash);
}
