// UTF-8 of string fields in the hot-path split (scanner.ts, wire.ts): a span or log record with a string
// that is not valid UTF-8 is rejected alone (partial success naming the field); a bad resource string
// fails the request; the byte-level validator agrees with the native one; the word-wise ASCII scan finds
// the first non-ASCII byte at any offset and alignment.

import { expect } from 'chai';
import { isUtf8 } from 'node:buffer';
import { encodeTraces, splitTracesByTraceId } from '../../../../pipeline/sdk/otlp';
import { asciiEnd, isUtf8Range } from '../../../../pipeline/sdk/otlp/wire';

const span = (traceId: string, name: string) => ({
  traceId,
  spanId: 'cd'.repeat(8),
  parentSpanId: '',
  traceState: '',
  flags: 0,
  name,
  kind: 2,
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  attributes: [],
  droppedAttributesCount: 0,
  events: [],
  droppedEventsCount: 0,
  links: [],
  droppedLinksCount: 0,
  status: { code: 0 as const, message: '' },
});

function request(service: string, names: string[]): Buffer {
  return Buffer.from(
    encodeTraces([
      {
        resource: {
          attributes: [{ key: 'service.name', value: { type: 'string', value: service } }],
          droppedAttributesCount: 0,
          entityRefs: [],
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: names.map((n, i) =>
              span(
                String(i + 1)
                  .repeat(32)
                  .slice(0, 32),
                n,
              ),
            ),
          },
        ],
      },
    ]),
  );
}

describe('pipeline/sdk/otlp: UTF-8 of string fields', () => {
  it('rejects only the span whose name is not valid UTF-8, naming the field', () => {
    const b = request('svc', ['okay', 'BADX', 'fine']);
    b[b.indexOf('BADX')] = 0xff;
    const r = splitTracesByTraceId(b);
    expect(r.acceptedSpans).to.equal(2);
    expect(r.rejectedSpans).to.equal(1);
    expect(r.rejectReason).to.contain('not valid UTF-8').and.contain('Span.name');
    expect(r.chunks.map((c) => c.traceId)).to.deep.equal(['1'.repeat(32), '3'.repeat(32)]);
    expect(r.rejectedBy).to.deep.equal({ invalidId: 0, invalidUtf8: 1 });
  });

  it('counts invalid UTF-8 and invalid ids apart in rejectedBy', () => {
    const b = request('svc', ['BADX', 'BADY', 'fine']);
    b[b.indexOf('BADX')] = 0xff;
    b[b.indexOf('BADY')] = 0xc0;
    // The third span's trace id ('3' x 32) becomes all zero: an invalid id.
    const id = Buffer.from('3'.repeat(32), 'hex');
    b.fill(0, b.indexOf(id), b.indexOf(id) + 16);
    const r = splitTracesByTraceId(b);
    expect(r.rejectedSpans).to.equal(3);
    expect(r.rejectedBy).to.deep.equal({ invalidId: 1, invalidUtf8: 2 });
    expect(splitTracesByTraceId(request('svc', ['ok'])).rejectedBy).to.equal(undefined);
  });

  it('fails the whole request when a resource attribute is not valid UTF-8', () => {
    const b = request('SVCX', ['a']);
    b[b.indexOf('SVCX') + 1] = 0xc0;
    expect(() => splitTracesByTraceId(b)).to.throw(/AnyValue\.string_value is not valid UTF-8/);
  });

  it('accepts valid multi-byte strings', () => {
    const r = splitTracesByTraceId(request('héllo → 世界 😀', ['naïve']));
    expect(r.acceptedSpans).to.equal(1);
    expect(r.rejectedSpans).to.equal(0);
  });

  it('asciiEnd finds the first byte >= 0x80 at every offset, length and alignment', () => {
    const backing = Buffer.alloc(96, 0x61);
    for (let off = 0; off < 4; off++) {
      const buf = backing.subarray(off, off + 80);
      for (let start = 0; start < 8; start++) {
        for (let end = start; end <= 80; end += 3) {
          expect(asciiEnd(buf, start, end), `all ASCII ${off}/${start}/${end}`).to.equal(end);
          for (let bad = start; bad < end; bad += 5) {
            buf[bad] = 0x80 + (bad % 0x80);
            expect(asciiEnd(buf, start, end), `${off}/${start}/${end}/${bad}`).to.equal(bad);
            buf[bad] = 0x61;
          }
        }
      }
      // a byte >= 0x80 just outside the range is not seen
      buf[40] = 0xff;
      expect(asciiEnd(buf, 0, 40)).to.equal(40);
      expect(asciiEnd(buf, 0, 41)).to.equal(40);
      expect(asciiEnd(buf, 41, 80)).to.equal(80);
      buf[40] = 0x61;
    }
  });

  it('validates long strings with a non-ASCII byte late in them', () => {
    const long = 'x'.repeat(45);
    expect(splitTracesByTraceId(request('svc', [`${long}é${long}`])).acceptedSpans).to.equal(1);
    const b = request('svc', [`${long}BADX`]);
    b[b.indexOf('BADX')] = 0xff;
    expect(splitTracesByTraceId(b).rejectReason).to.contain('Span.name');
    const c = request(`${long}SVCX`, ['a']);
    c[c.indexOf('SVCX')] = 0xe0;
    expect(() => splitTracesByTraceId(c)).to.throw(/not valid UTF-8/);
  });

  it('isUtf8Range agrees with the native validator on edge sequences', () => {
    const cases = [
      [0x41],
      [0xc2, 0x80],
      [0xc1, 0xbf],
      [0xe0, 0x9f, 0x80],
      [0xe0, 0xa0, 0x80],
      [0xed, 0x9f, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xef, 0xbf, 0xbf],
      [0xf0, 0x8f, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80],
      [0xf4, 0x8f, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0x80],
      [0xc3],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
    ];
    for (const c of cases) {
      const b = Uint8Array.from([0x61, ...c, 0x62]);
      expect(isUtf8Range(b, 0, b.length), c.map((x) => x.toString(16)).join(' ')).to.equal(isUtf8(b));
    }
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      const b = new Uint8Array(1 + (n % 9));
      for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      expect(isUtf8Range(b, 0, b.length)).to.equal(isUtf8(b));
    }
  });
});
