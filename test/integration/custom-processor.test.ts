// A custom processor module declared in a .tsk file runs inside a real pipeline (the tusk-collector
// binary, OTLP in, the real Jaeger out) and its effect is visible in what Jaeger stored.

import { expect } from 'chai';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { startCollector, type CollectorProcess } from '../helpers/collector-process';
import { createProtoClient } from '../helpers/sdk-client';
import { waitForTrace } from '../helpers/jaeger';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'config', 'custom-processor.tsk');

describe('integration: custom processor module in a real pipeline', function () {
  this.timeout(90_000);
  let collector: CollectorProcess | undefined;

  after(async () => {
    await collector?.stop('SIGTERM');
  });

  it('redacts the configured attributes before export and leaves the others as sent', async () => {
    const [http, admin] = [await freePort(), await freePort()];
    collector = await startCollector(FIXTURE, [], {
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
    });
    const client = createProtoClient(`redact-${process.pid}-${Date.now()}`, `http://127.0.0.1:${http}/v1/traces`);
    const span = client.tracer.startSpan('login', {
      attributes: { 'user.email': 'a@example.com', 'db.Password': 'hunter2', 'user.id': 42 },
    });
    span.end();
    await client.flush();
    await client.shutdown();
    const t = await waitForTrace(span.spanContext().traceId, 1);
    expect(t, 'trace in Jaeger').to.not.equal(undefined);
    const tags = Object.fromEntries(t!.spans[0].tags.map((x) => [x.key, x.value]));
    expect(tags['user.email']).to.equal('[redacted]');
    expect(tags['db.Password']).to.equal('[redacted]');
    expect(tags['user.id']).to.equal(42);
  });
});
