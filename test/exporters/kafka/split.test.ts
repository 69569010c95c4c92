// Tests of splitBySize: a huge trace chunk becomes several valid requests of bounded size holding every
// span exactly once, in order, under its own resource and scope; what cannot be split is a permanent error.

import { expect } from 'chai';
import { isPermanent } from '../../../pipeline/sdk/errors';
import { KafkaErrorCode } from '../../../pipeline/sdk/kafka/errors';
import { countLogRecords, countSpans, splitLogsByTraceId, splitTracesByTraceId } from '../../../pipeline/sdk/otlp';
import { splitBySize } from '../../../exporters/kafka/split';
import { decodeSpans, logsRequest, traceIdOf, traceRequest } from './otlp-fixtures';

describe('kafka exporter: splitBySize', () => {
  const traceId = traceIdOf(7);

  it('returns a request that already fits as the same bytes', () => {
    const data = traceRequest({ traceIds: [traceId], spansPerTrace: 3 });
    const parts = splitBySize(data, data.length);
    expect(parts).to.have.length(1);
    expect(parts[0]).to.equal(data);
  });

  it('splits a huge trace into bounded parts holding every span once, in order, under its resource and scope', () => {
    const data = traceRequest({ traceIds: [traceId], spansPerTrace: 3000, padBytes: 200, resources: 3, scopes: 2 });
    const limit = 64 * 1024;
    expect(data.length).to.be.greaterThan(10 * limit);
    const parts = splitBySize(data, limit);
    expect(parts.length).to.be.within(Math.ceil(data.length / limit), Math.ceil(data.length / limit) + 3);
    for (const p of parts) expect(p.length).to.be.at.most(limit);
    const original = decodeSpans(data);
    const rejoined = parts.flatMap((p) => decodeSpans(p));
    expect(rejoined).to.have.length(3000);
    expect(rejoined).to.deep.equal(original);
    expect(parts.reduce((n, p) => n + countSpans(p), 0)).to.equal(3000);
    // Each part is a chunk of the same single trace for the scanner too.
    for (const p of parts) {
      const split = splitTracesByTraceId(p);
      expect(split.chunks.map((c) => c.traceId)).to.deep.equal([traceId]);
      expect(split.rejectedSpans).to.equal(0);
    }
  });

  it('packs parts close to the limit (no needless fragmentation)', () => {
    const data = traceRequest({ traceIds: [traceId], spansPerTrace: 1000, padBytes: 100 });
    const limit = 16 * 1024;
    const parts = splitBySize(data, limit);
    for (const p of parts.slice(0, -1)) expect(p.length).to.be.greaterThan(limit - 400);
  });

  it('keeps spans of several traces together with their bytes unchanged', () => {
    const data = traceRequest({
      traceIds: [traceIdOf(1), traceIdOf(2)],
      spansPerTrace: 500,
      padBytes: 50,
      resources: 2,
    });
    const parts = splitBySize(data, 8192);
    expect(parts.flatMap((p) => decodeSpans(p)).map((s) => s.bytes)).to.deep.equal(
      decodeSpans(data).map((s) => s.bytes),
    );
  });

  it('splits log requests by record the same way', () => {
    const data = logsRequest([traceId], 2000);
    const parts = splitBySize(data, 4096);
    expect(parts.length).to.be.greaterThan(5);
    for (const p of parts) expect(p.length).to.be.at.most(4096);
    expect(parts.reduce((n, p) => n + countLogRecords(p), 0)).to.equal(2000);
    for (const p of parts) expect(splitLogsByTraceId(p).chunks.map((c) => c.traceId)).to.deep.equal([traceId]);
  });

  it('rejects permanently (ERR_KAFKA_MESSAGE_TOO_LARGE) a single span too large for any message', () => {
    const data = traceRequest({ traceIds: [traceId], spansPerTrace: 2, padBytes: 10_000 });
    let err: unknown;
    try {
      splitBySize(data, 5000);
    } catch (e) {
      err = e;
    }
    expect(isPermanent(err)).to.equal(true);
    expect((err as { code?: string }).code).to.equal(KafkaErrorCode.MESSAGE_TOO_LARGE);
  });

  it('rejects permanently bytes that are not a request (truncated)', () => {
    const data = traceRequest({ traceIds: [traceId], spansPerTrace: 50, padBytes: 100 });
    let err: unknown;
    try {
      splitBySize(data.subarray(0, data.length - 7), 1024);
    } catch (e) {
      err = e;
    }
    expect(isPermanent(err)).to.equal(true);
    expect((err as { code?: string }).code).to.equal('ERR_OTLP_DECODE');
  });
});
