// The [tracing] section: the seed's exact example file, @env at call time, defaults, and a clear
// ConfigError (with key path and file:line:col) for every bad value.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTsk } from '../../config/tsk/parser';
import {
  ConfigError,
  DEFAULT_JAEGER_ENDPOINT,
  DEFAULT_OTLP_ENDPOINT,
  loadTracingSection,
  resolveTracingConfig,
  tracingParseHooks,
  type ConfigIssue,
  type TracingSection,
} from '../../instrument';

const SEED = path.join(__dirname, '..', 'fixtures', 'config', 'tracing-seed.tsk');

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).code).to.equal('ERR_CONFIG_INVALID');
    return [...(err as ConfigError).issues];
  }
  expect.fail('expected a ConfigError');
}

const tmpDirs: string[] = [];

function tmpTsk(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-instrument-'));
  tmpDirs.push(dir);
  const file = path.join(dir, 'tracing.tsk');
  fs.writeFileSync(file, text);
  return file;
}

describe('instrument/config: the [tracing] section', () => {
  after(() => {
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("the seed's example file", () => {
    it('resolves with its variables set, without code changes', () => {
      const env = {
        JAEGER_ENDPOINT: 'http://127.0.0.1:14268/api/traces',
        SAMPLING_RATE: '0.25',
        SERVICE_NAME: 'checkout',
      };
      expect(resolveTracingConfig(SEED, { env })).to.deep.equal({
        serviceName: 'checkout',
        backend: 'jaeger',
        endpoint: 'http://127.0.0.1:14268/api/traces',
        samplingRate: 0.25,
        traceDurationMetric: 'trace_duration_ms',
        correlation: true,
        metricsPort: 9464,
        metricsHost: '127.0.0.1',
        logLevel: 'info',
      });
    });

    it('uses the @env defaults: sampling 0.1 and the Jaeger default endpoint when JAEGER_ENDPOINT is unset', () => {
      const c = resolveTracingConfig(SEED, { env: { SERVICE_NAME: 'svc' } });
      expect(c.samplingRate).to.equal(0.1);
      expect(c.endpoint).to.equal(DEFAULT_JAEGER_ENDPOINT);
    });

    it('reads @env at call time, not at import', () => {
      expect(resolveTracingConfig(SEED, { env: { SERVICE_NAME: 'one' } }).serviceName).to.equal('one');
      expect(resolveTracingConfig(SEED, { env: { SERVICE_NAME: 'two' } }).serviceName).to.equal('two');
      const name = `TUSK_INSTRUMENT_TEST_${process.pid}`;
      const file = tmpTsk(`[tracing]\nservice_name: @env("${name}")\n`);
      process.env[name] = 'from-process-env';
      try {
        expect(resolveTracingConfig(file).serviceName).to.equal('from-process-env');
      } finally {
        delete process.env[name];
      }
    });

    it('reports an empty service_name with the file position of the key', () => {
      const issues = issuesOf(() => resolveTracingConfig(SEED, { env: {} }));
      expect(issues).to.have.length(1);
      expect(issues[0]).to.include({ code: 'ERR_CONFIG_INVALID_VALUE', path: 'tracing.service_name' });
      expect(issues[0].message).to.match(/required/);
      expect(issues[0].pos).to.deep.include({ line: 5, column: 1 });
    });

    it('keeps the seed parser warning for @go out of the way (correlation is on, nothing thrown)', () => {
      const loaded = loadTracingSection(SEED, { env: { SERVICE_NAME: 'svc' } });
      expect(loaded.warnings.map((w) => w.code)).to.deep.equal(['TSK_UNKNOWN_OPERATOR']);
      expect(loaded.section.correlation).to.equal('@go("tracing.CorrelateLogs")');
    });
  });

  describe('sampling_rate', () => {
    for (const bad of ['abc', '1.5', '-0.1', 'NaN']) {
      it(`rejects SAMPLING_RATE=${JSON.stringify(bad)} with a clear message and position`, () => {
        const issues = issuesOf(() => resolveTracingConfig(SEED, { env: { SERVICE_NAME: 'svc', SAMPLING_RATE: bad } }));
        expect(issues).to.have.length(1);
        expect(issues[0].path).to.equal('tracing.sampling_rate');
        expect(issues[0].message)
          .to.match(/number from 0 to 1/)
          .and.to.include(JSON.stringify(bad));
        expect(issues[0].pos).to.deep.include({ line: 4, column: 1 });
      });
    }

    it('accepts numbers and numeric strings at both ends of 0..1, default 1 when absent', () => {
      expect(resolveTracingConfig({ service_name: 's', sampling_rate: 0 }).samplingRate).to.equal(0);
      expect(resolveTracingConfig({ service_name: 's', sampling_rate: '1' }).samplingRate).to.equal(1);
      expect(resolveTracingConfig({ service_name: 's', sampling_rate: ' 0.5 ' }).samplingRate).to.equal(0.5);
      expect(resolveTracingConfig({ service_name: 's' }).samplingRate).to.equal(1);
    });
  });

  describe('backend and endpoint', () => {
    it('defaults to OTLP to a local tusk-collector', () => {
      const c = resolveTracingConfig({ service_name: 's' });
      expect(c.backend).to.equal('otlp');
      expect(c.endpoint).to.equal(DEFAULT_OTLP_ENDPOINT);
    });

    it('completes an OTLP base URL with /v1/traces and keeps a full one', () => {
      expect(resolveTracingConfig({ service_name: 's', endpoint: 'http://10.0.0.1:4318' }).endpoint).to.equal(
        'http://10.0.0.1:4318/v1/traces',
      );
      expect(resolveTracingConfig({ service_name: 's', endpoint: 'http://h:4318/custom/traces' }).endpoint).to.equal(
        'http://h:4318/custom/traces',
      );
    });

    it('accepts JAEGER in any case and rejects other backends and non-http endpoints', () => {
      expect(resolveTracingConfig({ service_name: 's', backend: 'JAEGER' }).backend).to.equal('jaeger');
      const issues = issuesOf(() =>
        resolveTracingConfig({ service_name: 's', backend: 'zipkin', endpoint: 'udp://x:6831' }),
      );
      expect(issues.map((i) => i.path)).to.deep.equal(['tracing.backend', 'tracing.endpoint']);
      expect(issues[0].message).to.include('"otlp" or "jaeger"');
      expect(issues[1].message).to.include('http(s) URL');
    });
  });

  describe('metrics', () => {
    it('keeps the intent of @metrics(...) through the kit hooks (the default hook keeps only the 0)', () => {
      const text = '[tracing]\nservice_name: "s"\nmetrics: @metrics("checkout_trace_ms", 0)\n';
      const plain = parseTsk(text).data.tracing as TracingSection;
      expect(plain.metrics).to.equal(0);
      expect(resolveTracingConfig(plain).traceDurationMetric).to.equal(undefined);
      const hooked = parseTsk(text, { hooks: tracingParseHooks() }).data.tracing as TracingSection;
      expect(hooked.metrics).to.deep.equal({ '@metrics': 'checkout_trace_ms', initial: 0 });
      expect(resolveTracingConfig(hooked).traceDurationMetric).to.equal('checkout_trace_ms');
      expect(resolveTracingConfig(tmpTsk(text)).traceDurationMetric).to.equal('checkout_trace_ms');
    });

    it('accepts true, a metric name and off words', () => {
      expect(resolveTracingConfig({ service_name: 's', metrics: true }).traceDurationMetric).to.equal(
        'trace_duration_ms',
      );
      expect(resolveTracingConfig({ service_name: 's', metrics: 'my_ms' }).traceDurationMetric).to.equal('my_ms');
      expect(resolveTracingConfig({ service_name: 's', metrics: 'off' }).traceDurationMetric).to.equal(undefined);
      expect(resolveTracingConfig({ service_name: 's', metrics: false }).traceDurationMetric).to.equal(undefined);
    });

    it('rejects invalid metric names and other values', () => {
      const a = issuesOf(() => resolveTracingConfig({ service_name: 's', metrics: 'trace duration' }));
      expect(a[0].path).to.equal('tracing.metrics');
      expect(a[0].message).to.include('invalid metric');
      const b = issuesOf(() => resolveTracingConfig({ service_name: 's', metrics: 7 }));
      expect(b[0].message).to.include('@metrics("trace_duration_ms", 0)');
    });
  });

  describe('correlation', () => {
    it('is on for any truthy value (the seed writes @go(...)), off when absent or false-like', () => {
      expect(
        resolveTracingConfig({ service_name: 's', correlation: '@go("tracing.CorrelateLogs")' }).correlation,
      ).to.equal(true);
      expect(resolveTracingConfig({ service_name: 's', correlation: true }).correlation).to.equal(true);
      expect(resolveTracingConfig({ service_name: 's', correlation: 'false' }).correlation).to.equal(false);
      expect(resolveTracingConfig({ service_name: 's', correlation: 0 }).correlation).to.equal(false);
      expect(resolveTracingConfig({ service_name: 's' }).correlation).to.equal(false);
    });
  });

  describe('the rest', () => {
    it('rejects unknown keys, bad ports and log levels, listing every problem', () => {
      const issues = issuesOf(() =>
        resolveTracingConfig({ service_name: '', sampling: 0.1, metrics_port: 70000, log_level: 'loud' }),
      );
      expect(issues.map((i) => [i.code, i.path])).to.deep.equal([
        ['ERR_CONFIG_INVALID_VALUE', 'tracing.service_name'],
        ['ERR_CONFIG_INVALID_VALUE', 'tracing.metrics_port'],
        ['ERR_CONFIG_INVALID_VALUE', 'tracing.log_level'],
        ['ERR_CONFIG_UNKNOWN_KEY', 'tracing.sampling'],
      ]);
    });

    it('merges overrides over the file and reads another section on request', () => {
      const file = tmpTsk('[tracing]\nservice_name: "a"\n\n[tracing_b]\nservice_name: "b"\nmetrics_port: "9999"\n');
      expect(resolveTracingConfig(file, { overrides: { metrics_port: 0 } }).metricsPort).to.equal(0);
      const b = resolveTracingConfig(file, { section: 'tracing_b' });
      expect([b.serviceName, b.metricsPort]).to.deep.equal(['b', 9999]);
    });

    it('reports a missing section and an unreadable file', () => {
      const issues = issuesOf(() => resolveTracingConfig(tmpTsk('[service]\nname: "x"\n')));
      expect(issues[0]).to.include({ code: 'ERR_CONFIG_MISSING_SECTION', path: 'tracing' });
      expect(() => resolveTracingConfig('/nonexistent/tracing.tsk')).to.throw(/cannot read/);
    });

    it('turns parse errors of the file into a ConfigError', () => {
      const issues = issuesOf(() => resolveTracingConfig(tmpTsk('[tracing]\nservice_name: "a"\nblock {\n  x: 1\n')));
      expect(issues.length).to.be.greaterThan(0);
      expect(issues[0].pos?.file).to.match(/tracing\.tsk$/);
    });
  });
});
