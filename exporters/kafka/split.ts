// Splitting an encoded OTLP request that is too large for one Kafka message into several smaller,
// valid requests, by whole spans (or log records): the span bytes are copied unchanged under copies of
// their resource and scope headers, in their original order, and nothing is dropped. Traces and logs share
// the framing (request.resource_X = 1, ResourceX.scope_X = 2, ScopeX.records = 2), so one splitter serves both.

import { Reader } from 'protobufjs';
import { asDecodeError, skipField, varintSize, writeVarint, WT_LEN } from '../../pipeline/sdk/otlp';
import { KafkaErrorCode, KafkaPermanentError } from '../../pipeline/sdk/kafka/errors';

const TAG_F1_LEN = (1 << 3) | WT_LEN; // resource_spans / resource_logs
const TAG_F2_LEN = (2 << 3) | WT_LEN; // scope_spans / scope_logs, and spans / log_records

/** A byte range [start, end) of the input. */
type Slice = readonly [number, number];

interface ScopeIn {
  readonly header: Slice[];
  headerLen: number;
  readonly records: Slice[];
}

interface ResourceIn {
  readonly header: Slice[];
  headerLen: number;
  readonly scopes: ScopeIn[];
}

interface ScopeOut {
  readonly scope: ScopeIn;
  readonly records: Slice[];
  /** Encoded length of the ScopeX message (header + framed records). */
  size: number;
}

interface ResourceOut {
  readonly resource: ResourceIn;
  readonly scopes: ScopeOut[];
  /** Encoded length of the ResourceX message (header + framed scopes). */
  size: number;
}

interface Part {
  readonly resources: ResourceOut[];
  /** Encoded length of the whole request. */
  total: number;
  records: number;
  /** Top-level fields other than resource_X (unknown fields), kept in the first part. */
  readonly extra: Slice[];
}

const framed = (len: number): number => 1 + varintSize(len) + len;
const sliceLen = (s: Slice): number => s[1] - s[0];

function parse(data: Uint8Array): { resources: ResourceIn[]; extra: Slice[]; extraLen: number } {
  const r = new Reader(data);
  const resources: ResourceIn[] = [];
  const extra: Slice[] = [];
  let extraLen = 0;
  try {
    while (r.pos < data.length) {
      const tagStart = r.pos;
      const tag = r.uint32();
      if (tag === TAG_F1_LEN) {
        const len = r.uint32();
        const end = r.pos + len;
        if (end > data.length) throw new RangeError('index out of range');
        resources.push(parseResource(r, end));
        r.pos = end;
      } else {
        skipField(r, tag & 7, data.length);
        extra.push([tagStart, r.pos]);
        extraLen += r.pos - tagStart;
      }
    }
  } catch (err) {
    throw asDecodeError(err, r);
  }
  return { resources, extra, extraLen };
}

function parseResource(r: Reader, end: number): ResourceIn {
  const res: ResourceIn = { header: [], headerLen: 0, scopes: [] };
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.uint32();
    if (tag === TAG_F2_LEN) {
      const len = r.uint32();
      const scopeEnd = r.pos + len;
      if (scopeEnd > end) throw new RangeError('index out of range');
      res.scopes.push(parseScope(r, scopeEnd));
      r.pos = scopeEnd;
    } else {
      skipField(r, tag & 7, end);
      res.header.push([tagStart, r.pos]);
      res.headerLen += r.pos - tagStart;
    }
  }
  return res;
}

function parseScope(r: Reader, end: number): ScopeIn {
  const scope: ScopeIn = { header: [], headerLen: 0, records: [] };
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.uint32();
    if (tag === TAG_F2_LEN) {
      const len = r.uint32();
      if (r.pos + len > end) throw new RangeError('index out of range');
      scope.records.push([r.pos, r.pos + len]);
      r.pos += len;
    } else {
      skipField(r, tag & 7, end);
      scope.header.push([tagStart, r.pos]);
      scope.headerLen += r.pos - tagStart;
    }
  }
  return scope;
}

function emptyPart(extra: Slice[], extraLen: number): Part {
  return { resources: [], total: extraLen, records: 0, extra };
}

/** sizeWith is the part's total size if `rec` (of `scope` in `res`) were added; it changes nothing. */
function sizeWith(part: Part, res: ResourceIn, scope: ScopeIn, rec: Slice): number {
  const lastRes = part.resources[part.resources.length - 1];
  const sameRes = lastRes !== undefined && lastRes.resource === res;
  const resSize = sameRes ? lastRes.size : res.headerLen;
  const lastScope = sameRes ? lastRes.scopes[lastRes.scopes.length - 1] : undefined;
  const sameScope = lastScope !== undefined && lastScope.scope === scope;
  const scopeSize = sameScope ? lastScope.size : scope.headerLen;
  const newScope = scopeSize + framed(sliceLen(rec));
  const newRes = resSize - (sameScope ? framed(scopeSize) : 0) + framed(newScope);
  return part.total - (sameRes ? framed(resSize) : 0) + framed(newRes);
}

function add(part: Part, res: ResourceIn, scope: ScopeIn, rec: Slice): void {
  const total = sizeWith(part, res, scope, rec);
  let lastRes = part.resources[part.resources.length - 1];
  if (lastRes === undefined || lastRes.resource !== res) {
    lastRes = { resource: res, scopes: [], size: res.headerLen };
    part.resources.push(lastRes);
  }
  let lastScope = lastRes.scopes[lastRes.scopes.length - 1];
  if (lastScope === undefined || lastScope.scope !== scope) {
    lastScope = { scope, records: [], size: scope.headerLen };
    lastRes.scopes.push(lastScope);
    lastRes.size += framed(lastScope.size);
  }
  lastRes.size -= framed(lastScope.size);
  lastScope.records.push(rec);
  lastScope.size += framed(sliceLen(rec));
  lastRes.size += framed(lastScope.size);
  part.total = total;
  part.records++;
}

function encode(data: Uint8Array, part: Part): Uint8Array {
  const out = new Uint8Array(part.total);
  let pos = 0;
  const copy = (s: Slice): void => {
    out.set(data.subarray(s[0], s[1]), pos);
    pos += s[1] - s[0];
  };
  const lenField = (tag: number, len: number): void => {
    out[pos++] = tag;
    pos = writeVarint(out, pos, len);
  };
  for (const s of part.extra) copy(s);
  for (const res of part.resources) {
    lenField(TAG_F1_LEN, res.size);
    for (const s of res.resource.header) copy(s);
    for (const sc of res.scopes) {
      lenField(TAG_F2_LEN, sc.size);
      for (const s of sc.scope.header) copy(s);
      for (const rec of sc.records) {
        lenField(TAG_F2_LEN, sliceLen(rec));
        copy(rec);
      }
    }
  }
  if (pos !== out.length) throw new Error(`split: encoded ${pos} bytes, expected ${out.length}`);
  return out;
}

/**
 * splitBySize splits an encoded ExportTraceServiceRequest (or ExportLogsServiceRequest) into requests of
 * at most `maxBytes` bytes each, packing whole spans greedily in their original order. A request that
 * already fits is returned as is (same bytes). Empty resources and scopes (no spans) are not carried over.
 * @throws KafkaPermanentError(ERR_KAFKA_MESSAGE_TOO_LARGE) when one span with its resource and scope headers
 *   exceeds `maxBytes`; OtlpDecodeError (permanent) when the bytes are not a well-formed request.
 */
export function splitBySize(data: Uint8Array, maxBytes: number): Uint8Array[] {
  if (data.length <= maxBytes) return [data];
  const { resources, extra, extraLen } = parse(data);
  const parts: Part[] = [];
  let part = emptyPart(extra, extraLen);
  for (const res of resources) {
    for (const scope of res.scopes) {
      for (const rec of scope.records) {
        if (part.records > 0 && sizeWith(part, res, scope, rec) > maxBytes) {
          parts.push(part);
          part = emptyPart([], 0);
        }
        if (sizeWith(part, res, scope, rec) > maxBytes) {
          throw new KafkaPermanentError(
            KafkaErrorCode.MESSAGE_TOO_LARGE,
            `one span (or log record) of ${sliceLen(rec)} bytes does not fit a Kafka message of at most ${maxBytes} bytes even alone`,
          );
        }
        add(part, res, scope, rec);
      }
    }
  }
  if (part.records > 0 || parts.length === 0) parts.push(part);
  return parts.map((p) => encode(data, p));
}
