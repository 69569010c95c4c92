// OTLP/JSON <-> OTLP/protobuf, driven by the protobufjs schema: lowerCamelCase or snake_case keys, hex
// trace/span ids, enums as integers or names, 64-bit integers as strings or numbers, other bytes as
// base64, unknown keys ignored (the OTLP/JSON rules of the OTLP specification). Errors name the JSON path.

import type * as protobuf from 'protobufjs';
import { bigIntToLongBits, longToBigInt } from './decode';
import { OtlpDecodeError } from './errors';
import { otlpTypes } from './schema';
import { hexOf, hexToBytes } from './wire';

/** OtlpSignal names a telemetry signal: the two request kinds the codec handles. */
export type OtlpSignal = 'traces' | 'logs';

/** Bytes fields that OTLP/JSON encodes as hex instead of base64. */
const HEX_ID_FIELDS: ReadonlySet<string> = new Set(['trace_id', 'span_id', 'parent_span_id']);
const MAX_JSON_DEPTH = 100;

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface TypeInfo {
  readonly byKey: Map<string, protobuf.Field>;
  /** Field names (snake_case) that belong to a oneof, by oneof name. */
  readonly oneofOf: Map<string, string>;
}

const typeInfoCache = new WeakMap<protobuf.Type, TypeInfo>();

function typeInfo(type: protobuf.Type): TypeInfo {
  let info = typeInfoCache.get(type);
  if (info) return info;
  const byKey = new Map<string, protobuf.Field>();
  const oneofOf = new Map<string, string>();
  for (const field of type.fieldsArray) {
    field.resolve();
    byKey.set(field.name, field);
    byKey.set(camel(field.name), field);
    if (field.partOf) oneofOf.set(field.name, field.partOf.name);
  }
  info = { byKey, oneofOf };
  typeInfoCache.set(type, info);
  return info;
}

function requestType(kind: OtlpSignal): protobuf.Type {
  const t = otlpTypes();
  if (kind === 'traces') return t.ExportTraceServiceRequest;
  if (kind === 'logs') return t.ExportLogsServiceRequest;
  throw new TypeError(`unknown OTLP signal ${JSON.stringify(kind)}`);
}

function isMessage(field: protobuf.Field): boolean {
  return field.resolvedType !== null && 'fields' in field.resolvedType;
}

function isEnum(field: protobuf.Field): field is protobuf.Field & { resolvedType: protobuf.Enum } {
  return field.resolvedType !== null && !('fields' in field.resolvedType);
}

/** JsonReader converts one parsed JSON document; `path` tracks where it is, for error messages. */
class JsonReader {
  private readonly _path: (string | number)[] = [];

  fail(message: string): never {
    let where = '';
    for (const seg of this._path) where += typeof seg === 'number' ? `[${seg}]` : where === '' ? seg : `.${seg}`;
    throw new OtlpDecodeError(`invalid OTLP/JSON: ${message}`, { where: where === '' ? '$' : where });
  }

  message(type: protobuf.Type, json: unknown, depth: number): Record<string, unknown> {
    if (depth > MAX_JSON_DEPTH) this.fail('objects nested too deeply');
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      this.fail(`expected an object for ${type.name}, got ${describe(json)}`);
    const info = typeInfo(type);
    const out: Record<string, unknown> = {};
    let oneofSet: string | undefined;
    for (const key of Object.keys(json)) {
      const field = info.byKey.get(key);
      const value = (json as Record<string, unknown>)[key];
      if (field === undefined || value === null || value === undefined) continue; // unknown keys are ignored
      this._path.push(key);
      const oneof = info.oneofOf.get(field.name);
      if (oneof !== undefined) {
        if (oneofSet !== undefined && oneofSet !== field.name)
          this.fail(`${type.name} may hold only one of its values, found ${camel(oneofSet)} and ${key}`);
        oneofSet = field.name;
      }
      if (field.repeated) {
        if (!Array.isArray(value)) this.fail(`expected an array, got ${describe(value)}`);
        const arr = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          this._path.push(i);
          arr[i] = value[i] === null ? this.nullElement(field) : this.value(field, value[i], depth);
          this._path.pop();
        }
        out[field.name] = arr;
      } else {
        out[field.name] = this.value(field, value, depth);
      }
      this._path.pop();
    }
    return out;
  }

  private nullElement(field: protobuf.Field): unknown {
    return isMessage(field) ? {} : this.fail('null is not allowed in an array of scalars');
  }

  private value(field: protobuf.Field, v: unknown, depth: number): unknown {
    if (isMessage(field)) return this.message(field.resolvedType as protobuf.Type, v, depth + 1);
    if (isEnum(field)) return this.enumValue(field.resolvedType, v);
    switch (field.type) {
      case 'string':
        if (typeof v !== 'string') this.fail(`expected a string, got ${describe(v)}`);
        return v;
      case 'bool':
        if (typeof v !== 'boolean') this.fail(`expected true or false, got ${describe(v)}`);
        return v;
      case 'bytes':
        return HEX_ID_FIELDS.has(field.name) ? this.hexBytes(v) : this.base64Bytes(v);
      case 'double':
      case 'float':
        return this.double(v);
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        return Number(this.integer(v, -(2n ** 31n), 2n ** 31n - 1n));
      case 'uint32':
      case 'fixed32':
        return Number(this.integer(v, 0n, 2n ** 32n - 1n));
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        return bigIntToLongBits(this.integer(v, -(2n ** 63n), 2n ** 63n - 1n), false);
      case 'uint64':
      case 'fixed64':
        return bigIntToLongBits(this.integer(v, 0n, 2n ** 64n - 1n), true);
      default:
        return this.fail(`unsupported field type ${field.type}`);
    }
  }

  private enumValue(e: protobuf.Enum, v: unknown): number {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31)
        this.fail(`expected an integer ${e.name} value, got ${v}`);
      return v;
    }
    if (typeof v === 'string') {
      const n = e.values[v];
      if (n !== undefined) return n;
      if (/^-?\d+$/.test(v)) return Number(this.integer(v, -(2n ** 31n), 2n ** 31n - 1n));
      this.fail(`unknown ${e.name} ${JSON.stringify(v)}`);
    }
    return this.fail(`expected an integer or a ${e.name} name, got ${describe(v)}`);
  }

  private integer(v: unknown, min: bigint, max: bigint): bigint {
    let n: bigint;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) this.fail(`expected an integer, got ${v}`);
      n = BigInt(v);
    } else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) {
      n = BigInt(v.trim());
    } else {
      return this.fail(`expected an integer (number or decimal string), got ${describe(v)}`);
    }
    if (n < min || n > max) this.fail(`integer ${n} out of range [${min}, ${max}]`);
    return n;
  }

  private double(v: unknown): number {
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      const t = v.trim();
      if (t !== '' && Number.isFinite(Number(t))) return Number(t);
    }
    return this.fail(`expected a number, got ${describe(v)}`);
  }

  private hexBytes(v: unknown): Uint8Array {
    if (typeof v !== 'string') this.fail(`expected a hex string, got ${describe(v)}`);
    const bytes = hexToBytes(v);
    if (!bytes) this.fail(`expected a hex string, got ${JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v)}`);
    return bytes;
  }

  private base64Bytes(v: unknown): Uint8Array {
    if (typeof v !== 'string') this.fail(`expected a base64 string, got ${describe(v)}`);
    if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(v)) this.fail('expected a base64 string');
    return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * otlpJsonToProtobuf converts an OTLP/JSON ExportTraceServiceRequest or ExportLogsServiceRequest to its
 * protobuf encoding. Keys may be lowerCamelCase or snake_case; trace/span ids are hex; enums integers or
 * names; 64-bit integers strings or numbers; other bytes base64; unknown keys are ignored.
 * @throws OtlpDecodeError for invalid JSON or a document that does not fit the schema (with its JSON path).
 */
export function otlpJsonToProtobuf(text: string, kind: OtlpSignal): Uint8Array {
  const type = requestType(kind);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const obj = new JsonReader().message(type, doc, 0);
  return type.encode(obj).finish();
}

// ---------------------------------------------------------------------------------------------------
// protobuf -> JSON

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function jsonNumber(n: number): Json {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return n;
}

function scalarToJson(field: protobuf.Field, v: unknown): Json {
  switch (field.type) {
    case 'bytes': {
      const b = v as Uint8Array;
      return HEX_ID_FIELDS.has(field.name)
        ? hexOf(b, 0, b.length)
        : Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
    }
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return longToBigInt(v as Parameters<typeof longToBigInt>[0], false).toString();
    case 'uint64':
    case 'fixed64':
      return longToBigInt(v as Parameters<typeof longToBigInt>[0], true).toString();
    case 'double':
    case 'float':
      return jsonNumber(v as number);
    default:
      return v as Json;
  }
}

function isDefault(field: protobuf.Field, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (field.partOf) return false; // oneof members are present when set, even with default values
  if (field.repeated) return (v as unknown[]).length === 0;
  if (isMessage(field)) return false;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'number') return v === 0 && !Object.is(v, -0);
  if (typeof v === 'boolean') return !v;
  if (v instanceof Uint8Array || Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object' && 'low' in v && 'high' in v)
    return (v as { low: number }).low === 0 && (v as { high: number }).high === 0;
  return false;
}

function messageToJson(type: protobuf.Type, msg: Record<string, unknown>): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const field of type.fieldsArray) {
    if (field.partOf && !Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const v = msg[field.name];
    if (isDefault(field, v)) continue;
    const key = camel(field.name);
    const one = (x: unknown): Json =>
      isMessage(field)
        ? messageToJson(field.resolvedType as protobuf.Type, x as Record<string, unknown>)
        : scalarToJson(field, x);
    out[key] = field.repeated ? (v as unknown[]).map(one) : one(v);
  }
  return out;
}

/**
 * protobufToOtlpJson renders an encoded ExportTraceServiceRequest or ExportLogsServiceRequest as OTLP/JSON
 * (lowerCamelCase keys, hex ids, integer enums, 64-bit integers as strings, default values omitted).
 * @throws OtlpDecodeError when the bytes do not decode.
 */
export function protobufToOtlpJson(bytes: Uint8Array, kind: OtlpSignal): string {
  const type = requestType(kind);
  let msg: protobuf.Message;
  try {
    msg = type.decode(bytes);
  } catch (err) {
    throw new OtlpDecodeError(`malformed ${type.name}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return JSON.stringify(messageToJson(type, msg as unknown as Record<string, unknown>));
}

/**
 * messageToOtlpJson renders any decoded message of the schema (e.g. an ExportTraceServiceResponse) as
 * OTLP/JSON text, with the same rules as protobufToOtlpJson.
 */
export function messageToOtlpJson(type: protobuf.Type, message: Record<string, unknown>): string {
  return JSON.stringify(messageToJson(type, message));
}
