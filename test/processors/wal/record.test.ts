// Unit tests of the write-ahead log's record framing: round trips, and every way a record can be torn.

import { expect } from 'chai';
import { encodeRecord, readRecord, RECORD_HEADER_BYTES, type WalRecord } from '../../../processors/wal/record';

const TRACE: WalRecord = {
  kind: 'traces',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  itemCount: 3,
  data: Buffer.from('encoded spans'),
};

describe('processors/wal record', () => {
  it('round-trips trace and log records, one after another', () => {
    const logs: WalRecord = { kind: 'logs', traceId: '', itemCount: 7, data: Buffer.from([1, 2, 3]) };
    const buf = Buffer.concat([encodeRecord(TRACE), encodeRecord(logs)]);
    const first = readRecord(buf, 0);
    expect(first.status).to.equal('ok');
    if (first.status !== 'ok') return;
    expect(first.record.kind).to.equal('traces');
    expect(first.record.traceId).to.equal(TRACE.traceId);
    expect(first.record.itemCount).to.equal(3);
    expect(Buffer.from(first.record.data).toString()).to.equal('encoded spans');
    const second = readRecord(buf, first.next);
    expect(second.status).to.equal('ok');
    if (second.status !== 'ok') return;
    expect(second.record).to.deep.include({ kind: 'logs', traceId: '', itemCount: 7 });
    expect([...second.record.data]).to.deep.equal([1, 2, 3]);
    expect(readRecord(buf, second.next).status).to.equal('end');
  });

  it('reports a record cut short anywhere as torn, never as a record', () => {
    const whole = encodeRecord(TRACE);
    for (let cut = 1; cut < whole.byteLength; cut++) {
      const read = readRecord(whole.subarray(0, cut), 0);
      expect(read.status, `cut at ${cut}`).to.equal('torn');
    }
    expect(readRecord(whole.subarray(0, RECORD_HEADER_BYTES - 1), 0)).to.deep.equal({
      status: 'torn',
      reason: 'header cut short',
    });
  });

  it('reports a flipped byte in the payload as a checksum mismatch', () => {
    const bytes = encodeRecord(TRACE);
    bytes[bytes.byteLength - 2] ^= 0xff;
    expect(readRecord(bytes, 0)).to.deep.equal({ status: 'torn', reason: 'checksum mismatch' });
  });

  it('reports zeros (a preallocated or half-written tail) as torn', () => {
    expect(readRecord(Buffer.alloc(64), 0).status).to.equal('torn');
  });
});
