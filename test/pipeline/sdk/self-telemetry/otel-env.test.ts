// Self-tracing settings from the OpenTelemetry environment variables (otel-env.ts): each variable, the
// precedence file > signal-specific > generic > default, and malformed values (a warning, never a throw).

import { expect } from 'chai';
import { DEFAULT_SELF_TRACING_ENDPOINT, resolveSelfTracing } from '../../../../pipeline/sdk/self-telemetry/otel-env';
import { startSelfTracing } from '../../../../pipeline/sdk/self-telemetry/tracing';

const VARS = [
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
];

describe('pipeline/sdk/self-telemetry/otel-env', () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const v of VARS) {
      saved[v] = process.env[v];
      delete process.env[v];
    }
  });
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  describe('resource', () => {
    it('defaults to service.name tusk-collector in namespace tusk-collector, with no warning', () => {
      const r = resolveSelfTracing({});
      expect(r.resource).to.deep.equal({ 'service.name': 'tusk-collector', 'service.namespace': 'tusk-collector' });
      expect(r.warnings).to.deep.equal([]);
    });

    it('takes OTEL_SERVICE_NAME', () => {
      process.env.OTEL_SERVICE_NAME = 'collector-eu';
      expect(resolveSelfTracing({}).resource['service.name']).to.equal('collector-eu');
    });

    it('takes OTEL_RESOURCE_ATTRIBUTES percent-decoded, over the default namespace', () => {
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment=prod, team=a%2Cb%3Dc ,service.namespace=obs';
      const r = resolveSelfTracing({});
      expect(r.resource).to.include({ 'deployment.environment': 'prod', team: 'a,b=c', 'service.namespace': 'obs' });
      expect(r.warnings).to.deep.equal([]);
    });

    it('OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES, which wins over the default', () => {
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.name=from-attrs';
      expect(resolveSelfTracing({}).resource['service.name']).to.equal('from-attrs');
      process.env.OTEL_SERVICE_NAME = 'from-name';
      expect(resolveSelfTracing({}).resource['service.name']).to.equal('from-name');
    });

    it('[service] name in the file wins over both', () => {
      process.env.OTEL_SERVICE_NAME = 'from-name';
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'service.name=from-attrs,region=eu';
      const r = resolveSelfTracing({ serviceName: 'from-file' });
      expect(r.resource).to.include({ 'service.name': 'from-file', region: 'eu' });
    });

    it('ignores the whole of a malformed OTEL_RESOURCE_ATTRIBUTES with a warning naming the entry', () => {
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'region=eu,team=%zz';
      const r = resolveSelfTracing({});
      expect(r.resource).to.not.have.property('region');
      expect(r.warnings).to.deep.equal([
        `OTEL_RESOURCE_ATTRIBUTES is ignored: "team=%zz" is not valid percent-encoding (percent-encode ',' and '=')`,
      ]);
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'region=eu,flag';
      expect(resolveSelfTracing({}).warnings[0]).to.contain('"flag" is not key=value');
    });
  });

  describe('endpoint', () => {
    it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is', () => {
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'https://traces.example:4318/custom/path';
      const r = resolveSelfTracing({});
      expect(r.url).to.equal('https://traces.example:4318/custom/path');
      expect(r.urlFrom).to.equal('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
    });

    it('appends v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT, with or without a trailing slash', () => {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://otel:4318';
      expect(resolveSelfTracing({}).url).to.equal('http://otel:4318/v1/traces');
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://otel:4318/base/';
      expect(resolveSelfTracing({}).url).to.equal('http://otel:4318/base/v1/traces');
    });

    it('prefers the signal-specific variable, and the file over both', () => {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://generic:4318';
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'http://specific:4318/v1/traces';
      expect(resolveSelfTracing({}).url).to.equal('http://specific:4318/v1/traces');
      const r = resolveSelfTracing({ endpoint: 'http://file:4318/v1/traces' });
      expect([r.url, r.urlFrom]).to.deep.equal(['http://file:4318/v1/traces', 'config']);
    });

    it('falls back to the default without variables', () => {
      expect(resolveSelfTracing({})).to.include({ url: DEFAULT_SELF_TRACING_ENDPOINT, urlFrom: 'default' });
    });

    it('ignores an endpoint that is not an http(s) URL with a warning, and falls back to the next', () => {
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'otel:4318';
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://generic:4318';
      const r = resolveSelfTracing({});
      expect(r.url).to.equal('http://generic:4318/v1/traces');
      expect(r.warnings).to.deep.equal([
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is ignored: "otel:4318" is not an http(s) URL',
      ]);
    });
  });

  describe('headers, timeout, compression, protocol', () => {
    it('parses OTEL_EXPORTER_OTLP_HEADERS percent-decoded, the TRACES_ ones winning key by key', () => {
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Basic%20dXNlcjpwdw==,x-team=obs';
      process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = 'x-team=traces';
      const r = resolveSelfTracing({});
      expect(r.headers).to.deep.equal({ authorization: 'Basic dXNlcjpwdw==', 'x-team': 'traces' });
      expect(r.warnings).to.deep.equal([]);
    });

    it('drops a header without "=" with a warning naming it and keeps the others', () => {
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-a=1,broken,x-b=%zz,x-c=3';
      const r = resolveSelfTracing({});
      expect(r.headers).to.deep.equal({ 'x-a': '1', 'x-c': '3' });
      expect(r.warnings).to.deep.equal([
        'OTEL_EXPORTER_OTLP_HEADERS: the entry "broken" is ignored (expected key=value, percent-encoded)',
        'OTEL_EXPORTER_OTLP_HEADERS: the entry "x-b" is ignored (expected key=value, percent-encoded)',
      ]);
    });

    it('takes the timeout in milliseconds, the TRACES_ one first, and warns about a bad one', () => {
      process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '5000';
      expect(resolveSelfTracing({}).timeoutMillis).to.equal(5000);
      process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '2500';
      expect(resolveSelfTracing({}).timeoutMillis).to.equal(2500);
      process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '10s';
      const r = resolveSelfTracing({});
      expect(r.timeoutMillis).to.equal(undefined);
      expect(r.warnings).to.deep.equal([
        'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT is ignored: "10s" is not a number of milliseconds above 0',
      ]);
    });

    it('warns about a compression other than gzip or none', () => {
      process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
      expect(resolveSelfTracing({}).warnings).to.deep.equal([]);
      process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'zstd';
      expect(resolveSelfTracing({}).warnings).to.deep.equal([
        'OTEL_EXPORTER_OTLP_COMPRESSION is ignored: "zstd" is not gzip or none',
      ]);
    });

    it('accepts protocol http/protobuf and warns that another one is ignored', () => {
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
      expect(resolveSelfTracing({}).warnings).to.deep.equal([]);
      process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'grpc';
      expect(resolveSelfTracing({}).warnings).to.deep.equal([
        'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc" is ignored: self-tracing sends OTLP/HTTP protobuf (http/protobuf) only',
      ]);
    });
  });

  describe('startSelfTracing', () => {
    it('starts with malformed variables, passing each warning on, and refuses an env endpoint that loops', async () => {
      process.env.OTEL_RESOURCE_ATTRIBUTES = 'bad';
      process.env.OTEL_EXPORTER_OTLP_HEADERS = 'nokey';
      const warnings: string[] = [];
      const settings = { enabled: true, sampling_rate: 1 };
      const st = startSelfTracing(settings, undefined, [], (w) => warnings.push(w));
      expect(st).to.not.equal(undefined);
      await st?.shutdown();
      expect(warnings).to.have.length(2);
      expect(warnings.every((w) => w.startsWith('self-tracing: '))).to.equal(true);
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:4318';
      expect(() => startSelfTracing(settings, undefined, ['127.0.0.1:4318'])).to.throw(
        /OTEL_EXPORTER_OTLP_ENDPOINT.*own receiver/,
      );
    });
  });
});
