// Fan-out consumers: every consumer gets the batch, the call settles when all did, and the batch's early
// per-chunk notice is not passed on (one consumer's notice would settle a chunk another still holds).

import { expect } from 'chai';
import type { LogsConsumer, TracesConsumer } from '../../../pipeline/sdk/component';
import { fanoutLogs, fanoutTraces } from '../../../pipeline/runtime/fanout';
import type { LogBatch, TraceBatch } from '../../../pipeline/sdk/trace-batch';

const chunk = { traceId: '0af7651916cd43dd8448eb211c80319c', data: new Uint8Array([1]), spanCount: 1 };
const logChunk = { traceId: chunk.traceId, data: new Uint8Array([2]), recordCount: 1 };

describe('pipeline fan-out', () => {
  it('hands traces to every consumer without the early notice, and settles after the slowest', async () => {
    const seen: TraceBatch[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const quick: TracesConsumer = {
      capabilities: { mutatesData: false },
      consumeTraces: async (b) => void seen.push(b),
    };
    const slow: TracesConsumer = {
      capabilities: { mutatesData: false },
      consumeTraces: async (b) => {
        seen.push(b);
        await held;
      },
    };
    const told: number[] = [];
    let done = false;
    const p = fanoutTraces([quick, slow])
      .consumeTraces({ chunks: [chunk], onChunkSettled: (i) => told.push(i) })
      .then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(seen).to.have.length(2);
    for (const b of seen) {
      expect(b.chunks).to.deep.equal([chunk]);
      expect(b.onChunkSettled).to.equal(undefined);
    }
    expect(done).to.equal(false);
    release();
    await p;
    expect(done).to.equal(true);
  });

  it('passes a batch untouched to a single consumer (it is the consumer itself)', () => {
    const only: TracesConsumer = { capabilities: { mutatesData: false }, consumeTraces: async () => undefined };
    expect(fanoutTraces([only])).to.equal(only);
  });

  it('hands logs to every consumer without the early notice', async () => {
    const seen: LogBatch[] = [];
    const c: LogsConsumer = { consumeLogs: async (b) => void seen.push(b) };
    await fanoutLogs([c, c]).consumeLogs({ chunks: [logChunk], onChunkSettled: () => undefined });
    expect(seen.map((b) => b.onChunkSettled)).to.deep.equal([undefined, undefined]);
    expect(seen.map((b) => b.chunks[0])).to.deep.equal([logChunk, logChunk]);
  });
});
