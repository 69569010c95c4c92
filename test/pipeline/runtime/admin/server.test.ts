// The admin server: health and readiness, Prometheus text, decision look-ups with id validation,
// the running config with secrets redacted, and clear answers to wrong methods and paths.

import { expect } from 'chai';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { AdminServer, type AdminSource } from '../../../../pipeline/runtime/admin/server';
import { redact } from '../../../../pipeline/runtime/admin/redact';
import type { DecisionRecord } from '../../../../pipeline/sdk/component';
import type { ComponentStatus } from '../../../../pipeline/runtime/service';

const TRACE = '0af7651916cd43dd8448eb211c80319c';

describe('pipeline/runtime/admin: server', () => {
  let server: AdminServer;
  let base: string;
  let statuses: ComponentStatus[];
  const metrics = new Registry();
  const counter = new Counter({ name: 'tusk_test_events_total', help: 'test events', registers: [metrics] });
  const record: DecisionRecord = {
    traceId: TRACE,
    decision: 'sampled',
    policy: 'errors',
    reason: 'a span has status ERROR',
    inputs: { error_spans: 1 },
    decidedAt: 1,
  };

  before(async () => {
    const source: AdminSource = {
      status: () => statuses,
      explainDecision: async (id) => (id === TRACE ? record : undefined),
      configDocument: () => ({
        exporters: { kafka: { brokers: ['b:9092'], sasl: { password: 'hunter2' } } },
        processors: { tail_sampling: { redis: { url: 'redis://user:pw@host:6379' } } },
      }),
    };
    server = new AdminServer(source, metrics, pino({ level: 'silent' }));
    const addr = await server.listen('127.0.0.1:0');
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(() => server.close());

  it('answers /healthz and turns /readyz unready when a component is not ready', async () => {
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    statuses = [{ id: 'exporters.jaeger', started: true, ready: true }];
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    statuses = [
      { id: 'exporters.jaeger', started: true, ready: true },
      { id: 'receivers.kafka', started: true, ready: false, detail: 'broker unreachable' },
    ];
    const res = await fetch(`${base}/readyz`);
    expect(res.status).to.equal(503);
    const body = (await res.json()) as { components: ComponentStatus[] };
    expect(body.components[1].detail).to.equal('broker unreachable');
  });

  it("answers health on / as the Collector's health_check does, for probes and charts made for it", async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { status: string; upSince: string; uptime: string };
    expect(body.status).to.equal('Server available');
    expect(Date.parse(body.upSince)).to.be.at.most(Date.now());
    expect(body.uptime).to.match(/^\d+\.\d{3}s$/);
    expect((await fetch(`${base}/`, { method: 'HEAD' })).status).to.equal(200);
  });

  it('serves Prometheus text whose counters match what was counted', async () => {
    counter.inc(3);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).to.contain('text/plain');
    const text = await res.text();
    expect(text).to.contain('# TYPE tusk_test_events_total counter');
    expect(text).to.match(/^tusk_test_events_total 3$/m);
  });

  it('explains decisions, validates trace ids and says 404 for unknown ones', async () => {
    const ok = await fetch(`${base}/v1/decisions/${TRACE.toUpperCase()}`);
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal(record);
    expect((await fetch(`${base}/v1/decisions/xyz`)).status).to.equal(400);
    expect((await fetch(`${base}/v1/decisions/${'1'.repeat(32)}`)).status).to.equal(404);
  });

  it('shows the config with secrets redacted', async () => {
    const body = (await (await fetch(`${base}/v1/config`)).json()) as {
      exporters: { kafka: { brokers: string[]; sasl: unknown } };
      processors: { tail_sampling: { redis: { url: string } } };
    };
    expect(body.exporters.kafka.brokers).to.deep.equal(['b:9092']);
    expect(body.exporters.kafka.sasl).to.deep.equal({ password: '***' });
    expect(body.processors.tail_sampling.redis.url).to.equal('redis://user:***@host:6379');
    expect(JSON.stringify(body)).to.not.contain('hunter2');
  });

  it('answers wrong methods and paths clearly', async () => {
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.contain('GET');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).to.equal(404);
    const text = await missing.text();
    expect(text).to.contain('/healthz');
    expect(text).to.contain('try /, /healthz');
  });

  it('redacts tokens, keys and passwords at any depth but keeps other values', () => {
    expect(
      redact({ a: { api_key: 'k', token: 't', headers: { authorization: 'Bearer x' }, url: 'http://h/' } }),
    ).to.deep.equal({
      a: { api_key: '***', token: '***', headers: { authorization: '***' }, url: 'http://h/' },
    });
    expect(redact({ key_prefix: 'tusk:' })).to.deep.equal({ key_prefix: 'tusk:' });
  });

  it('masks the Redis passwords (data nodes, sentinels, URL) but shows where the password files are', () => {
    const redis = {
      url: 'rediss://app:hunter2@r:6379',
      username: 'tusk',
      password: 'hunter2',
      password_file: '/run/secrets/redis',
      tls: { ca_file: '/ca.pem', key_file: '/k.pem' },
      sentinel: { master_name: 'm', nodes: ['s:26379'], password: 'hunter3' },
    };
    expect(redact({ redis })).to.deep.equal({
      redis: {
        ...redis,
        url: 'rediss://app:***@r:6379',
        password: '***',
        sentinel: { ...redis.sentinel, password: '***' },
      },
    });
    expect(redact({ bearer_tokens_env: 'TOKENS', token: 't' })).to.deep.equal({
      bearer_tokens_env: 'TOKENS',
      token: '***',
    });
  });
});
