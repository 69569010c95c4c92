// The decision stream (GET /v1/decisions/stream): Server-Sent Events with the recent matching decisions first
// and then each decided batch the sampler pushes, filtered by outcome and policy; bad parameters are a 400 in
// words; past the stream limit a 503 says why; a client that goes away is unsubscribed at once; a client that
// does not read loses batches (counted, and told how many) instead of growing the collector's memory; the
// console token protects it like every /v1/ endpoint.

import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AdminServer } from '../../../../pipeline/runtime/admin/server';
import type { ConsoleSource } from '../../../../pipeline/runtime/console/api';
import { Console } from '../../../../pipeline/runtime/console/server';
import { DecisionStreams } from '../../../../pipeline/runtime/console/stream';
import type { DecisionSummary, InsightsProvider, SamplingInsights } from '../../../../pipeline/sdk/insights';

type Listener = (batch: readonly DecisionSummary[]) => void;

/** A sampler that pushes what the test tells it to. */
class PushingProvider implements InsightsProvider {
  readonly listeners = new Set<Listener>();
  recent: DecisionSummary[] = [];
  insights(): SamplingInsights {
    throw new Error('not used');
  }
  recentDecisions(limit: number): DecisionSummary[] {
    return [...this.recent].reverse().slice(0, limit);
  }
  subscribeDecisions(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  push(batch: DecisionSummary[]): void {
    for (const l of this.listeners) l(batch);
  }
}

function decision(i: number, decision: 'sampled' | 'not_sampled', policy: string, reason = 'r'): DecisionSummary {
  return { traceId: i.toString(16).padStart(32, '0'), decision, policy, reason, decidedAt: 1000 + i };
}

/** An SSE client: the events received so far, parsed. */
function openStream(url: string, headers: Record<string, string> = {}) {
  const events: Array<{ event: string; data: unknown }> = [];
  let buf = '';
  let res: http.IncomingMessage | undefined;
  const ready = new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.get(url, { headers }, (r) => {
      res = r;
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          if (block.startsWith(':')) continue;
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      });
      resolve(r);
    });
    req.on('error', reject);
  });
  return { events, ready, close: () => res?.destroy() };
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

async function startAdmin(provider: PushingProvider, token = '') {
  const src = {
    insightProviders: () => [{ id: 'processors.tail_sampling', pipeline: 'traces', provider }],
    components: () => [],
  } as unknown as ConsoleSource;
  const logger = pino({ level: 'silent' });
  const webConsole = new Console(
    src,
    new Registry(),
    { jaegerQuery: 'http://127.0.0.1:1', token, stream: { maxStreams: 2 } },
    logger,
  );
  const server = new AdminServer(
    { status: () => [], explainDecision: async () => undefined, configDocument: () => ({}) },
    new Registry(),
    logger,
    webConsole,
  );
  const addr = await server.listen('127.0.0.1:0');
  return { server, webConsole, base: `http://127.0.0.1:${addr.port}` };
}

describe('pipeline/runtime/console: decision stream', () => {
  it('answers a bad parameter with a 400 in words', async () => {
    const admin = await startAdmin(new PushingProvider());
    try {
      for (const [q, words] of [
        ['outcome=kept', 'outcome must be sampled or not_sampled, got "kept"'],
        ['backlog=-1', 'backlog must be an integer in [0, 1000], got "-1"'],
        ['backlog=x', 'backlog must be an integer'],
        ['polcy=errors', 'unknown parameter "polcy"'],
      ]) {
        const res = await fetch(`${admin.base}/v1/decisions/stream?${q}`);
        expect(res.status, q).to.equal(400);
        const body = (await res.json()) as { error: string; code: string };
        expect(body.error, q).to.contain(words);
        expect(body.code).to.equal('ERR_CONSOLE_BAD_PARAM');
      }
      expect(admin.webConsole.openStreams).to.equal(0);
    } finally {
      await admin.server.close();
    }
  });

  it('sends the recent matching decisions, then each pushed batch filtered by outcome and policy', async () => {
    const provider = new PushingProvider();
    provider.recent = [
      decision(1, 'sampled', 'errors'),
      decision(2, 'not_sampled', '(none)'),
      decision(3, 'sampled', 'slow'),
    ];
    const admin = await startAdmin(provider);
    try {
      const s = openStream(`${admin.base}/v1/decisions/stream?outcome=sampled&policy=errors`);
      const res = await s.ready;
      expect(res.statusCode).to.equal(200);
      expect(res.headers['content-type']).to.contain('text/event-stream');
      await until(() => s.events.length >= 2);
      expect(s.events[0]).to.deep.equal({ event: 'hello', data: { live: true } });
      expect(s.events[1].data).to.deep.equal({ decisions: [decision(1, 'sampled', 'errors')] });
      provider.push([
        decision(4, 'not_sampled', 'errors'),
        decision(5, 'sampled', 'errors'),
        decision(6, 'sampled', 'slow'),
      ]);
      provider.push([decision(7, 'not_sampled', '(none)')]); // nothing matches: no event
      provider.push([decision(8, 'sampled', 'errors')]);
      await until(() => s.events.length >= 4);
      expect(s.events.slice(2).map((e) => e.data)).to.deep.equal([
        { decisions: [decision(5, 'sampled', 'errors')] },
        { decisions: [decision(8, 'sampled', 'errors')] },
      ]);
      s.close();
    } finally {
      await admin.server.close();
    }
  });

  it('refuses streams past the limit with a 503 that says why, and frees a slot when a client goes away', async () => {
    const provider = new PushingProvider();
    const admin = await startAdmin(provider);
    try {
      const a = openStream(`${admin.base}/v1/decisions/stream`);
      const b = openStream(`${admin.base}/v1/decisions/stream?backlog=0`);
      await Promise.all([a.ready, b.ready]);
      await until(() => admin.webConsole.openStreams === 2);
      expect(provider.listeners.size).to.equal(2);
      const refused = await fetch(`${admin.base}/v1/decisions/stream`);
      expect(refused.status).to.equal(503);
      expect(refused.headers.get('retry-after')).to.equal('10');
      const body = (await refused.json()) as { error: string; code: string };
      expect(body.code).to.equal('ERR_CONSOLE_TOO_MANY_STREAMS');
      expect(body.error).to.contain('2 decision streams are open already, the limit: close another console tab');
      a.close();
      await until(() => admin.webConsole.openStreams === 1);
      expect(provider.listeners.size, 'unsubscribed').to.equal(1);
      const c = openStream(`${admin.base}/v1/decisions/stream`);
      expect((await c.ready).statusCode).to.equal(200);
      c.close();
      b.close();
      await until(() => admin.webConsole.openStreams === 0);
      expect(provider.listeners.size).to.equal(0);
    } finally {
      await admin.server.close();
    }
  });

  it('needs the console token like every /v1/ endpoint', async () => {
    const admin = await startAdmin(new PushingProvider(), 's3cret');
    try {
      expect((await fetch(`${admin.base}/v1/decisions/stream`)).status).to.equal(401);
      const s = openStream(`${admin.base}/v1/decisions/stream`, { authorization: 'Bearer s3cret' });
      expect((await s.ready).statusCode).to.equal(200);
      s.close();
    } finally {
      await admin.server.close();
    }
  });

  it('drops batches for a client that does not read, counts them and tells it how many', async () => {
    const provider = new PushingProvider();
    const streams = new DecisionStreams(() => [{ provider }], { maxBufferedBytes: 16 * 1024 });
    const server = http.createServer((req, res) => streams.handle(req, res, new URLSearchParams('backlog=0')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const s = openStream(url);
      const res = await s.ready;
      await until(() => s.events.length === 1);
      res.pause(); // a client that stops reading
      const big = 'x'.repeat(8 * 1024);
      for (let i = 0; i < 2000 && streams.droppedBatches === 0; i++) {
        provider.push([decision(i, 'sampled', 'errors', big)]);
        await new Promise((r) => setImmediate(r));
      }
      expect(streams.droppedBatches, 'some batches dropped').to.be.greaterThan(0);
      const drops = streams.droppedBatches;
      res.resume();
      await until(() => s.events.length > 1 && s.events.length >= 1 + 1);
      await new Promise((r) => setTimeout(r, 200)); // let the socket drain
      provider.push([decision(99_999, 'sampled', 'errors')]);
      await until(() => s.events.some((e) => e.event === 'dropped'));
      const told = s.events.find((e) => e.event === 'dropped')!.data as { dropped: number };
      expect(told.dropped).to.equal(drops);
      await until(() =>
        s.events.some((e) => JSON.stringify(e.data).includes(decision(99_999, 'sampled', 'x').traceId)),
      );
      s.close();
      await until(() => streams.open === 0);
    } finally {
      streams.closeAll();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
