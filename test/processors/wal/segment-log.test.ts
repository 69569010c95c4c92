// Unit tests of the segmented write-ahead log on a real temporary directory: group commit, deletion of
// settled segments, replay of unsettled ones, torn tails, the size bound and an unusable directory.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BackpressureError, PipelineError, ShutdownError } from '../../../pipeline/sdk/errors';
import type { WalRecord } from '../../../processors/wal/record';
import { SegmentLog, type SegmentLogOptions } from '../../../processors/wal/segment-log';

const silent = pino({ level: 'silent' });

function record(n: number, size = 100): WalRecord {
  const traceId = n.toString(16).padStart(32, '0');
  return { kind: 'traces', traceId, itemCount: 1, data: Buffer.alloc(size, n % 251) };
}

function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
}

describe('processors/wal segment log', () => {
  let dir: string;
  const open = (overrides: Partial<SegmentLogOptions> = {}): SegmentLog =>
    new SegmentLog({
      dir,
      segmentBytes: 64 * 1024,
      maxBytes: 1024 * 1024,
      fsync: 'batch',
      fsyncIntervalMs: 50,
      retryAfterMs: 500,
      logger: silent,
      ...overrides,
    });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-wal-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes concurrent appends together (group commit) and deletes the file once all settled', async () => {
    let syncs = 0;
    const log = open({ onSync: () => syncs++ });
    expect(await log.open()).to.deep.equal([]);
    const refs = (await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([record(i)])))).flat();
    expect(refs).to.have.length(50);
    expect(syncs).to.be.greaterThan(0).and.lessThan(50);
    expect(segmentFiles(dir)).to.have.length(1);
    for (const ref of refs.slice(0, 49)) log.settle(ref);
    expect(segmentFiles(dir)).to.have.length(1);
    log.settle(refs[49]);
    await new Promise((r) => setTimeout(r, 20));
    expect(segmentFiles(dir)).to.deep.equal([]);
    expect(log.bytes).to.equal(0);
    await log.close();
  });

  it('rolls segments at segment_size and replays only what was not settled, in order', async () => {
    const log = open({ segmentBytes: 4096 });
    await log.open();
    const refs = [];
    for (let i = 0; i < 40; i++) refs.push(...(await log.append([record(i, 500)])));
    const files = segmentFiles(dir);
    expect(files.length).to.be.greaterThan(3);
    // Settle the first 20: the segments holding only those go away.
    for (const ref of refs.slice(0, 20)) log.settle(ref);
    await new Promise((r) => setTimeout(r, 20));
    expect(segmentFiles(dir).length).to.be.lessThan(files.length);
    await log.close();

    const again = open({ segmentBytes: 4096 });
    const replayed = await again.open();
    const ids = replayed.flatMap((s) => s.records.map((r) => parseInt(r.record.traceId, 16)));
    // Everything unsettled comes back, in order; settled records that shared a segment may come back too.
    expect(ids).to.include.members(Array.from({ length: 20 }, (_, i) => 20 + i));
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b));
    expect(ids.length).to.be.lessThan(40);
    for (const s of replayed) for (const r of s.records) again.settle(r.ref);
    await new Promise((r) => setTimeout(r, 20));
    expect(segmentFiles(dir)).to.deep.equal([]);
    await again.close();
  });

  it('cuts off a torn last record and reports it, keeping the whole records before it', async () => {
    const log = open();
    await log.open();
    for (let i = 0; i < 3; i++) await log.append([record(i)]);
    await log.close();
    const [file] = segmentFiles(dir);
    const full = fs.statSync(path.join(dir, file)).size;
    fs.truncateSync(path.join(dir, file), full - 10);

    const again = open();
    const [segment] = await again.open();
    expect(segment.records.map((r) => parseInt(r.record.traceId, 16))).to.deep.equal([0, 1]);
    expect(segment.torn?.reason).to.equal('payload cut short');
    expect(fs.statSync(path.join(dir, file)).size).to.equal(segment.torn?.offset);
    await again.close();
  });

  it('refuses with backpressure when full, and accepts again once data settled', async () => {
    const log = open({ maxBytes: 2048, segmentBytes: 1024 });
    await log.open();
    const refs = [];
    for (let i = 0; i < 3; i++) refs.push(...(await log.append([record(i, 500)])));
    const refused = await log.append([record(9, 500)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(BackpressureError);
    expect((refused as BackpressureError).retryAfterMs).to.equal(500);
    for (const ref of refs) log.settle(ref);
    await new Promise((r) => setTimeout(r, 20));
    expect(await log.append([record(9, 500)])).to.have.length(1);
    await log.close();
    const closed = await log.append([record(10)]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(closed).to.be.instanceOf(ShutdownError);
  });

  it('fails to open with ERR_WAL_DIR when the directory cannot be created', async () => {
    const blocker = path.join(dir, 'file');
    fs.writeFileSync(blocker, 'not a directory');
    const log = open({ dir: path.join(blocker, 'wal') });
    const err = await log.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PipelineError);
    expect((err as PipelineError).code).to.equal('ERR_WAL_DIR');
    expect((err as Error).message).to.contain(path.join(blocker, 'wal'));
  });

  it('with fsync "off" and "interval" still writes every record before resolving', async () => {
    for (const fsync of ['off', 'interval'] as const) {
      const sub = fs.mkdtempSync(path.join(dir, `${fsync}-`));
      const log = open({ dir: sub, fsync });
      await log.open();
      await log.append([record(1), record(2)]);
      await log.close();
      const again = open({ dir: sub, fsync });
      const replayed = await again.open();
      expect(replayed.flatMap((s) => s.records)).to.have.length(2);
      await again.close();
    }
  });
});
