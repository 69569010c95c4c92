// Lifecycle and config tests of the otlp receiver: factory defaults, config validation, start/shutdown
// (idempotent, safe without start), clear bind errors, bounded draining of in-flight requests, and
// TLS / mutual TLS on both transports with certificates made by openssl for the test.

import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { TRACE_SERVICE_EXPORT_PATH } from '../../../pipeline/sdk/otlp';
import { factory } from '../../../receivers/otlp/factory';
import { makeFixture, type Fixture } from '../../pipeline/sdk/otlp/fixtures';
import { FakeNext, deferred, grpcExport, post, startReceiver } from './helpers';

const settings = () => ({
  id: 'receivers.otlp',
  name: 'otlp',
  logger: pino({ level: 'silent' }),
  metrics: new Registry(),
});
const host = { reportFatalError: () => undefined };
const PROTO = { 'Content-Type': 'application/x-protobuf' };

function issues(raw: unknown): string[] {
  const r = factory.configSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('receivers/otlp lifecycle and config', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture({ seed: 9, traces: 3 });
  });

  describe('config', () => {
    it('has OTLP defaults and a new object each time', () => {
      const a = factory.createDefaultConfig();
      expect(a).to.deep.equal({
        http: {
          endpoint: '0.0.0.0:4318',
          max_request_body_size: 20 * 1024 * 1024,
          cors_allowed_origins: [],
          cors_allowed_headers: [],
          traces_path: '/v1/traces',
          logs_path: '/v1/logs',
        },
        grpc: { endpoint: '0.0.0.0:4317', max_recv_msg_size: 20 * 1024 * 1024 },
        max_inflight_bytes: 64 * 1024 * 1024,
        retry_after: 1000,
        shutdown_timeout: 10000,
      });
      expect(factory.createDefaultConfig()).to.not.equal(a);
      expect(factory.type).to.equal('otlp');
      expect(factory.kind).to.equal('receiver');
    });

    it('accepts the "host:port" shorthand and "" to disable a transport', () => {
      const c = factory.configSchema.parse({ http: '127.0.0.1:4318', grpc: '' });
      expect(c.http.endpoint).to.equal('127.0.0.1:4318');
      expect(c.http.max_request_body_size).to.equal(20 * 1024 * 1024);
      expect(c.grpc.endpoint).to.equal('');
    });

    it('reports every problem with its path', () => {
      expect(issues({ http: { endpoint: 'nonsense' } })).to.deep.equal([
        'http.endpoint: expected "host:port", e.g. "0.0.0.0:4318"',
      ]);
      expect(issues({ http: '', grpc: '' })).to.deep.equal([
        'http.endpoint: both http.endpoint and grpc.endpoint are empty: enable at least one transport',
      ]);
      expect(issues({ http: '0.0.0.0:4317' })).to.deep.equal([
        'grpc.endpoint: http and grpc cannot share the address 0.0.0.0:4317',
      ]);
      expect(issues({ max_inflight_bytes: '1MiB' })).to.have.length(2);
      expect(issues({ max_inflight_bytes: 0 })).to.deep.equal([]);
      expect(issues({ grpc: { max_recv_msg_size: 'lots' }, bogus: 1 })).to.have.length(2);
      expect(issues({ http: { tls: { cert_file: 'c.pem' }, auth: {} } }).join('\n'))
        .to.match(/http\.tls\.key_file/)
        .and.match(/http\.auth: set bearer_tokens_env/);
    });
  });

  describe('start and shutdown', () => {
    it('shutdown is safe without start and idempotent', async () => {
      const r = factory.create(settings(), factory.configSchema.parse({ http: '127.0.0.1:0', grpc: '127.0.0.1:0' }), {
        traces: new FakeNext(),
      });
      await r.shutdown();
      await r.shutdown();
      const s = await startReceiver();
      expect(s.receiver.health()).to.deep.include({ ready: true });
      await Promise.all([s.receiver.shutdown(), s.receiver.shutdown()]);
      await s.receiver.shutdown();
      expect(s.receiver.health().ready).to.equal(false);
      expect(s.receiver.addresses()).to.deep.equal({});
    });

    it('reports bind errors clearly and leaves nothing listening', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        for (const [cfg, transport] of [
          [{ http: `127.0.0.1:${port}`, grpc: '127.0.0.1:0' }, 'OTLP/HTTP'],
          [{ http: '127.0.0.1:0', grpc: `127.0.0.1:${port}` }, 'OTLP/gRPC'],
        ] as const) {
          const r = factory.create(settings(), factory.configSchema.parse(cfg), { traces: new FakeNext() });
          try {
            await r.start(host);
            expect.fail('start should fail');
          } catch (err) {
            expect((err as { code?: string }).code).to.equal('ERR_OTLP_RECEIVER_LISTEN');
            expect((err as Error).message).to.equal(
              `receivers.otlp: cannot listen on 127.0.0.1:${port}: address in use (${transport})`,
            );
          }
          await r.shutdown();
        }
      } finally {
        blocker.close();
      }
    });

    it('waits for in-flight requests on shutdown and answers them when downstream settles', async () => {
      const s = await startReceiver();
      const gate = deferred();
      s.next.behaviour = () => gate.promise;
      const httpReq = post(`${s.httpBase}/v1/traces`, fx.request, PROTO);
      const grpcReq = grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.next.traceBatches).to.have.length(2);
      let done = false;
      const shut = s.receiver.shutdown().then(() => {
        done = true;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(done, 'shutdown resolved before in-flight requests were answered').to.equal(false);
      gate.resolve();
      expect((await httpReq).status).to.equal(200);
      await grpcReq;
      await shut;
      expect(done).to.equal(true);
    });

    it('bounds the drain: after shutdown_timeout waiting requests get 503 / UNAVAILABLE', async function () {
      this.timeout(10000);
      const s = await startReceiver({ shutdown_timeout: '300ms' });
      s.next.behaviour = () => new Promise<void>(() => undefined); // downstream never settles
      const httpReq = post(`${s.httpBase}/v1/traces`, fx.request, PROTO);
      const grpcReq = grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request).then(
        () => -1,
        (err: grpc.ServiceError) => err.code,
      );
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await s.receiver.shutdown();
      expect(Date.now() - t0).to.be.lessThan(2000);
      const h = await httpReq;
      expect(h.status).to.equal(503);
      expect(h.headers.get('retry-after')).to.equal('1');
      expect(await grpcReq).to.equal(grpc.status.UNAVAILABLE);
    });
  });

  describe('TLS', () => {
    let dir: string;
    before(function () {
      this.timeout(20000);
      dir = mkdtempSync(join(tmpdir(), 'tusk-otlp-tls-'));
      const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=tusk test CA',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
      );
      writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      for (const name of ['server', 'client']) {
        ssl(
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          `/CN=${name}`,
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
        );
        ssl(
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-days',
          '2',
          '-out',
          `${name}.crt`,
          ...(name === 'server' ? ['-extfile', 'server.ext'] : []),
        );
      }
    });

    function httpsPost(url: string, withClientCert: boolean): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = https.request(
          url,
          {
            method: 'POST',
            headers: PROTO,
            ca: readFileSync(join(dir, 'ca.crt')),
            servername: 'localhost',
            ...(withClientCert
              ? { cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key')) }
              : {}),
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(Buffer.from(fx.request));
      });
    }

    it('serves OTLP/HTTP and OTLP/gRPC over TLS, and requires client certificates with client_ca_file', async () => {
      const tls = { cert_file: join(dir, 'server.crt'), key_file: join(dir, 'server.key') };
      let s = await startReceiver({ http: { tls }, grpc: { tls } });
      try {
        expect(await httpsPost(`https://${s.receiver.addresses().http}/v1/traces`, false)).to.equal(200);
        await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, {
          credentials: grpc.credentials.createSsl(readFileSync(join(dir, 'ca.crt'))),
          channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
        });
        expect(s.next.traceBatches).to.have.length(2);
      } finally {
        await s.receiver.shutdown();
      }
      const mtls = { ...tls, client_ca_file: join(dir, 'ca.crt') };
      s = await startReceiver({ http: { tls: mtls }, grpc: { tls: mtls } });
      try {
        const url = `https://${s.receiver.addresses().http}/v1/traces`;
        let refused = false;
        await httpsPost(url, false).catch(() => {
          refused = true;
        });
        expect(refused, 'TLS handshake without a client certificate must fail').to.equal(true);
        expect(await httpsPost(url, true)).to.equal(200);
        const ca = readFileSync(join(dir, 'ca.crt'));
        await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, {
          credentials: grpc.credentials.createSsl(ca),
          channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
        }).then(
          () => expect.fail('gRPC without a client certificate must fail'),
          (err: grpc.ServiceError) => expect(err.code).to.equal(grpc.status.UNAVAILABLE),
        );
        await grpcExport(s.grpcTarget, TRACE_SERVICE_EXPORT_PATH, fx.request, {
          credentials: grpc.credentials.createSsl(
            ca,
            readFileSync(join(dir, 'client.key')),
            readFileSync(join(dir, 'client.crt')),
          ),
          channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
        });
        expect(s.next.traceBatches).to.have.length(2);
      } finally {
        await s.receiver.shutdown();
      }
    });

    it('fails to start with a clear error when a TLS file is missing', async () => {
      const r = factory.create(
        settings(),
        factory.configSchema.parse({
          http: {
            endpoint: '127.0.0.1:0',
            tls: { cert_file: join(dir, 'nope.crt'), key_file: join(dir, 'server.key') },
          },
          grpc: '',
        }),
        { traces: new FakeNext() },
      );
      try {
        await r.start(host);
        expect.fail('start should fail');
      } catch (err) {
        expect((err as { code?: string }).code).to.equal('ERR_OTLP_RECEIVER_TLS');
        expect((err as Error).message).to.match(/receivers\.otlp\.http\.tls\.cert_file: cannot read .*nope\.crt/);
      } finally {
        await r.shutdown();
      }
    });
  });
});
