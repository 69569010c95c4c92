// Unit tests of the logs traffic used by the logs-follow drill: log records planned with the OTel logs SDK carry
// their span's trace and span ids and go with their span, and the OTLP/HTTP sink records what the load client
// (runPlannedLoad) sends it, plain or gzip, with the records' ids and trace ids.

import { expect } from 'chai';
import zlib from 'node:zlib';
import { encodeLogRecords, LOG_ID_ATTRIBUTE, planLogs, startLogsSink, type LogsSink } from './otlp-logs';
import { planTraces, postOtlp, runPlannedLoad } from './otlp-load';

describe('otlp-logs (drill traffic)', () => {
  const plan = planTraces({
    service: 'svc',
    rootName: 'GET /x',
    count: 3,
    durationMs: 300,
    children: 2,
    errorEvery: 3,
    spreadMs: 200,
  });
  let sink: LogsSink | undefined;

  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  it('emits one record per span in its context, sent with it, and one after the root', () => {
    const logs = planLogs(plan, { service: 'svc', lateMs: 500 });
    expect(logs).to.have.length(3 * 4);
    for (const t of plan) {
      const mine = logs.filter((l) => l.traceId === t.traceId);
      expect(mine.map((l) => l.spanId)).to.deep.equal([...t.spans.map((s) => s.spanId), t.rootSpanId]);
      expect(mine.map((l) => l.sendAtMs)).to.deep.equal([...t.spans.map((s) => s.sendAtMs), t.endMs + 500]);
      for (const l of mine) {
        expect(l.record.spanContext?.traceId).to.equal(t.traceId);
        expect(l.record.attributes[LOG_ID_ATTRIBUTE]).to.equal(l.id);
      }
      expect(mine[0].record.severityNumber, `trace ${t.index}`).to.equal(t.error ? 17 : 9);
    }
    expect(new Set(logs.map((l) => l.id)).size).to.equal(logs.length);
    expect(planLogs(plan, { service: 'svc', lateMs: 0 })).to.have.length(3 * 3);
  });

  it('the sink records what the load client sent (ids, trace ids, arrival), plain or gzip', async () => {
    const s = await startLogsSink();
    sink = s;
    const logs = planLogs(plan, { service: 'svc', lateMs: 100 });
    const before = Date.now();
    const r = await runPlannedLoad(
      logs,
      (l) => l.id,
      (batch) => encodeLogRecords(batch.map((l) => l.record)),
      { url: `${s.endpoint}/v1/logs`, tickMs: 20, maxSpansPerRequest: 5 },
    );
    expect([...r.acked].sort()).to.deep.equal(logs.map((l) => l.id).sort());
    expect(r.requests).to.be.at.least(3);
    for (const l of logs) expect(r.sentAt.get(l.id)).to.be.within(before, Date.now());
    expect(s.logs.map((l) => `${l.id} ${l.traceId} ${l.spanId}`).sort()).to.deep.equal(
      logs.map((l) => `${l.id} ${l.traceId} ${l.spanId}`).sort(),
    );
    for (const l of s.logs) expect(l.atMs).to.be.at.least(r.sentAt.get(l.id) ?? Infinity);

    const gz = zlib.gzipSync(encodeLogRecords([logs[0].record]));
    const res = await fetch(`${s.endpoint}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gz,
    });
    expect(res.status).to.equal(200);
    expect(s.logs.filter((l) => l.id === logs[0].id)).to.have.length(2);
    expect((await postOtlp(`${s.endpoint}/v1/traces`, new Uint8Array())).status).to.equal(200);
    expect((await postOtlp(`${s.endpoint}/v1/metrics`, new Uint8Array())).status).to.equal(404);
    expect((await postOtlp(`${s.endpoint}/v1/logs`, new Uint8Array([0xff, 0xff]))).status).to.equal(400);
  });
});
