// Jaeger's thrift model and its encoding, taken from the packages @opentelemetry/exporter-jaeger is built on:
// jaeger-client's IDL files (jaeger.thrift, agent.thrift) compiled by thriftrw, the library that writes
// jaeger-client's bytes. Only thriftrw's documented surface is used (`new Thrift`, `Struct.toBufferResult`,
// `rw.byteLength`, a function's `argumentsMessageRW`). jaeger-client exports neither its IDL nor thriftrw, so
// both are resolved from the installed packages, the IDL by file path: that path is the one seam, checked
// against the packages' major versions when the exporter is created (loadJaegerThrift), with a clear error.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { PipelineError } from '../../pipeline/sdk/errors';
import { ExporterErrorCode, ExportError } from '../../pipeline/sdk/exporterhelper/errors';

/** The jaeger-client major whose IDL files sit where this file reads them. */
const JAEGER_CLIENT_MAJOR = 3;
/** The thriftrw major whose API this file uses. */
const THRIFTRW_MAJOR = 3;
const JAEGER_IDL = 'dist/src/jaeger-idl/thrift/jaeger.thrift';
const AGENT_IDL = 'dist/src/thriftrw-idl/agent.thrift';

/** ThriftTagType is the thrift TagType enum, by name. */
export type ThriftTagType = 'STRING' | 'DOUBLE' | 'BOOL' | 'LONG' | 'BINARY';

/** ThriftTag is a jaeger.thrift Tag. Every field is set, as jaeger-client sets them (unused ones zero). */
export interface ThriftTag {
  readonly key: string;
  readonly vType: ThriftTagType;
  readonly vStr: string;
  readonly vDouble: number;
  readonly vBool: boolean;
  readonly vLong: Buffer;
  readonly vBinary: Buffer;
}

/** ThriftLog is a jaeger.thrift Log: a timestamp in µs (int64 big-endian) and its fields. */
export interface ThriftLog {
  readonly timestamp: Buffer;
  readonly fields: ThriftTag[];
}

/** ThriftSpanRef is a jaeger.thrift SpanRef (ids as 8-byte big-endian buffers). */
export interface ThriftSpanRef {
  readonly refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  readonly traceIdLow: Buffer;
  readonly traceIdHigh: Buffer;
  readonly spanId: Buffer;
}

/** ThriftSpan is a jaeger.thrift Span: ids and times (µs) as 8-byte big-endian buffers. */
export interface ThriftSpan {
  readonly traceIdLow: Buffer;
  readonly traceIdHigh: Buffer;
  readonly spanId: Buffer;
  readonly parentSpanId: Buffer;
  readonly operationName: string;
  readonly references: ThriftSpanRef[];
  readonly flags: number;
  readonly startTime: Buffer;
  readonly duration: Buffer;
  readonly tags: ThriftTag[];
  readonly logs: ThriftLog[];
}

/** ThriftProcess is a jaeger.thrift Process: the service name and the process tags. */
export interface ThriftProcess {
  readonly serviceName: string;
  readonly tags: ThriftTag[];
}

/** ThriftBatch is a jaeger.thrift Batch: what one HTTP request (or one UDP datagram) carries. */
export interface ThriftBatch {
  readonly process: ThriftProcess;
  readonly spans: ThriftSpan[];
}

/** The parts of thriftrw's results this file reads. */
interface BufferResult {
  err: Error | null;
  value: Buffer;
}
interface LengthResult {
  err: Error | null;
  length: number;
}
interface ThriftRw {
  byteLength(value: unknown): LengthResult;
}
interface ThriftStruct {
  rw: ThriftRw;
  toBufferResult(value: unknown): BufferResult;
}
interface JaegerModel {
  Batch: ThriftStruct;
  Span: ThriftStruct;
}
interface AgentModel {
  Agent: {
    emitBatch: {
      ArgumentsMessage: new (m: unknown) => unknown;
      argumentsMessageRW: ThriftRw & { toBuffer(v: unknown): BufferResult };
    };
  };
}
type ThriftCtor = new (o: Record<string, unknown>) => unknown;

/** JaegerThrift encodes Jaeger thrift batches: the collector's HTTP body and the agent's UDP datagram. */
export class JaegerThrift {
  private _agent?: AgentModel;

  constructor(
    private readonly _jaeger: JaegerModel,
    private readonly _loadAgent: () => AgentModel,
  ) {}

  /** encodeBatch writes a Batch in thrift's binary protocol (the body of a POST to /api/traces). */
  encodeBatch(batch: ThriftBatch): Buffer {
    return valueOf(this._jaeger.Batch.toBufferResult(batch));
  }

  /** spanLength is the encoded size of one span, in bytes. */
  spanLength(span: ThriftSpan): number {
    return lengthOf(this._jaeger.Span.rw.byteLength(span));
  }

  /** encodeEmitBatch writes the agent's one-way `emitBatch(batch)` message (one UDP datagram). */
  encodeEmitBatch(batch: ThriftBatch): Buffer {
    const fn = this._agentModel().Agent.emitBatch;
    return valueOf(fn.argumentsMessageRW.toBuffer(this._emitBatchMessage(batch)));
  }

  /** emitBatchOverhead is the size of an `emitBatch` message of `process` with no span, in bytes. */
  emitBatchOverhead(process: ThriftProcess): number {
    const fn = this._agentModel().Agent.emitBatch;
    return lengthOf(fn.argumentsMessageRW.byteLength(this._emitBatchMessage({ process, spans: [] })));
  }

  private _emitBatchMessage(batch: ThriftBatch): unknown {
    return new (this._agentModel().Agent.emitBatch.ArgumentsMessage)({ version: 1, id: 0, body: { batch } });
  }

  private _agentModel(): AgentModel {
    return (this._agent ??= this._loadAgent());
  }
}

function valueOf(r: BufferResult): Buffer {
  if (r.err)
    throw new ExportError(ExporterErrorCode.BAD_DATA, `thrift encoding failed: ${r.err.message}`, {
      cause: r.err,
      retriable: false,
    });
  return r.value;
}

function lengthOf(r: LengthResult): number {
  if (r.err)
    throw new ExportError(ExporterErrorCode.BAD_DATA, `thrift encoding failed: ${r.err.message}`, {
      cause: r.err,
      retriable: false,
    });
  return r.length;
}

/** JAEGER_THRIFT_ERROR_CODE is the code of the error raised when the installed thrift packages do not fit. */
export const JAEGER_THRIFT_ERROR_CODE = 'ERR_EXPORTER_JAEGER_THRIFT';

/** The installed package a dependency resolves to: its folder and its version. */
interface InstalledPackage {
  readonly dir: string;
  readonly version: string;
  readonly require: NodeJS.Require;
}

function installed(name: string, from: NodeJS.Require): InstalledPackage {
  const manifest = from.resolve(`${name}/package.json`);
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string };
  return { dir: path.dirname(manifest), version, require: createRequire(manifest) };
}

/** expectMajor throws a permanent ERR_EXPORTER_JAEGER_THRIFT error unless `version` is `major`.x. */
export function expectMajor(name: string, version: string, major: number, dir: string): void {
  if (Number(version.split('.')[0]) !== major) {
    throw new PipelineError(
      JAEGER_THRIFT_ERROR_CODE,
      `the jaeger exporter needs ${name} ${major}.x (a dependency of @opentelemetry/exporter-jaeger), ` +
        `found ${version} in ${dir}`,
      { retriable: false },
    );
  }
}

/**
 * loadJaegerThrift compiles Jaeger's IDL with thriftrw, both as installed under @opentelemetry/exporter-jaeger
 * (jaeger-client 3.x, thriftrw 3.x). Throws ERR_EXPORTER_JAEGER_THRIFT when an installed major differs or the
 * IDL is not where jaeger-client 3 keeps it. The agent's IDL (UDP) is compiled on first use.
 */
export function loadJaegerThrift(): JaegerThrift {
  const exporterJaeger = createRequire(require.resolve('@opentelemetry/exporter-jaeger'));
  const client = installed('jaeger-client', exporterJaeger);
  expectMajor('jaeger-client', client.version, JAEGER_CLIENT_MAJOR, client.dir);
  const thriftrw = installed('thriftrw', client.require);
  expectMajor('thriftrw', thriftrw.version, THRIFTRW_MAJOR, thriftrw.dir);
  const { Thrift } = thriftrw.require('thriftrw') as { Thrift: ThriftCtor };
  const idl = path.join(client.dir, JAEGER_IDL);
  if (!fs.existsSync(idl)) {
    throw new PipelineError(
      JAEGER_THRIFT_ERROR_CODE,
      `the jaeger exporter found no Jaeger IDL at ${idl} (jaeger-client ${client.version})`,
      { retriable: false },
    );
  }
  const jaeger = new Thrift({ source: fs.readFileSync(idl, 'ascii'), allowOptionalArguments: true }) as JaegerModel;
  const agentIdl = path.join(client.dir, AGENT_IDL);
  const agent = () =>
    new Thrift({ entryPoint: agentIdl, allowOptionalArguments: true, allowFilesystemAccess: true }) as AgentModel;
  return new JaegerThrift(jaeger, agent);
}
