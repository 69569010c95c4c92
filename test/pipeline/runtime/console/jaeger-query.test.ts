// The Jaeger query client: search parameters as Jaeger reads them, Jaeger traces turned into the console's
// shapes (parents, errors, status, resource, events, links), errors-only filtering, 404 as "not found",
// and an unreachable or slow Jaeger as a ConsoleError that says so in words.

import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { JaegerQuery, toConsoleTrace } from '../../../../pipeline/runtime/console/jaeger-query';
import { ConsoleError } from '../../../../pipeline/runtime/console/errors';

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);

function jaegerTrace(id: string, error: boolean) {
  return {
    traceID: id,
    processes: { p1: { serviceName: 'shop', tags: [{ key: 'host.name', type: 'string', value: 'h1' }] } },
    spans: [
      {
        traceID: id,
        spanID: '01',
        operationName: 'GET /cart',
        startTime: 1000,
        duration: 500,
        processID: 'p1',
        references: [],
        tags: [{ key: 'span.kind', type: 'string', value: 'server' }],
      },
      {
        traceID: id,
        spanID: '02',
        operationName: 'db',
        startTime: 1100,
        duration: 100,
        processID: 'p1',
        references: [
          { refType: 'CHILD_OF', traceID: id, spanID: '01' },
          { refType: 'FOLLOWS_FROM', traceID: T2, spanID: '09' },
        ],
        tags: error
          ? [
              { key: 'error', type: 'bool', value: true },
              { key: 'otel.status_code', type: 'string', value: 'ERROR' },
              { key: 'otel.status_description', type: 'string', value: 'boom' },
            ]
          : [],
        logs: [{ timestamp: 1150, fields: [{ key: 'event', type: 'string', value: 'retry' }] }],
      },
    ],
  };
}

describe('pipeline/runtime/console: Jaeger query client', () => {
  let server: http.Server;
  let base: string;
  const seen: URL[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push(url);
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/services') return res.end(JSON.stringify({ data: ['shop', 'auth'] }));
      if (url.pathname === '/api/services/shop/operations')
        return res.end(JSON.stringify({ data: [{ name: 'GET /cart' }, { name: 'db' }] }));
      if (url.pathname === '/api/traces')
        return res.end(JSON.stringify({ data: [jaegerTrace(T1, true), jaegerTrace(T2, false)] }));
      if (url.pathname === `/api/traces/${T1}`) return res.end(JSON.stringify({ data: [jaegerTrace(T1, true)] }));
      if (url.pathname === '/api/slow') return;
      res.statusCode = 404;
      res.end(JSON.stringify({ data: null, errors: [{ code: 404, msg: 'trace not found' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  it('converts a Jaeger trace: tree, error and status, resource, events, links', () => {
    const t = toConsoleTrace(jaegerTrace(T1, true));
    expect(t.durationUs).to.equal(500);
    expect(t.services).to.deep.equal(['shop']);
    const [root, db] = t.spans;
    expect(root.parentId).to.equal(null);
    expect(root.kind).to.equal('server');
    expect(root.error).to.equal(false);
    expect(db.parentId).to.equal('01');
    expect(db.error).to.equal(true);
    expect(db.status).to.deep.equal({ code: 'ERROR', message: 'boom' });
    expect(db.resource).to.deep.equal([{ key: 'host.name', value: 'h1' }]);
    expect(db.events).to.deep.equal([{ timeUs: 1150, fields: [{ key: 'event', value: 'retry' }] }]);
    expect(db.links).to.deep.equal([{ traceId: T2, spanId: '09', type: 'FOLLOWS_FROM' }]);
  });

  it("searches with Jaeger's parameters and keeps only error traces when asked", async () => {
    const q = new JaegerQuery(base + '/');
    const all = await q.search({
      service: 'shop',
      operation: 'GET /cart',
      tags: { 'http.status_code': '500' },
      minDuration: '10ms',
      startUs: 1,
      endUs: 2,
      limit: 5,
    });
    expect(all.map((r) => r.traceId)).to.have.members([T1, T2]);
    const sent = seen[seen.length - 1].searchParams;
    expect(Object.fromEntries(sent)).to.deep.equal({
      service: 'shop',
      start: '1',
      end: '2',
      limit: '5',
      operation: 'GET /cart',
      tags: '{"http.status_code":"500"}',
      minDuration: '10ms',
    });
    const errors = await q.search({ service: 'shop', errorsOnly: true, startUs: 1, endUs: 2, limit: 5 });
    expect(errors.map((r) => r.traceId)).to.deep.equal([T1]);
    expect(errors[0]).to.include({ rootService: 'shop', rootOperation: 'GET /cart', spanCount: 2, errorCount: 1 });
    expect(Number(seen[seen.length - 1].searchParams.get('limit'))).to.be.greaterThan(5);
  });

  it('lists services and operations, finds a trace by id and says undefined for an unknown one', async () => {
    const q = new JaegerQuery(base);
    expect(await q.services()).to.deep.equal(['auth', 'shop']);
    expect(await q.operations('shop')).to.deep.equal(['GET /cart', 'db']);
    expect((await q.trace(T1))?.spans).to.have.length(2);
    expect(await q.trace('c'.repeat(32))).to.equal(undefined);
  });

  it('reports an unreachable Jaeger and a slow one in words', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = new JaegerQuery(`http://127.0.0.1:${port}`);
    const err = await down.services().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConsoleError);
    expect((err as ConsoleError).status).to.equal(502);
    expect((err as ConsoleError).message).to.match(
      new RegExp(`Jaeger query API at http://127\\.0\\.0\\.1:${port} is unreachable \\(ECONNREFUSED`),
    );
    const slow = new JaegerQuery(`${base}/api/slow#`, 200);
    const late = await slow.services().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((late as ConsoleError).status).to.equal(504);
    expect((late as ConsoleError).message).to.contain('did not answer within 200 ms');
  });
});
