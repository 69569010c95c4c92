// Unit tests of the otlp receiver's gRPC transport with a fake downstream: raw-bytes Export calls,
// INVALID_ARGUMENT, RESOURCE_EXHAUSTED (also for compressed bombs), UNAUTHENTICATED, UNAVAILABLE with
// RetryInfo in grpc-status-details-bin, partial success, and UNIMPLEMENTED logs without a logs pipeline.

import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { BackpressureError, PermanentError } from '../../../pipeline/sdk/errors';
import {
  encodeTraces,
  LOGS_SERVICE_EXPORT_PATH,
  otlpTypes,
  TRACE_SERVICE_EXPORT_PATH,
  type OtlpSpan,
} from '../../../pipeline/sdk/otlp';
import { makeFixture, type Fixture } from '../../pipeline/sdk/otlp/fixtures';
import { deferred, grpcExport, startReceiver, type Started } from './helpers';

function span(traceId: string, spanId: string): OtlpSpan {
  return {
    traceId,
    spanId,
    parentSpanId: '',
    traceState: '',
    flags: 1,
    name: 'op',
    kind: 2,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
  };
}

async function expectStatus(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    expect((err as grpc.ServiceError).code, (err as Error).message).to.equal(code);
    return err as grpc.ServiceError;
  }
  return expect.fail(`expected gRPC status ${grpc.status[code]}`);
}

describe('receivers/otlp gRPC', () => {
  let fx: Fixture;
  let s: Started;

  before(async () => {
    fx = await makeFixture({ seed: 4, traces: 5 });
  });
  beforeEach(async () => {
    s = await startReceiver({ http: { endpoint: '' } });
  });
  afterEach(async () => {
    await s.receiver.shutdown();
  });

  it('accepts Export with raw protobuf bytes, splits by trace id and answers an empty response', async () => {
    const { response } = await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request);
    expect(response.length).to.equal(0);
    expect(s.next.traceBatches).to.have.length(1);
    expect(s.next.traceBatches[0].chunks.reduce((n, c) => n + c.spanCount, 0)).to.equal(fx.spans.length);
  });

  it('accepts gzip-compressed calls', async () => {
    await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, {
      channelOptions: { 'grpc.default_compression_algorithm': 2 },
    });
    expect(s.next.traceBatches[0].chunks.reduce((n, c) => n + c.spanCount, 0)).to.equal(fx.spans.length);
  });

  it('reports invalid ids as partial_success', async () => {
    const body = encodeTraces([
      {
        resource: { attributes: [], droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: [
              span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331'),
              span('0af7651916cd43dd', 'b7ad6b7169203331'),
            ],
          },
        ],
      },
    ]);
    const { response } = await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, body);
    const T = otlpTypes().ExportTraceServiceResponse;
    expect(T.toObject(T.decode(response), { longs: String })).to.deep.equal({
      partial_success: {
        rejected_spans: '1',
        error_message: '1 span(s) with an invalid trace_id (must be 16 bytes, not all zero)',
      },
    });
  });

  it('INVALID_ARGUMENT for malformed bytes and for permanent downstream errors', async () => {
    const err = await expectStatus(
      grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, Buffer.from('garbage garbage garbage')),
      grpc.status.INVALID_ARGUMENT,
    );
    expect(err.details).to.match(/malformed OTLP protobuf/);
    expect(s.next.traceBatches).to.have.length(0);
    s.next.behaviour = new PermanentError('ERR_TEST', 'no thanks');
    await expectStatus(grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request), grpc.status.INVALID_ARGUMENT);
  });

  it('UNAVAILABLE with RetryInfo for backpressure', async () => {
    s.next.behaviour = new BackpressureError('sampler buffer full', 1500);
    const err = await expectStatus(
      grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request),
      grpc.status.UNAVAILABLE,
    );
    const raw = err.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(Buffer.isBuffer(raw)).to.equal(true);
    const t = otlpTypes();
    const st = t.RpcStatus.toObject(t.RpcStatus.decode(raw)) as {
      code: number;
      details: { type_url: string; value: Uint8Array }[];
    };
    expect(st.code).to.equal(14);
    expect(st.details[0].type_url).to.equal('type.googleapis.com/google.rpc.RetryInfo');
    const ri = t.RetryInfo.toObject(t.RetryInfo.decode(st.details[0].value), { longs: Number }) as {
      retry_delay: { seconds: number; nanos: number };
    };
    expect(ri.retry_delay).to.deep.equal({ seconds: 1, nanos: 500_000_000 });
  });

  it('UNAVAILABLE when over the in-flight budget; answers only after downstream settles', async () => {
    await s.receiver.shutdown();
    const size = fx.request.length;
    s = await startReceiver({
      http: { endpoint: '' },
      grpc: { max_recv_msg_size: size + 10 },
      max_inflight_bytes: size + 10,
    });
    const gate = deferred();
    s.next.behaviour = () => gate.promise;
    let answered = false;
    const first = grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).to.equal(false);
    await expectStatus(grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request), grpc.status.UNAVAILABLE);
    gate.resolve();
    await first;
    expect(answered).to.equal(true);
  });

  it('RESOURCE_EXHAUSTED for oversize messages, also when they only grow after decompression', async () => {
    await s.receiver.shutdown();
    s = await startReceiver({ http: { endpoint: '' }, grpc: { max_recv_msg_size: '64KiB' } });
    await expectStatus(
      grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, Buffer.alloc(100 * 1024, 1)),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    // 8 MiB of zeros, gzip-compressed by the client to a few KiB.
    await expectStatus(
      grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, Buffer.alloc(8 * 1024 * 1024), {
        channelOptions: { 'grpc.default_compression_algorithm': 2, 'grpc.max_send_message_length': -1 },
      }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    expect(s.next.traceBatches).to.have.length(0);
  });

  it('UNAUTHENTICATED without or with a wrong token', async () => {
    await s.receiver.shutdown();
    process.env.TUSK_TEST_GRPC_TOKENS = 'sesame';
    try {
      s = await startReceiver({
        http: { endpoint: '' },
        grpc: { auth: { bearer_tokens_env: 'TUSK_TEST_GRPC_TOKENS' } },
      });
    } finally {
      delete process.env.TUSK_TEST_GRPC_TOKENS;
    }
    await expectStatus(grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request), grpc.status.UNAUTHENTICATED);
    await expectStatus(
      grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, { metadata: { authorization: 'Bearer open' } }),
      grpc.status.UNAUTHENTICATED,
    );
    expect(s.next.traceBatches).to.have.length(0);
    await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, {
      metadata: { authorization: 'Bearer sesame' },
    });
    expect(s.next.traceBatches).to.have.length(1);
  });

  it('serves LogsService only when a logs pipeline uses the receiver', async () => {
    await grpcExport(s.grpcTarget, LOGS_SERVICE_EXPORT_PATH, new Uint8Array(0));
    await s.receiver.shutdown();
    s = await startReceiver({ http: { endpoint: '' } }, { logs: false });
    await expectStatus(
      grpcExport(s.grpcTarget, LOGS_SERVICE_EXPORT_PATH, new Uint8Array(0)),
      grpc.status.UNIMPLEMENTED,
    );
  });
});
