// The processor config schema: defaults, units, shorthand, and every error with its config path.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../config/service/config-error';
import { loadServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../../../pipeline/runtime/registry';
import { factory } from '../../../processors/tail-sampling/factory';
import { configSchema, type TailSamplingConfig } from '../../../processors/tail-sampling/config';

function issues(raw: unknown): { path: string; message: string; code: string }[] {
  const r = configSchema.safeParse(raw);
  if (r.success) return [];
  return r.error.issues.map((i) => ({
    path: i.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, ''),
    message: i.message,
    code: i.code,
  }));
}

describe('tail_sampling config', () => {
  it('has a valid default config with documented defaults, new object each call', () => {
    const a = factory.createDefaultConfig();
    expect(a).to.include({
      decision_wait: 10_000,
      root_settle_delay: 2_000,
      tick_interval: 100,
      max_buffered_bytes: 256 * 1024 ** 2,
      ack: 'settled',
      state: 'memory',
    });
    expect(a.redis).to.deep.equal({
      url: 'redis://127.0.0.1:6379',
      key_prefix: 'tusk:',
      sync_interval: 1000,
      ledger_ttl: 3_600_000,
      ledger_dropped_sample: 0.01,
    });
    expect(a.policies).to.deep.equal([
      {
        name: 'adaptive',
        type: 'adaptive',
        base_rate: 0.1,
        error_multiplier: 2,
        slow_multiplier: 1.5,
        slow_quantile: 'p95',
        min_observations: 100,
        min_rate: 0.001,
        use_error_boost: true,
        hash_salt: '',
      },
    ]);
    expect(factory.createDefaultConfig()).to.not.equal(a);
    expect(factory.type).to.equal('tail_sampling');
  });

  it('parses units, @env strings and the redis URL shorthand', () => {
    const c = configSchema.parse({
      decision_wait: '30s',
      max_buffered_bytes: '1GiB',
      num_traces: '5000',
      redis: 'redis://r:6380',
      state: 'redis',
    });
    expect(c.decision_wait).to.equal(30_000);
    expect(c.max_buffered_bytes).to.equal(1024 ** 3);
    expect(c.num_traces).to.equal(5000);
    expect(c.redis.url).to.equal('redis://r:6380');
    expect(c.redis.ledger_ttl).to.equal(3_600_000);
    expect(configSchema.parse({ redis: { ledger_dropped_sample: 1 } }).redis.ledger_dropped_sample).to.equal(1);
    expect(configSchema.safeParse({ redis: { ledger_dropped_sample: 1.5 } }).success).to.equal(false);
  });

  it("retry_on_failure has the exporters' shape and meaning of 0, with its own defaults", () => {
    expect(factory.createDefaultConfig().retry_on_failure).to.deep.equal({
      enabled: true,
      initial_interval: 100,
      randomization_factor: 0.5,
      multiplier: 2,
      max_interval: 5000,
      max_elapsed_time: 30_000,
    });
    const c = configSchema.parse({ retry_on_failure: { max_elapsed_time: '0', enabled: 'false', multiplier: 1.5 } });
    expect(c.retry_on_failure).to.include({ max_elapsed_time: 0, enabled: false, multiplier: 1.5 });
  });

  it('parses the architecture example policies', () => {
    const c = configSchema.parse({
      policies: [
        { name: 'errors', type: 'status_code', codes: ['ERROR'] },
        { name: 'slow', type: 'latency', above: 'p95' },
        { name: 'rest', type: 'adaptive', target_traces_per_sec: 20 },
      ],
    });
    expect(c.policies.map((p) => p.type)).to.deep.equal(['status_code', 'latency', 'adaptive']);
  });

  const bad: { name: string; raw: unknown; path: string; match?: RegExp }[] = [
    {
      name: 'unknown policy type',
      raw: { policies: [{ name: 'a', type: 'sometimes' }] },
      path: 'policies[0].type',
      match: /always_sample/,
    },
    { name: 'empty name', raw: { policies: [{ name: '', type: 'always_sample' }] }, path: 'policies[0].name' },
    { name: 'missing top-level name', raw: { policies: [{ type: 'always_sample' }] }, path: 'policies[0].name' },
    {
      name: 'duplicate names',
      raw: {
        policies: [
          { name: 'a', type: 'always_sample' },
          { name: 'a', type: 'never' },
        ],
      },
      path: 'policies[1].name',
      match: /duplicate/,
    },
    {
      name: 'percentage out of range',
      raw: {
        policies: [
          { name: 'a', type: 'always_sample' },
          { name: 'b', type: 'never' },
          { name: 'c', type: 'probabilistic', percentage: 150 },
        ],
      },
      path: 'policies[2].percentage',
    },
    {
      name: 'probabilistic without a rate',
      raw: { policies: [{ name: 'c', type: 'probabilistic' }] },
      path: 'policies[0].percentage',
    },
    {
      name: 'unknown policy key',
      raw: { policies: [{ name: 'c', type: 'status_code', codes: ['ERROR'], extra: 1 }] },
      path: 'policies[0]',
    },
    {
      name: 'bad status code',
      raw: { policies: [{ name: 'c', type: 'status_code', codes: ['BROKEN'] }] },
      path: 'policies[0].codes[0]',
    },
    {
      name: 'latency without threshold',
      raw: { policies: [{ name: 'l', type: 'latency' }] },
      path: 'policies[0].threshold_ms',
    },
    {
      name: 'latency upper below threshold',
      raw: { policies: [{ name: 'l', type: 'latency', threshold_ms: 100, upper_threshold_ms: 50 }] },
      path: 'policies[0].upper_threshold_ms',
    },
    {
      name: 'bad regex',
      raw: { policies: [{ name: 's', type: 'string_attribute', key: 'k', values: ['ok', '(['], regex: true }] },
      path: 'policies[0].values[1]',
    },
    {
      name: 'numeric min > max',
      raw: { policies: [{ name: 'n', type: 'numeric_attribute', key: 'k', min: 5, max: 1 }] },
      path: 'policies[0].max',
    },
    {
      name: 'span_count max < min',
      raw: { policies: [{ name: 's', type: 'span_count', min_spans: 5, max_spans: 2 }] },
      path: 'policies[0].max_spans',
    },
    {
      name: 'rate_limiting both units',
      raw: { policies: [{ name: 'r', type: 'rate_limiting', spans_per_second: 1, traces_per_second: 1 }] },
      path: 'policies[0].spans_per_second',
    },
    {
      name: 'adaptive base_rate > 1',
      raw: { policies: [{ name: 'a', type: 'adaptive', base_rate: 2 }] },
      path: 'policies[0].base_rate',
    },
    {
      name: 'nested unknown type',
      raw: { policies: [{ name: 'a', type: 'and', policies: [{ type: 'nah' }] }] },
      path: 'policies[0].policies[0].type',
    },
    {
      name: 'nested drop',
      raw: {
        policies: [{ name: 'a', type: 'and', policies: [{ type: 'drop', policies: [{ type: 'always_sample' }] }] }],
      },
      path: 'policies[0].policies[0].type',
      match: /top level/,
    },
    { name: 'empty policy list', raw: { policies: [] }, path: 'policies' },
    { name: 'bad duration', raw: { decision_wait: 'soon' }, path: 'decision_wait' },
    { name: 'unknown top-level key', raw: { decison_wait: '1s' }, path: '' },
    { name: 'bad ack', raw: { ack: 'sometimes' }, path: 'ack' },
    { name: 'unknown retry key', raw: { retry_on_failure: { max_elapsed: '1s' } }, path: 'retry_on_failure' },
    {
      name: 'retry max_interval below initial_interval',
      raw: { retry_on_failure: { initial_interval: '2s', max_interval: '1s' } },
      path: 'retry_on_failure.max_interval',
      match: /at least initial_interval/,
    },
    {
      name: 'retry randomization_factor above 1',
      raw: { retry_on_failure: { randomization_factor: 2 } },
      path: 'retry_on_failure.randomization_factor',
    },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} at ${c.path || '(root)'}`, () => {
      const found = issues(c.raw);
      const hit = found.find((i) => i.path === c.path);
      expect(hit, JSON.stringify(found)).to.not.equal(undefined);
      if (c.match) expect(hit!.message).to.match(c.match);
    });
  }

  it('reports every problem, not only the first', () => {
    expect(
      issues({
        decision_wait: 'x',
        policies: [
          { name: 'a', type: 'probabilistic', rate: 7 },
          { name: 'a', type: 'never' },
        ],
      }).length,
    ).to.be.at.least(3);
  });

  it('takes Redis Cluster and Sentinel connections with ACL user, password file and TLS', () => {
    const c = configSchema.parse({
      state: 'redis',
      redis: {
        username: 'tusk',
        password_file: '/run/secrets/redis',
        tls: { ca_file: '/ca.pem' },
        sentinel: { master_name: 'mymaster', nodes: 's1:26379,s2:26379', password: 'sp' },
      },
    });
    expect(c.redis).to.deep.include({ username: 'tusk', password_file: '/run/secrets/redis' });
    expect(c.redis.tls).to.deep.include({ enabled: true, ca_file: '/ca.pem', insecure_skip_verify: false });
    expect(c.redis.sentinel).to.deep.include({ master_name: 'mymaster', nodes: ['s1:26379', 's2:26379'] });
    expect(
      configSchema.parse({ redis: { cluster_nodes: 'a:1,b:2', password: 'x' } }).redis.cluster_nodes,
    ).to.deep.equal(['a:1', 'b:2']);
    expect(issues({ redis: { cluster_nodes: ['a:1'], sentinel: { master_name: 'm', nodes: ['s:1'] } } })).to.deep.equal(
      [
        {
          path: 'redis.sentinel',
          code: 'custom',
          message: 'sentinel and cluster_nodes are exclusive (Redis Cluster fails over by itself): set one of them',
        },
      ],
    );
  });

  it('reports misspelt redis keys from a pipeline file with "did you mean"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-redis-cfg-'));
    const file = path.join(dir, 'p.tsk');
    fs.writeFileSync(
      file,
      [
        '[receivers.otlp]',
        'http: { endpoint: "127.0.0.1:0" }',
        '[processors.tail_sampling]',
        'state: "redis"',
        'redis {',
        '    pasword: "x"',
        '    master_name: "m"',
        '    tls: { server_name: "r", ca: "/ca.pem" }',
        '    sentinel: { master_name: "m", sentinels: ["s:1"] }',
        '}',
        '[exporters.debug]',
        'verbosity: "basic"',
        '[pipelines.traces]',
        'receivers: ["otlp"]',
        'processors: ["tail_sampling"]',
        'exporters: ["debug"]',
        '',
      ].join('\n'),
    );
    try {
      await loadServiceConfig(file, { registry: builtinFactories(), env: {} });
      expect.fail('expected a ConfigError');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const got = (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
      const p = 'processors.tail_sampling.redis';
      expect(got).to.include.members([
        `${p}.pasword: unknown key "pasword"; did you mean "password"?`,
        `${p}.master_name: unknown key "master_name"; write sentinel { master_name: "...", nodes: ["host:port", ...] }`,
        `${p}.tls.server_name: unknown key "server_name"; did you mean "server_name_override"?`,
        `${p}.tls.ca: unknown key "ca"; did you mean "ca_file"?`,
        `${p}.sentinel.sentinels: unknown key "sentinels"; did you mean "nodes"?`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads the README's Redis examples (one server, Cluster, Sentinel)", async () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../../processors/tail-sampling/README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Redis: one server, Redis Cluster or Sentinel'));
    const code = /```\n([\s\S]*?)\n```/.exec(section)?.[1] ?? '';
    const examples = code.split('\n\n');
    expect(examples).to.have.length(3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-redis-readme-'));
    try {
      const kinds: string[] = [];
      for (const [i, example] of examples.entries()) {
        const file = path.join(dir, `ex${i}.tsk`);
        const head =
          '[receivers.otlp]\nhttp: { endpoint: "127.0.0.1:0" }\n[processors.tail_sampling]\nstate: "redis"\n';
        const tail = '[exporters.debug]\n[pipelines.traces]\nreceivers: ["otlp"]\nprocessors: ["tail_sampling"]\n';
        fs.writeFileSync(file, `${head}${example}\n${tail}exporters: ["debug"]\n`);
        const env = { REDIS_PASSWORD: 'p', SENTINEL_PASSWORD: 's' };
        const config = await loadServiceConfig(file, { registry: builtinFactories(), env });
        const redis = (config.components.get('processors.tail_sampling')?.config as TailSamplingConfig).redis;
        kinds.push(redis.sentinel ? 'sentinel' : redis.cluster_nodes ? 'cluster' : redis.url.split(':')[0]);
      }
      expect(kinds).to.deep.equal(['rediss', 'cluster', 'sentinel']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
