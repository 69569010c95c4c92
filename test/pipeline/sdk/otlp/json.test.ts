// Tests of OTLP/JSON conversion against the official SDK JSON serializer, the OTLP/JSON spellings the
// spec allows (snake_case, enum names, int64 as numbers, base64 bytes, unknown keys) and error paths.

import { expect } from 'chai';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeLogs, decodeTraces } from '../../../../pipeline/sdk/otlp/decode';
import { OtlpDecodeError } from '../../../../pipeline/sdk/otlp/errors';
import { otlpJsonToProtobuf, protobufToOtlpJson } from '../../../../pipeline/sdk/otlp/json';
import { makeFixture } from './fixtures';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

function expectJsonError(text: string, where: RegExp, what: RegExp, kind: 'traces' | 'logs' = 'traces'): void {
  try {
    otlpJsonToProtobuf(text, kind);
  } catch (err) {
    expect(err).to.be.instanceOf(OtlpDecodeError);
    const e = err as OtlpDecodeError;
    expect(e.code).to.equal('ERR_OTLP_DECODE');
    expect(e.where ?? '').to.match(where);
    expect(e.message).to.match(what);
    return;
  }
  expect.fail(`expected an OtlpDecodeError for ${text}`);
}

describe('pipeline/sdk/otlp json', () => {
  it('converts the SDK JSON serializer output to the same spans as the SDK protobuf serializer (3 fixtures)', async () => {
    for (const seed of [21, 22, 23]) {
      const fx = await makeFixture({ seed, traces: 10, resources: 2 });
      const json = Buffer.from(JsonTraceSerializer.serializeRequest(fx.spans)!).toString('utf8');
      expect(decodeTraces(otlpJsonToProtobuf(json, 'traces'))).to.deep.equal(decodeTraces(fx.request));
    }
  });

  it('renders protobuf as OTLP/JSON that converts back losslessly', async () => {
    const fx = await makeFixture({ seed: 24, traces: 6 });
    const text = protobufToOtlpJson(fx.request, 'traces');
    const doc = JSON.parse(text);
    const span = doc.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(span.spanId).to.match(/^[0-9a-f]{16}$/);
    expect(span.startTimeUnixNano)
      .to.be.a('string')
      .and.match(/^\d{19}$/);
    expect(span.kind).to.be.a('number');
    expect(span).to.not.have.property('trace_id');
    expect(decodeTraces(otlpJsonToProtobuf(text, 'traces'))).to.deep.equal(decodeTraces(fx.request));
  });

  it('accepts snake_case keys, enum names, int64 numbers, base64 bytes, nulls and unknown keys', () => {
    const text = JSON.stringify({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'svc' } }], unknownThing: { a: 1 } },
          scope_spans: [
            {
              scope: { name: 'lib' },
              spans: [
                {
                  trace_id: TRACE.toUpperCase(),
                  span_id: SPAN,
                  parent_span_id: '',
                  name: 'op',
                  kind: 'SPAN_KIND_SERVER',
                  start_time_unix_nano: 1_700_000_000_000_000,
                  endTimeUnixNano: '1700000000000001000',
                  flags: 1,
                  attributes: [
                    { key: 'b', value: { bytesValue: 'AAH/' } },
                    { key: 'i', value: { intValue: '-42' } },
                    { key: 'd', value: { doubleValue: 'NaN' } },
                    { key: 'a', value: { arrayValue: { values: [{ boolValue: true }, { intValue: 3 }] } } },
                    { key: 'k', value: { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }] } } },
                  ],
                  status: { code: 'STATUS_CODE_ERROR', message: 'bad' },
                  events: null,
                  futureField: [1, 2, 3],
                },
              ],
            },
          ],
        },
      ],
      extra: true,
    });
    const [rs] = decodeTraces(otlpJsonToProtobuf(text, 'traces'));
    const span = rs.scopeSpans[0].spans[0];
    expect(span.traceId).to.equal(TRACE);
    expect(span.kind).to.equal(2);
    expect(span.startTimeUnixNano).to.equal(1_700_000_000_000_000n);
    expect(span.endTimeUnixNano).to.equal(1_700_000_000_000_001_000n);
    expect(span.status).to.deep.equal({ code: 2, message: 'bad' });
    expect(span.attributes[0].value).to.deep.equal({ type: 'bytes', value: new Uint8Array([0, 1, 255]) });
    expect(span.attributes[1].value).to.deep.equal({ type: 'int', value: -42n });
    expect(span.attributes[2].value.type).to.equal('double');
    expect(Number.isNaN((span.attributes[2].value as { value: number }).value)).to.equal(true);
    expect(span.attributes[3].value).to.deep.equal({
      type: 'array',
      value: [
        { type: 'bool', value: true },
        { type: 'int', value: 3n },
      ],
    });
    expect(span.attributes[4].value).to.deep.equal({
      type: 'kvlist',
      value: [{ key: 'x', value: { type: 'string', value: 'y' } }],
    });
    expect(rs.resource.attributes[0].value).to.deep.equal({ type: 'string', value: 'svc' });
  });

  it('converts OTLP/JSON logs with hex ids and severity names', () => {
    const text = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: '5',
                  severityNumber: 'SEVERITY_NUMBER_WARN',
                  severityText: 'WARN',
                  body: { stringValue: 'disk' },
                  traceId: TRACE,
                  spanId: SPAN,
                },
              ],
            },
          ],
        },
      ],
    });
    const bytes = otlpJsonToProtobuf(text, 'logs');
    const rec = decodeLogs(bytes)[0].scopeLogs[0].logRecords[0];
    expect(rec).to.include({
      timeUnixNano: 5n,
      severityNumber: 13,
      severityText: 'WARN',
      traceId: TRACE,
      spanId: SPAN,
    });
    expect(JSON.parse(protobufToOtlpJson(bytes, 'logs')).resourceLogs[0].scopeLogs[0].logRecords[0]).to.deep.equal({
      timeUnixNano: '5',
      severityNumber: 13,
      severityText: 'WARN',
      body: { stringValue: 'disk' },
      traceId: TRACE,
      spanId: SPAN,
    });
  });

  it('rejects invalid JSON and wrong shapes, saying where', () => {
    expectJsonError('{"resourceSpans": [', /^$/, /invalid JSON/);
    expectJsonError('[]', /^\$$/, /expected an object/);
    expectJsonError('{"resourceSpans": {}}', /^resourceSpans$/, /expected an array/);
    expectJsonError(
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}',
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId$/,
      /hex/,
    );
    expectJsonError(
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{},{"startTimeUnixNano":"12a"}]}]}]}',
      /spans\[1\]\.startTimeUnixNano$/,
      /integer/,
    );
    expectJsonError('{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"BOGUS"}]}]}]}', /kind$/, /unknown SpanKind/);
    expectJsonError('{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5}]}]}]}', /name$/, /expected a string/);
    expectJsonError(
      '{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"stringValue":"a","intValue":1}}]}}]}',
      /attributes\[0\]\.value\.intValue$/,
      /only one/,
    );
    expectJsonError(
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"droppedAttributesCount":-1}]}]}]}',
      /droppedAttributesCount$/,
      /out of range/,
    );
    expectJsonError(
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"***"}}]}]}]}',
      /logRecords\[0\]\.body\.bytesValue$/,
      /base64/,
      'logs',
    );
  });
});
