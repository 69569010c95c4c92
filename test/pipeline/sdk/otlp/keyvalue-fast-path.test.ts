// The byte-level check of canonical KeyValues (wire.ts isCanonicalKeyValue), which the split uses for most
// attributes instead of the generic walk: it must never accept what the generic walk (validateMessage)
// refuses, and it must take the form SDKs write (else it would win nothing).

import { expect } from 'chai';
import { otlpTypes } from '../../../../pipeline/sdk/otlp/schema';
import { isCanonicalKeyValue, newReader, shape, validateMessage } from '../../../../pipeline/sdk/otlp/wire';
import { splitTracesByTraceId } from '../../../../pipeline/sdk/otlp';
import { rng } from '../../../helpers/random';

const KV = 'opentelemetry.proto.common.v1.KeyValue';

function encodeKeyValue(kv: Record<string, unknown>): Buffer {
  const t = otlpTypes().KeyValue;
  return Buffer.from(t.encode(t.fromObject(kv)).finish());
}

/** genericAccepts runs the generic walk over a KeyValue at depth 5 (as a span attribute). */
function genericAccepts(bytes: Uint8Array): boolean {
  const r = newReader(bytes);
  try {
    validateMessage(r, bytes.length, shape(KV), 5);
    return true;
  } catch {
    return false;
  }
}

const canonical = (b: Uint8Array) => isCanonicalKeyValue(b, 0, b.length);

const SCALARS: Record<string, unknown>[] = [
  { key: 'http.method', value: { string_value: 'GET' } },
  { key: 'db.statement', value: { string_value: 'SELECT * FROM orders WHERE id = ?'.repeat(8) } },
  { key: 'k'.repeat(200), value: { string_value: 'v'.repeat(16_000) } },
  { key: 'ok', value: { bool_value: true } },
  { key: 'ok', value: { bool_value: false } },
  { key: 'http.status_code', value: { int_value: 200 } },
  { key: 'neg', value: { int_value: -1 } },
  { key: 'big', value: { int_value: '9223372036854775807' } },
  { key: 'ratio', value: { double_value: 0.25 } },
  { key: 'blob', value: { bytes_value: Buffer.from([0xff, 0x00, 0x80, 0xc3]) } },
  { key: 'empty', value: { string_value: '' } },
  { key: '', value: { string_value: 'no key' } },
  { key: 'no value' },
];

describe('pipeline/sdk/otlp: canonical KeyValue fast path', () => {
  it('takes the scalar attributes SDKs write, and the generic walk accepts each of them', () => {
    const t = otlpTypes().KeyValue;
    for (const kv of SCALARS) {
      const bytes = encodeKeyValue(kv);
      const back = t.toObject(t.decode(bytes), { defaults: false }) as { value?: Record<string, unknown> };
      if (kv.value) expect(Object.keys(back.value ?? {}), 'the value is encoded').to.deep.equal(Object.keys(kv.value));
      expect(canonical(bytes), JSON.stringify(kv).slice(0, 80)).to.equal(true);
      expect(genericAccepts(bytes)).to.equal(true);
    }
  });

  it('leaves arrays, kvlists, non-ASCII text and unknown fields to the generic walk', () => {
    const others: Buffer[] = [
      encodeKeyValue({ key: 'a', value: { array_value: { values: [{ string_value: 'x' }] } } }),
      encodeKeyValue({ key: 'a', value: { kvlist_value: { values: [{ key: 'b', value: { int_value: 1 } }] } } }),
      encodeKeyValue({ key: 'ключ', value: { string_value: 'x' } }),
      encodeKeyValue({ key: 'a', value: { string_value: 'größe' } }),
      encodeKeyValue({ key: 'a', value: { string_value: 'v'.repeat(20_000) } }), // a 3-byte length
      Buffer.concat([encodeKeyValue({ key: 'a', value: { int_value: 1 } }), Buffer.from([0x18, 0x01])]), // field 3
      Buffer.concat([Buffer.from([0x12, 0x02, 0x18, 0x01]), Buffer.from([0x0a, 0x01, 0x61])]), // value first
    ];
    for (const b of others) {
      expect(canonical(b), b.toString('hex')).to.equal(false);
      expect(genericAccepts(b), b.toString('hex')).to.equal(true);
    }
  });

  it('never accepts a mutated KeyValue that the generic walk refuses (bounded fuzz)', () => {
    const next = rng(20261208);
    const seeds = SCALARS.slice(0, 12).map(encodeKeyValue);
    let stillCanonical = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(seeds[Math.floor(next() * seeds.length)]);
      let m: Buffer = b;
      const kind = Math.floor(next() * 4);
      if (kind === 0) m[Math.floor(next() * m.length)] = Math.floor(next() * 256);
      else if (kind === 1) m = m.subarray(0, Math.floor(next() * m.length));
      else if (kind === 2) m = Buffer.concat([m, Buffer.from([Math.floor(next() * 256)])]);
      else m[Math.floor(next() * Math.min(m.length, 6))] ^= 1 << Math.floor(next() * 8);
      const generic = genericAccepts(m);
      if (canonical(m)) {
        stillCanonical++;
        expect(generic, `accepted by the fast path, refused by the generic walk: ${m.toString('hex')}`).to.equal(true);
      }
      if (!generic) refused++;
    }
    expect(stillCanonical, 'mutations the fast path still takes').to.be.greaterThan(1000);
    expect(refused, 'mutations the generic walk refuses').to.be.greaterThan(1000);
  });

  it('a span attribute value that is not valid UTF-8 still rejects the span, naming the field', () => {
    const t = otlpTypes().ExportTraceServiceRequest;
    const req = t.fromObject({
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: Buffer.alloc(16, 1),
                  span_id: Buffer.alloc(8, 2),
                  name: 'ok',
                  attributes: [{ key: 'a', value: { string_value: 'PLACEHOLDER' } }],
                },
                { trace_id: Buffer.alloc(16, 3), span_id: Buffer.alloc(8, 4), name: 'fine' },
              ],
            },
          ],
        },
      ],
    });
    const bytes = Buffer.from(t.encode(req).finish());
    const at = bytes.indexOf('PLACEHOLDER');
    bytes[at + 3] = 0xff;
    const split = splitTracesByTraceId(bytes);
    expect(split.acceptedSpans).to.equal(1);
    expect(split.rejectedBy?.invalidUtf8).to.equal(1);
    expect(split.rejectReason).to.match(/AnyValue\.string_value/);
  });
});
