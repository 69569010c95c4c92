// The span index of buffered traces as packed numbers instead of one object per span. A trace's spans
// stay in the sampler for seconds (root_settle_delay, decision_wait), so one object per span (plus its id
// and name strings) was copied by young-generation GCs, promoted, and marked by every major GC. Here a
// trace keeps ONE Float64Array (16 numbers per span: byte ranges into its own encoded chunks, kind,
// status, times, service index) whose memory is outside the JS heap (a piece of a slab, slab.ts; a huge
// trace gets memory of its own), so the GC neither copies nor scans it, plus a short list of its services. The SpanSummary
// objects the policies read are built only when the trace is decided, and die young: `PackedSpan`s that keep
// the numbers and decode ids, name and tracestate from the chunk bytes only when a policy reads them (most
// policies read status and times only). `ChunkSpanScan` is the reusable sink the processor scans each
// incoming chunk into; `SpanTable` is what a buffered trace holds.

import {
  hexOf,
  readSpanDetails,
  readUtf8,
  type AttrValue,
  type SpanDetails,
  type SpanFieldRanges,
  type SpanIndexSink,
} from '../../pipeline/sdk/otlp/index';
import type { SpanSummary } from './policies/types';
import type { SlabAllocator } from './slab';

// Row layout: FIELDS numbers per span. Byte ranges are offsets into the span's chunk (length 0 = '').
const F_CHUNK = 0; // index of the chunk in the trace's chunk list (in a ChunkSpanScan: 0)
const F_TRACE_ID_START = 1;
const F_TRACE_ID_LEN = 2;
const F_SPAN_ID_START = 3;
const F_SPAN_ID_LEN = 4;
const F_PARENT_START = 5;
const F_PARENT_LEN = 6;
const F_NAME_START = 7;
const F_NAME_LEN = 8;
const F_STATE_START = 9;
const F_STATE_LEN = 10;
const F_KIND = 11;
const F_STATUS = 12;
const F_SERVICE = 13; // index into the services list (of the scan, then of the table)
const F_START_US = 14;
const F_END_US = 15;
const F_FLAGS = 16; // the span's flags field (W3C trace flags in the low 8 bits)
const F_SPAN_START = 17; // byte range of the whole Span message (events and all attributes are read from it lazily)
const F_SPAN_LEN = 18;
const FIELDS = 19;

/** A scan buffer grown beyond this many spans by one huge chunk is dropped at the next reset. */
const MAX_RETAINED_SCAN_SPANS = 4096;

/** grownRows returns `rows` when it holds `spans` rows, else a copy of its first `used` numbers in room for at least twice as many spans. */
function grownRows(rows: Float64Array, used: number, spans: number): Float64Array {
  if (rows.length >= spans * FIELDS) return rows;
  const bigger = new Float64Array(Math.max(spans, (rows.length / FIELDS) * 2, 4) * FIELDS);
  bigger.set(rows.subarray(0, used));
  return bigger;
}

type SpanAttributes = Record<string, AttrValue>;

const EMPTY_ROWS = new Float64Array(0);

/**
 * ChunkSpanScan receives one chunk's spans from scanTraceChunk (SpanIndexSink), reused chunk after chunk
 * (`reset` between chunks): what the processor needs before it knows where the chunk goes (span count,
 * whether a root span is in it, the trace id of the first span), then appended to a trace's SpanTable.
 */
export class ChunkSpanScan implements SpanIndexSink {
  /** @internal Rows of this chunk (capacity kept between chunks; only the first count * FIELDS are valid). */
  rows: Float64Array = new Float64Array(64 * FIELDS);
  /** @internal service.name of each resource entry of the chunk. */
  readonly services: string[] = [];
  /** @internal Per-span wanted attributes, when attribute keys were wanted. */
  attributes: (SpanAttributes | undefined)[] | undefined;
  private _count = 0;
  private _hasRoot = false;

  /** Spans scanned since the last reset. */
  get count(): number {
    return this._count;
  }

  /** True when a scanned span has no parent span id. */
  get hasRoot(): boolean {
    return this._hasRoot;
  }

  /** reset forgets the scanned chunk (keeps the row capacity unless one huge chunk inflated it). */
  reset(): void {
    this._count = 0;
    this._hasRoot = false;
    this.services.length = 0;
    this.attributes = undefined;
    if (this.rows.length > MAX_RETAINED_SCAN_SPANS * FIELDS) this.rows = new Float64Array(64 * FIELDS);
  }

  /** firstTraceId is the lowercase hex trace id of the first scanned span of `data` ('' when none). */
  firstTraceId(data: Uint8Array): string {
    return this._count === 0 ? '' : hexOf(data, this.rows[F_TRACE_ID_START], this.rows[F_TRACE_ID_LEN]);
  }

  resource(service: string): void {
    this.services.push(service);
  }

  span(_data: Uint8Array, f: Readonly<SpanFieldRanges>): void {
    const o = this._count * FIELDS;
    const rows = (this.rows = grownRows(this.rows, o, this._count + 1));
    rows[o + F_CHUNK] = 0;
    rows[o + F_TRACE_ID_START] = f.traceIdStart;
    rows[o + F_TRACE_ID_LEN] = f.traceIdLen;
    rows[o + F_SPAN_ID_START] = f.spanIdStart;
    rows[o + F_SPAN_ID_LEN] = f.spanIdLen;
    rows[o + F_PARENT_START] = f.parentSpanIdStart;
    rows[o + F_PARENT_LEN] = f.parentSpanIdLen;
    rows[o + F_NAME_START] = f.nameStart;
    rows[o + F_NAME_LEN] = f.nameLen;
    rows[o + F_STATE_START] = f.traceStateStart;
    rows[o + F_STATE_LEN] = f.traceStateLen;
    rows[o + F_KIND] = f.kind;
    rows[o + F_STATUS] = f.statusCode;
    rows[o + F_SERVICE] = this.services.length - 1;
    rows[o + F_START_US] = f.startUs;
    rows[o + F_END_US] = f.endUs;
    rows[o + F_FLAGS] = f.flags;
    rows[o + F_SPAN_START] = f.spanStart;
    rows[o + F_SPAN_LEN] = f.spanLen;
    if (f.parentSpanIdLen === 0) this._hasRoot = true;
    if (f.attributes !== undefined) {
      const attrs = (this.attributes ??= []);
      while (attrs.length < this._count) attrs.push(undefined);
      attrs.push(f.attributes);
    }
    this._count++;
  }
}

/**
 * SpanTable is the span index of one buffered trace: `count` spans as rows of packed numbers referring to
 * the trace's encoded chunks, plus the distinct services. `spans(chunks)` reads them back as SpanSummary
 * values (the codec's SpanIndex values, field for field) from the chunks the rows were scanned from. The
 * rows come from `slabs`, shared by the tables of one trace buffer.
 */
export class SpanTable {
  private _rows: Float64Array = EMPTY_ROWS;
  private _count = 0;
  private readonly _services: string[] = [];
  private _attributes: (SpanAttributes | undefined)[] | undefined;

  constructor(private _slabs: SlabAllocator) {}

  /**
   * moveTo copies the rows into `slabs` and takes later rows from there too: a long-lived trace moves its
   * rows out of the slabs it shares with short-lived ones, which it would otherwise keep alive.
   */
  moveTo(slabs: SlabAllocator): void {
    this._slabs = slabs;
    if (this._count === 0) return;
    const used = this._count * FIELDS;
    const rows = slabs.float64(used);
    rows.set(this._rows.subarray(0, used));
    this._rows = rows;
  }

  /** Number of spans held. */
  get count(): number {
    return this._count;
  }

  /** append adds the spans of `scan`, scanned from the chunk held at `chunkIndex` of the trace's chunk list. */
  append(scan: ChunkSpanScan, chunkIndex: number): void {
    const n = scan.count;
    if (n === 0) return;
    const src = scan.rows;
    const serviceIndex = scan.services.map((s) => this._serviceIndex(s));
    const first = this._count * FIELDS;
    const end = first + n * FIELDS;
    const rows = (this._rows = this._roomFor(this._count + n));
    for (let i = 0, o = first; o < end; i++, o++) rows[o] = src[i]; // no subarray view per chunk
    for (let o = first; o < end; o += FIELDS) {
      rows[o + F_CHUNK] = chunkIndex;
      rows[o + F_SERVICE] = serviceIndex[rows[o + F_SERVICE]];
    }
    if (scan.attributes !== undefined || this._attributes !== undefined) {
      const attrs = (this._attributes ??= []);
      while (attrs.length < this._count) attrs.push(undefined);
      for (let i = 0; i < n; i++) attrs.push(scan.attributes?.[i]);
    }
    this._count += n;
  }

  /**
   * spans returns one PackedSpan per span, in the order appended: the values of indexTraceChunk (field for
   * field), with ids, name and tracestate decoded from `chunks` only when read. `count` (default: all)
   * limits it to the first spans (those held when a view was taken; rows already written never change).
   */
  spans(chunks: readonly Uint8Array[], count = this._count): PackedSpan[] {
    const rows = this._rows;
    const attrs = this._attributes;
    const n = Math.min(count, this._count);
    const out: PackedSpan[] = new Array<PackedSpan>(n);
    for (let i = 0, o = 0; i < n; i++, o += FIELDS) {
      out[i] = new PackedSpan(
        chunks[rows[o + F_CHUNK]],
        rows,
        o,
        this._services[rows[o + F_SERVICE]],
        attrs === undefined ? undefined : attrs[i],
      );
    }
    return out;
  }

  /** span returns span `i` (0 <= i < count) as a PackedSpan over `chunks`, like `spans(chunks)[i]`. */
  span(chunks: readonly Uint8Array[], i: number): PackedSpan {
    const o = i * FIELDS;
    const rows = this._rows;
    return new PackedSpan(
      chunks[rows[o + F_CHUNK]],
      rows,
      o,
      this._services[rows[o + F_SERVICE]],
      this._attributes === undefined ? undefined : this._attributes[i],
    );
  }

  /** startUs, endUs, statusCode and isRoot read span `i`'s row without building a span (0 <= i < count). */
  startUs(i: number): number {
    return this._rows[i * FIELDS + F_START_US];
  }

  endUs(i: number): number {
    return this._rows[i * FIELDS + F_END_US];
  }

  statusCode(i: number): number {
    return this._rows[i * FIELDS + F_STATUS];
  }

  isRoot(i: number): boolean {
    return this._rows[i * FIELDS + F_PARENT_LEN] === 0;
  }

  /** _roomFor returns rows holding the current ones with room for `spans`: exact size for the first chunk (most traces arrive as one), doubling after that. */
  private _roomFor(spans: number): Float64Array {
    const rows = this._rows;
    if (this._count === 0) return this._slabs.float64(spans * FIELDS);
    if (rows.length >= spans * FIELDS) return rows;
    const bigger = this._slabs.float64(Math.max(spans, (rows.length / FIELDS) * 2) * FIELDS);
    bigger.set(rows.subarray(0, this._count * FIELDS));
    return bigger;
  }

  private _serviceIndex(service: string): number {
    const services = this._services;
    for (let i = 0; i < services.length; i++) if (services[i] === service) return i;
    services.push(service);
    return services.length - 1;
  }
}

/**
 * PackedSpan is a SpanSummary over one row of a SpanTable: numbers, service and attributes are plain
 * properties; traceId, spanId, parentSpanId, name and traceState are decoded from the chunk on every read
 * (not cached: a policy reads them rarely, and once). `isRoot` tells a root span without decoding its parent id.
 */
export class PackedSpan implements SpanSummary {
  readonly kind: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly statusCode: 0 | 1 | 2;
  readonly flags: number;
  readonly sizeBytes: number;
  /** True when the span has no parent span id (`parentSpanId === ''`). */
  readonly isRoot: boolean;
  private _details: SpanDetails | undefined;

  constructor(
    private readonly _data: Uint8Array,
    private readonly _rows: Float64Array,
    private readonly _o: number,
    readonly service: string,
    readonly attributes: Readonly<Record<string, AttrValue>> | undefined,
  ) {
    this.kind = _rows[_o + F_KIND];
    this.startUs = _rows[_o + F_START_US];
    this.endUs = _rows[_o + F_END_US];
    this.statusCode = _rows[_o + F_STATUS] as 0 | 1 | 2;
    this.isRoot = _rows[_o + F_PARENT_LEN] === 0;
    this.flags = _rows[_o + F_FLAGS];
    this.sizeBytes = _rows[_o + F_SPAN_LEN];
  }

  /** details decodes the span's own attributes and its events from the chunk on first read (then kept). */
  get details(): SpanDetails {
    return (this._details ??= readSpanDetails(
      this._data,
      this._rows[this._o + F_SPAN_START],
      this._rows[this._o + F_SPAN_LEN],
    ));
  }

  get traceId(): string {
    return hexOf(this._data, this._rows[this._o + F_TRACE_ID_START], this._rows[this._o + F_TRACE_ID_LEN]);
  }

  get spanId(): string {
    return hexOf(this._data, this._rows[this._o + F_SPAN_ID_START], this._rows[this._o + F_SPAN_ID_LEN]);
  }

  get parentSpanId(): string {
    return this.isRoot
      ? ''
      : hexOf(this._data, this._rows[this._o + F_PARENT_START], this._rows[this._o + F_PARENT_LEN]);
  }

  get name(): string {
    const start = this._rows[this._o + F_NAME_START];
    return readUtf8(this._data, start, start + this._rows[this._o + F_NAME_LEN]);
  }

  get traceState(): string {
    const start = this._rows[this._o + F_STATE_START];
    return readUtf8(this._data, start, start + this._rows[this._o + F_STATE_LEN]);
  }
}
