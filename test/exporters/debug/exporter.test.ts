// Unit tests of the `debug` exporter: text (basic: one line per span; detailed: indented details) and JSON
// lines (OTLP/JSON field names), written to a file; log records the same way; undecodable chunks; lifecycle.

import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { factory } from '../../../exporters/debug/factory';
import { durationText, isoNanos, severityName, valueText } from '../../../exporters/debug/format';
import { encodeLogs, type OtlpLogRecord } from '../../../pipeline/sdk/otlp';
import type { LogChunk } from '../../../pipeline/sdk/trace-batch';
import { ExportRejectedError } from '../../../pipeline/sdk/exporterhelper/errors';
import { ShutdownError } from '../../../pipeline/sdk/errors';
import {
  arr,
  batchOf,
  bytes,
  chunkOf,
  int,
  kv,
  kvlist,
  metricValue,
  newTraceId,
  richTrace,
  settings,
  str,
} from '../../pipeline/sdk/exporterhelper/fixtures';

const host = { reportFatalError() {} };
const T0 = 1_700_000_000_123_456_789n;

async function run(
  cfg: Record<string, unknown>,
): Promise<{ out: string; traceId: string; ids: ReturnType<typeof richTrace>['ids']; s: ReturnType<typeof settings> }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-debug-')), 'out.log');
  const s = settings('exporters.debug');
  const exp = factory.create(s, factory.configSchema.parse({ ...cfg, path: file }));
  await exp.start(host);
  const traceId = newTraceId();
  const { rs, ids } = richTrace(traceId, ['frontend', 'backend'], T0);
  await exp.consumeTraces(batchOf(chunkOf(traceId, rs)));
  await exp.shutdown();
  return { out: fs.readFileSync(file, 'utf8'), traceId, ids, s };
}

describe('exporters/debug', () => {
  it('formats times, durations and values', () => {
    expect(isoNanos(T0)).to.equal('2023-11-14T22:13:20.123456789Z');
    expect(durationText(250_000_777n)).to.equal('250.000ms');
    expect(durationText(1_500n)).to.equal('0.001ms');
    expect(valueText(arr(str('a'), int(2)))).to.equal('["a", 2]');
    expect(valueText(kvlist(kv('k', bytes(Uint8Array.from([1])))))).to.equal('{k=b64:AQ==}');
  });

  it('basic text: exactly one line per span with ids, service, kind, duration and status', async () => {
    const { out, traceId, ids, s } = await run({});
    const lines = out.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.equal(
      `2023-11-14T22:13:20.123456789Z frontend "GET /checkout" kind=SERVER trace=${traceId} span=${ids.root} parent=- dur=250.000ms status=OK`,
    );
    expect(lines[2]).to.match(
      new RegExp(
        `backend "parse rows" kind=INTERNAL trace=${traceId} span=${ids.grand} parent=${ids.child} dur=8\\.999ms status=ERROR "bad row 3"$`,
      ),
    );
    expect(await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.debug' })).to.equal(3);
  });

  it('detailed text: attributes, resource, scope, events, links and dropped counts below each span', async () => {
    const { out, ids } = await run({ verbosity: 'detailed' });
    expect(out).to.include(
      '    attributes: http.method="GET" http.status_code=200 ratio=0.25 cache.hit=true big=9007199254740993 tags=["a", "b,c"]',
    );
    expect(out).to.include('    resource: service.name="frontend" host.name="web-1" deployment.environment="test"');
    expect(out).to.include('    scope: test-scope@1.2.3');
    expect(out).to.include('    event 2023-11-14T22:13:20.133457788Z "cache.lookup" key="cart:42" hit=true size=3');
    expect(out).to.include(`    link trace=${ids.linkTrace} span=${ids.linkSpan} link.kind="retry-of"`);
    expect(out).to.include('    dropped: attributes=1 events=3');
  });

  it('basic JSON: one OTLP/JSON-shaped object per line', async () => {
    const { out, traceId, ids } = await run({ format: 'json' });
    const objs = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).to.have.length(3);
    expect(objs[0]).to.deep.equal({
      traceId,
      spanId: ids.root,
      parentSpanId: '',
      name: 'GET /checkout',
      kind: 2,
      startTimeUnixNano: T0.toString(),
      endTimeUnixNano: (T0 + 250_000_777n).toString(),
      status: { code: 1 },
      service: 'frontend',
    });
  });

  it('detailed JSON: typed attribute values, events, links, resource and scope', async () => {
    const { out } = await run({ format: 'json', verbosity: 'detailed' });
    const root = JSON.parse(out.split('\n')[0]) as {
      attributes: unknown[];
      events: unknown[];
      resource: { attributes: unknown[] };
      scope: unknown;
    };
    expect(root.attributes).to.deep.include({ key: 'big', value: { intValue: '9007199254740993' } });
    expect(root.attributes).to.deep.include({ key: 'payload', value: { bytesValue: 'AAEC+g==' } });
    expect(root.attributes).to.deep.include({
      key: 'user',
      value: {
        kvlistValue: {
          values: [
            { key: 'id', value: { intValue: '42' } },
            { key: 'name', value: { stringValue: 'ann' } },
          ],
        },
      },
    });
    expect(root.attributes).to.deep.include({ key: 'ratio', value: { doubleValue: 0.25 } });
    expect(root.events).to.deep.equal([
      {
        timeUnixNano: (T0 + 10_000_999n).toString(),
        name: 'cache.lookup',
        droppedAttributesCount: 0,
        attributes: [
          { key: 'key', value: { stringValue: 'cart:42' } },
          { key: 'hit', value: { boolValue: true } },
          { key: 'size', value: { intValue: '3' } },
        ],
      },
    ]);
    expect(root.resource.attributes).to.deep.include({ key: 'host.name', value: { stringValue: 'web-1' } });
    expect(root.scope).to.deep.equal({ name: 'test-scope', version: '1.2.3', attributes: [] });
  });

  it('rejects undecodable chunks permanently after writing the good ones', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-debug-')), 'out.log');
    const exp = factory.create(settings(), factory.configSchema.parse({ path: file }));
    const good = newTraceId();
    const err = (await exp
      .consumeTraces(
        batchOf(chunkOf(good, richTrace(good, ['a', 'b'], T0).rs), {
          traceId: 'bad',
          data: Uint8Array.from([0x0a, 0x09]),
          spanCount: 2,
        }),
      )
      .catch((e: unknown) => e)) as ExportRejectedError;
    expect(err).to.be.instanceOf(ExportRejectedError);
    expect(err.traceIds).to.deep.equal(['bad']);
    await exp.shutdown();
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).to.have.length(3);
  });

  describe('log records', () => {
    function logChunk(traceId: string, records: Partial<OtlpLogRecord>[]): LogChunk {
      const logRecords: OtlpLogRecord[] = records.map((r) => ({
        timeUnixNano: T0,
        observedTimeUnixNano: T0 + 1_000n,
        severityNumber: 9,
        severityText: '',
        body: str('hello'),
        attributes: [],
        droppedAttributesCount: 0,
        flags: 1,
        traceId,
        spanId: '',
        eventName: '',
        ...r,
      }));
      const data = encodeLogs([
        {
          resource: { attributes: [kv('service.name', str('checkout'))], droppedAttributesCount: 0, entityRefs: [] },
          schemaUrl: '',
          scopeLogs: [
            {
              scope: { name: 'app-logger', version: '2.0', attributes: [], droppedAttributesCount: 0 },
              schemaUrl: '',
              logRecords,
            },
          ],
        },
      ]);
      return { traceId, data, recordCount: logRecords.length };
    }

    async function runLogs(
      cfg: Record<string, unknown>,
      chunks: LogChunk[],
    ): Promise<{ out: string; err: unknown; s: ReturnType<typeof settings> }> {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-debug-')), 'out.log');
      const s = settings('exporters.debug');
      const exp = factory.create(s, factory.configSchema.parse({ ...cfg, path: file }));
      await exp.start(host);
      if (!exp.consumeLogs) throw new Error('the debug exporter takes no logs');
      const err = await exp.consumeLogs({ chunks }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await exp.shutdown();
      return { out: fs.readFileSync(file, 'utf8'), err, s };
    }

    it('names severities like OTLP: the text when set, else the short name of the number', () => {
      expect(severityName({ severityText: 'warning', severityNumber: 13 })).to.equal('warning');
      expect(
        [0, 1, 5, 9, 10, 13, 17, 20, 21, 24, 30].map((n) => severityName({ severityText: '', severityNumber: n })),
      ).to.deep.equal([
        '-',
        'TRACE',
        'DEBUG',
        'INFO',
        'INFO2',
        'WARN',
        'ERROR',
        'ERROR4',
        'FATAL',
        'FATAL4',
        'SEVERITY30',
      ]);
    });

    it('basic text: one line per record with time, service, severity, body and ids; counted as log records', async () => {
      const id = newTraceId();
      const { out, err, s } = await runLogs({}, [
        logChunk(id, [
          { spanId: '00f067aa0ba902b7' },
          { severityNumber: 17, body: str('payment failed'), timeUnixNano: 0n },
        ]),
      ]);
      expect(err).to.equal(undefined);
      expect(out.trimEnd().split('\n')).to.deep.equal([
        `2023-11-14T22:13:20.123456789Z checkout INFO "hello" trace=${id} span=00f067aa0ba902b7`,
        `2023-11-14T22:13:20.123457789Z checkout ERROR "payment failed" trace=${id} span=-`, // no time: the observed time
      ]);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_sent_log_records_total', { exporter: 'exporters.debug' }),
      ).to.equal(2);
      expect(
        (await metricValue(s.metrics, 'tusk_exporter_sent_spans_total', { exporter: 'exporters.debug' })) ?? 0,
        'no span counted',
      ).to.equal(0);
    });

    it('detailed JSON: OTLP/JSON field names, typed body and attributes, resource and scope', async () => {
      const id = newTraceId();
      const { out } = await runLogs({ format: 'json', verbosity: 'detailed' }, [
        logChunk(id, [
          { attributes: [kv('order', int(42))], eventName: 'order.failed', body: kvlist(kv('code', int(7))) },
        ]),
      ]);
      const obj = JSON.parse(out.trimEnd()) as Record<string, unknown>;
      expect(obj).to.deep.include({
        traceId: id,
        spanId: '',
        severityNumber: 9,
        timeUnixNano: T0.toString(),
        eventName: 'order.failed',
        flags: 1,
        body: { kvlistValue: { values: [{ key: 'code', value: { intValue: '7' } }] } },
        attributes: [{ key: 'order', value: { intValue: '42' } }],
        scope: { name: 'app-logger', version: '2.0', attributes: [] },
      });
      expect(obj.resource).to.deep.equal({
        attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }],
        droppedAttributesCount: 0,
      });
    });

    it('rejects undecodable log chunks permanently after writing the good ones', async () => {
      const good = newTraceId();
      const { out, err, s } = await runLogs({}, [
        logChunk(good, [{}, {}]),
        { traceId: 'bad', data: Uint8Array.from([0x0a, 0x09]), recordCount: 3 },
      ]);
      expect(err).to.be.instanceOf(ExportRejectedError);
      expect((err as ExportRejectedError).traceIds).to.deep.equal(['bad']);
      expect((err as Error).message).to.match(/1 log chunk\(s\) could not be decoded/);
      expect(out.trimEnd().split('\n')).to.have.length(2);
      expect(
        await metricValue(s.metrics, 'tusk_exporter_failed_log_records_total', {
          exporter: 'exporters.debug',
          kind: 'permanent',
        }),
      ).to.equal(3);
    });
  });

  it('fails start for a path that cannot be opened; shutdown is idempotent and safe without start', async () => {
    const bad = factory.create(settings(), factory.configSchema.parse({ path: '/nonexistent-dir/x/out.log' }));
    const err = await bad.start(host).catch((e: NodeJS.ErrnoException) => e.code);
    expect(err).to.equal('ENOENT');
    await Promise.all([bad.shutdown(), bad.shutdown()]);
    const fresh = factory.create(settings(), factory.createDefaultConfig());
    await fresh.shutdown();
    expect(await fresh.consumeTraces(batchOf()).catch((e: unknown) => e)).to.be.instanceOf(ShutdownError);
    expect(factory.createDefaultConfig()).to.deep.equal({ verbosity: 'basic', format: 'text', path: '' });
    expect(factory.configSchema.safeParse({ verbosity: 'loud' }).success).to.equal(false);
  });
});
