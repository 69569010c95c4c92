// Tests of full OTLP decoding/encoding: SDK-encoded requests decode to exactly the SDK's spans, and our
// encoder round-trips every field (all AnyValue types, entity refs, dropped counts, flags, logs).

import { expect } from 'chai';
import {
  decodeLogs,
  decodeTraces,
  encodeLogs,
  encodeTraces,
  anyValueToJs,
  type OtlpResourceLogs,
  type OtlpResourceSpans,
} from '../../../../pipeline/sdk/otlp/decode';
import { OtlpDecodeError } from '../../../../pipeline/sdk/otlp/errors';
import { otlpTypes } from '../../../../pipeline/sdk/otlp/schema';
import { expectSameSpans } from './expect-spans';
import { makeFixture } from './fixtures';

function everyValueRequest(): OtlpResourceSpans[] {
  return [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { type: 'string', value: 'svc' } }],
        droppedAttributesCount: 3,
        entityRefs: [
          {
            schemaUrl: 'https://example.com/s',
            type: 'service',
            idKeys: ['service.name'],
            descriptionKeys: ['service.version'],
          },
        ],
      },
      schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      scopeSpans: [
        {
          scope: {
            name: 'lib',
            version: '2.0',
            attributes: [{ key: 's', value: { type: 'bool', value: false } }],
            droppedAttributesCount: 1,
          },
          schemaUrl: 'https://opentelemetry.io/schemas/1.20.0',
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              parentSpanId: '00f067aa0ba902b7',
              traceState: 'rojo=00f067aa0ba902b7',
              flags: 0x301,
              name: 'GET /x',
              kind: 3,
              startTimeUnixNano: 18_446_744_073_709_551_615n,
              endTimeUnixNano: 1n,
              attributes: [
                { key: 'str', value: { type: 'string', value: '' } },
                { key: 'int', value: { type: 'int', value: -9_223_372_036_854_775_808n } },
                { key: 'dbl', value: { type: 'double', value: -0.5 } },
                { key: 'bool', value: { type: 'bool', value: true } },
                { key: 'bytes', value: { type: 'bytes', value: new Uint8Array([0, 1, 2, 255]) } },
                {
                  key: 'arr',
                  value: {
                    type: 'array',
                    value: [{ type: 'int', value: 1n }, { type: 'string', value: 'x' }, { type: 'empty' }],
                  },
                },
                {
                  key: 'kv',
                  value: {
                    type: 'kvlist',
                    value: [
                      {
                        key: 'nested',
                        value: { type: 'kvlist', value: [{ key: 'deep', value: { type: 'double', value: 1e300 } }] },
                      },
                    ],
                  },
                },
                { key: 'empty', value: { type: 'empty' } },
              ],
              droppedAttributesCount: 2,
              events: [
                {
                  timeUnixNano: 5n,
                  name: 'e',
                  attributes: [{ key: 'a', value: { type: 'int', value: 7n } }],
                  droppedAttributesCount: 4,
                },
              ],
              droppedEventsCount: 6,
              links: [
                {
                  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                  spanId: '00f067aa0ba902b7',
                  traceState: 'x=1',
                  attributes: [],
                  droppedAttributesCount: 8,
                  flags: 0x101,
                },
              ],
              droppedLinksCount: 9,
              status: { code: 2, message: 'failed' },
            },
          ],
        },
      ],
    },
  ];
}

describe('pipeline/sdk/otlp decode', () => {
  it('decodes SDK-encoded requests to exactly the SDK spans (3 fixtures)', async () => {
    for (const seed of [11, 12, 13]) {
      const fx = await makeFixture({ seed, traces: 12, resources: 3 });
      expectSameSpans(decodeTraces(fx.request), fx.spans);
    }
  });

  it('round-trips every field and value type through encodeTraces', () => {
    const rss = everyValueRequest();
    const bytes = encodeTraces(rss);
    expect(decodeTraces(bytes)).to.deep.equal(rss);
    expect(anyValueToJs(rss[0].scopeSpans[0].spans[0].attributes[6].value)).to.deep.equal({ nested: { deep: 1e300 } });
  });

  it('re-encodes SDK requests to the same content', async () => {
    const fx = await makeFixture({ seed: 5, traces: 8 });
    const decoded = decodeTraces(fx.request);
    const T = otlpTypes().ExportTraceServiceRequest;
    const ours = encodeTraces(decoded);
    expect(decodeTraces(ours)).to.deep.equal(decoded);
    // protobufjs reads both encodings to the same message (ours omits proto3 defaults the SDK writes).
    const opts = { longs: String, bytes: String, defaults: true };
    expect(T.toObject(T.decode(ours), opts)).to.deep.equal(T.toObject(T.decode(fx.request), opts));
  });

  it('round-trips logs', () => {
    const logs: OtlpResourceLogs[] = [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { type: 'string', value: 'api' } }],
          droppedAttributesCount: 0,
          entityRefs: [],
        },
        schemaUrl: '',
        scopeLogs: [
          {
            scope: { name: 'logger', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: 'u',
            logRecords: [
              {
                timeUnixNano: 1_700_000_000_000_000_001n,
                observedTimeUnixNano: 1_700_000_000_000_000_002n,
                severityNumber: 17,
                severityText: 'ERROR',
                body: { type: 'kvlist', value: [{ key: 'msg', value: { type: 'string', value: 'boom' } }] },
                attributes: [{ key: 'code', value: { type: 'int', value: 500n } }],
                droppedAttributesCount: 1,
                flags: 1,
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                eventName: 'http.error',
              },
              {
                timeUnixNano: 0n,
                observedTimeUnixNano: 3n,
                severityNumber: 0,
                severityText: '',
                body: { type: 'empty' },
                attributes: [],
                droppedAttributesCount: 0,
                flags: 0,
                traceId: '',
                spanId: '',
                eventName: '',
              },
            ],
          },
        ],
      },
    ];
    expect(decodeLogs(encodeLogs(logs))).to.deep.equal(logs);
  });

  it('throws OtlpDecodeError for malformed bytes', () => {
    const bytes = encodeTraces(everyValueRequest());
    for (const cut of [1, 10, 50, bytes.length - 1]) {
      expect(() => decodeTraces(bytes.subarray(0, cut))).to.throw(OtlpDecodeError, /truncated|malformed/);
      expect(() => decodeLogs(bytes.subarray(0, cut))).to.throw(OtlpDecodeError);
    }
  });

  it('rejects non-hex ids when encoding', () => {
    const rss = everyValueRequest();
    rss[0].scopeSpans[0].spans[0].traceId = 'not-hex';
    expect(() => encodeTraces(rss)).to.throw(TypeError, /traceId must be a hex string/);
  });
});
