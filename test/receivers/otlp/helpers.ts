// Test helpers for the otlp receiver: a fake downstream consumer that records batches and can be told
// to hang or reject, a receiver started on ephemeral loopback ports, and small HTTP/gRPC clients.

import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { LogsConsumer, ReceiverNext, TracesConsumer } from '../../../pipeline/sdk/component';
import type { LogBatch, TraceBatch } from '../../../pipeline/sdk/trace-batch';
import { factory } from '../../../receivers/otlp/factory';
import type { OtlpReceiver } from '../../../receivers/otlp/receiver';

/** Behaviour of the fake consumer for the next batch: resolve, reject with an error, or a custom function. */
export type Behaviour = 'ok' | Error | ((batch: unknown) => Promise<void>);

/** FakeNext records what reaches downstream. */
export class FakeNext implements TracesConsumer, LogsConsumer {
  readonly capabilities = { mutatesData: false };
  readonly traceBatches: TraceBatch[] = [];
  readonly logBatches: LogBatch[] = [];
  behaviour: Behaviour = 'ok';

  async consumeTraces(batch: TraceBatch): Promise<void> {
    this.traceBatches.push(batch);
    return this._act(batch);
  }

  async consumeLogs(batch: LogBatch): Promise<void> {
    this.logBatches.push(batch);
    return this._act(batch);
  }

  private _act(batch: unknown): Promise<void> {
    const b = this.behaviour;
    if (b === 'ok') return Promise.resolve();
    if (b instanceof Error) return Promise.reject(b);
    return b(batch);
  }
}

/** Deferred is a promise with its resolve/reject exposed. */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface Started {
  receiver: OtlpReceiver;
  next: FakeNext;
  registry: Registry;
  httpBase: string;
  grpcTarget: string;
}

/** startReceiver starts an otlp receiver on 127.0.0.1:0 (both transports unless disabled in `raw`). */
export async function startReceiver(
  raw: Record<string, unknown> = {},
  opts: { logs?: boolean } = {},
): Promise<Started> {
  const next = new FakeNext();
  const registry = new Registry();
  const rawHttp = (raw.http ?? {}) as Record<string, unknown>;
  const rawGrpc = (raw.grpc ?? {}) as Record<string, unknown>;
  const config = factory.configSchema.parse({
    ...raw,
    http: typeof rawHttp === 'string' ? rawHttp : { endpoint: '127.0.0.1:0', ...rawHttp },
    grpc: typeof rawGrpc === 'string' ? rawGrpc : { endpoint: '127.0.0.1:0', ...rawGrpc },
  });
  const receiverNext: ReceiverNext = opts.logs === false ? { traces: next } : { traces: next, logs: next };
  const receiver = factory.create(
    { id: 'receivers.otlp', name: 'otlp', logger: pino({ level: 'silent' }), metrics: registry },
    config,
    receiverNext,
  ) as OtlpReceiver;
  await receiver.start({ reportFatalError: () => undefined });
  const a = receiver.addresses();
  return { receiver, next, registry, httpBase: a.http ? `http://${a.http}` : '', grpcTarget: a.grpc ?? '' };
}

/** post sends an HTTP POST and returns status, headers and body. */
export async function post(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const identity = (b: Buffer): Buffer => b;

/** grpcExport calls an OTLP Export method with raw bytes; resolves with the response bytes or rejects with the ServiceError. */
export function grpcExport(
  target: string,
  path: string,
  body: Uint8Array,
  opts: {
    metadata?: Record<string, string>;
    channelOptions?: grpc.ChannelOptions;
    credentials?: grpc.ChannelCredentials;
  } = {},
): Promise<{ response: Buffer }> {
  const client = new grpc.Client(
    target,
    opts.credentials ?? grpc.credentials.createInsecure(),
    opts.channelOptions ?? {},
  );
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  return new Promise<{ response: Buffer }>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(body),
      md,
      { deadline: Date.now() + 15000 },
      (err, value) => {
        client.close();
        if (err) reject(err);
        else resolve({ response: value ?? Buffer.alloc(0) });
      },
    );
  });
}
