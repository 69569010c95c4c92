// Unit tests of pipeline/sdk/exporterhelper/http.ts against local HTTP servers: status classification (incl. 3xx as a
// failure), Retry-After (seconds and dates), a real deadline against a server that never answers, and
// connection errors.

import { expect } from 'chai';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExporterErrorCode, ExportError } from '../../../../pipeline/sdk/exporterhelper/errors';
import {
  createAgent,
  httpStatusError,
  loadTls,
  parseRetryAfter,
  postBytes,
} from '../../../../pipeline/sdk/exporterhelper/http';
import { tlsSchema } from '../../../../pipeline/sdk/exporterhelper/config';

async function serve(handler: http.RequestListener): Promise<{ url: URL; close(): Promise<void> }> {
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/p`),
    close: () => {
      srv.closeAllConnections();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}
const res = (status: number, headers: http.IncomingHttpHeaders = {}, body = '') => ({
  status,
  headers,
  body: Buffer.from(body),
});

describe('pipeline/sdk/exporterhelper/http', () => {
  it('parses Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).to.equal(7000);
    expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).to.equal(30000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:30 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
    expect(parseRetryAfter(['3', '9'], now)).to.equal(3000);
  });

  it('classifies statuses: 2xx ok; 408/429/5xx retriable with Retry-After; 3xx and other 4xx permanent', () => {
    const table: Array<[number, boolean | undefined]> = [
      [200, undefined],
      [202, undefined],
      [204, undefined],
      [301, false],
      [302, false],
      [400, false],
      [401, false],
      [403, false],
      [404, false],
      [413, false],
      [408, true],
      [429, true],
      [500, true],
      [502, true],
      [503, true],
      [504, true],
    ];
    for (const [status, retriable] of table) {
      const err = httpStatusError('POST x', res(status, { 'retry-after': '2' }));
      if (retriable === undefined) {
        expect(err, String(status)).to.equal(undefined);
        continue;
      }
      expect(err!.retriable, String(status)).to.equal(retriable);
      expect(err!.status).to.equal(status);
      expect(err!.code).to.equal(ExporterErrorCode.HTTP_STATUS);
      expect(err!.retryAfterMs, String(status)).to.equal(retriable ? 2000 : undefined);
    }
  });

  it('puts a text answer into the message, but not a binary one', () => {
    expect(httpStatusError('POST x', res(400, { 'content-type': 'text/plain' }, 'bad   span\n'))!.message).to.equal(
      'POST x: HTTP 400: bad span',
    );
    expect(
      httpStatusError('POST x', res(400, { 'content-type': 'application/x-protobuf' }, '\u0008\u0003'))!.message,
    ).to.equal('POST x: HTTP 400');
  });

  it('posts the body with the headers and returns status, headers and body', async () => {
    let got: { body: string; headers: http.IncomingHttpHeaders; method?: string } | undefined;
    const s = await serve((req, r) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        got = { body: Buffer.concat(parts).toString(), headers: req.headers, method: req.method };
        r.setHeader('x-reply', 'yes');
        r.statusCode = 202;
        r.end('fine');
      });
    });
    try {
      const agent = createAgent(s.url, loadTls(tlsSchema.parse(undefined)), 2);
      const out = await postBytes(s.url, Buffer.from('hello'), {
        headers: { 'x-tenant': 'acme' },
        timeoutMs: 2000,
        agent,
      });
      expect(out.status).to.equal(202);
      expect(out.headers['x-reply']).to.equal('yes');
      expect(out.body.toString()).to.equal('fine');
      expect(got).to.deep.include({ body: 'hello', method: 'POST' });
      expect(got!.headers['x-tenant']).to.equal('acme');
      expect(got!.headers['content-length']).to.equal('5');
      agent.destroy();
    } finally {
      await s.close();
    }
  });

  it('rejects with a retriable TIMEOUT when the server never answers', async () => {
    const s = await serve((req) => {
      req.resume();
    });
    try {
      const agent = createAgent(s.url, loadTls(tlsSchema.parse(undefined)), 1);
      const started = Date.now();
      const err = (await postBytes(s.url, Buffer.from('x'), { headers: {}, timeoutMs: 200, agent }).catch(
        (e: unknown) => e,
      )) as ExportError;
      expect(err).to.be.instanceOf(ExportError);
      expect(err.code).to.equal(ExporterErrorCode.TIMEOUT);
      expect(err.retriable).to.equal(true);
      expect(Date.now() - started).to.be.within(190, 1500);
      agent.destroy();
    } finally {
      await s.close();
    }
  });

  it('rejects with a retriable NETWORK error when nothing listens, and when aborted', async () => {
    const s = await serve((req) => {
      req.resume();
    });
    const url = s.url;
    await s.close();
    const agent = createAgent(url, loadTls(tlsSchema.parse(undefined)), 1);
    const refused = (await postBytes(url, Buffer.from('x'), { headers: {}, timeoutMs: 2000, agent }).catch(
      (e: unknown) => e,
    )) as ExportError;
    expect(refused.code).to.equal(ExporterErrorCode.NETWORK);
    expect(refused.retriable).to.equal(true);
    expect(refused.message).to.match(/ECONNREFUSED/);
    const ac = new AbortController();
    ac.abort();
    const aborted = (await postBytes(url, Buffer.from('x'), {
      headers: {},
      timeoutMs: 2000,
      agent,
      signal: ac.signal,
    }).catch((e: unknown) => e)) as ExportError;
    expect(aborted.code).to.equal(ExporterErrorCode.NETWORK);
    expect(aborted.retriable).to.equal(true);
    agent.destroy();
  });
});
