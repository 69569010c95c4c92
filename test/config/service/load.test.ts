// The pipeline schema: valid files load with their defaults; every kind of mistake is reported with
// its file:line:col and a stable code, all of them at once, before anything starts.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../../../pipeline/runtime/registry';
import { ConfigError, formatIssue, type ConfigIssue } from '../../../config/service/config-error';

const REPO = path.resolve(__dirname, '..', '..', '..');
let dir: string;

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

async function issuesOf(text: string, env: Record<string, string> = {}): Promise<ConfigIssue[]> {
  const file = write(`case-${Math.random().toString(36).slice(2)}.tsk`, text);
  try {
    await loadServiceConfig(file, { registry: builtinFactories(), env });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = `
[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[exporters.debug]
verbosity: "basic"
[pipelines.traces]
receivers: ["otlp"]
exporters: ["debug"]
`;

describe('config/service: loading pipeline files', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-load-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the shipped example pipelines', async () => {
    for (const name of ['embedded.tsk', 'cluster.tsk']) {
      const config = await loadServiceConfig(path.join(REPO, 'config', name), {
        registry: builtinFactories(),
        env: {},
      });
      expect(config.pipelines.size, name).to.be.greaterThan(0);
    }
    const cluster = await loadServiceConfig(path.join(REPO, 'config', 'cluster.tsk'), {
      registry: builtinFactories(),
      env: {},
    });
    expect([...cluster.pipelines.keys()]).to.deep.equal(['ingest', 'sample']);
    expect(cluster.components.get('exporters.spans')?.type).to.equal('kafka');
    expect(cluster.components.get('exporters.jaeger')?.type).to.equal('jaeger');
  });

  it('applies defaults and coerces @env strings through the schema', async () => {
    const file = write(
      'env.tsk',
      MINIMAL.replace('[exporters.debug]', '[service]\nshutdown_timeout: @env("T_SHUT", "5s")\n[exporters.debug]'),
    );
    const config = await loadServiceConfig(file, { registry: builtinFactories(), env: { T_SHUT: '2m' } });
    expect(config.service.shutdown_timeout).to.equal(120_000);
    expect(config.service.admin).to.equal('127.0.0.1:13133');
  });

  it('names file:line:col of an unknown key', async () => {
    const issues = await issuesOf(MINIMAL.replace('verbosity: "basic"', 'verbosity: "basic"\n  colour: true'));
    expect(issues).to.have.length(1);
    expect(issues[0].code).to.equal('ERR_CONFIG_UNKNOWN_KEY');
    expect(issues[0].path).to.equal('exporters.debug.colour');
    expect(issues[0].pos?.line).to.equal(8);
    expect(issues[0].pos?.column).to.equal(3);
    expect(formatIssue(issues[0])).to.match(
      /case-.*\.tsk:8:3: exporters\.debug\.colour: unknown key "colour" \[ERR_CONFIG_UNKNOWN_KEY\]/,
    );
  });

  it('reports a wrong type from @env with a clear message', async () => {
    const text = MINIMAL.replace('[exporters.debug]', '[service]\nshutdown_timeout: @env("T_SHUT")\n[exporters.debug]');
    const issues = await issuesOf(text, { T_SHUT: 'soon' });
    expect(issues.map((i) => i.path)).to.deep.equal(['service.shutdown_timeout']);
    expect(issues[0].message).to.contain('"soon"');
  });

  it('reports dangling, duplicate and unused references, and unknown types, all at once', async () => {
    const issues = await issuesOf(`
[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[exporters.debug]
[exporters.spare]
type: "debug"
[exporters.weird]
type: "carrier_pigeon"
[pipelines.traces]
receivers: ["otlp", "otlp", "nope"]
processors: ["ghost"]
exporters: ["debug"]
`);
    const codes = issues.map((i) => `${i.code} ${i.path}`).sort();
    expect(codes).to.deep.equal([
      'ERR_CONFIG_DANGLING_REF pipelines.traces.processors[0]',
      'ERR_CONFIG_DANGLING_REF pipelines.traces.receivers[2]',
      'ERR_CONFIG_DUPLICATE_REF pipelines.traces.receivers[1]',
      'ERR_CONFIG_UNKNOWN_TYPE exporters.weird.type',
      'ERR_CONFIG_UNUSED exporters.spare',
    ]);
    const weird = issues.find((i) => i.code === 'ERR_CONFIG_UNKNOWN_TYPE')!;
    expect(weird.pos?.line).to.equal(10);
    expect(weird.message).to.contain('debug');
  });

  it('points into inline policy lists', async () => {
    const issues = await issuesOf(`
[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[processors.tail_sampling]
policies: [
  { name: "errors", type: "status_code", codes: ["ERROR"] },
  { name: "rest", type: "probabilistic", percentage: "lots" },
]
[exporters.debug]
[pipelines.traces]
receivers: ["otlp"]
processors: ["tail_sampling"]
exporters: ["debug"]
`);
    expect(issues).to.have.length(1);
    expect(issues[0].path).to.match(/^processors\.tail_sampling\.policies\[1\]/);
    expect(issues[0].pos?.line).to.equal(9);
  });

  it('rejects unknown sections, a missing pipeline and Kafka topic loops', async () => {
    const unknown = await issuesOf(MINIMAL + '\n[extensions]\nfoo: 1\n');
    expect(unknown.map((i) => i.code)).to.deep.equal(['ERR_CONFIG_UNKNOWN_SECTION']);
    const none = await issuesOf('[receivers.otlp]\n[exporters.debug]\n');
    expect(none.map((i) => i.code)).to.include('ERR_CONFIG_NO_PIPELINE');
    const loop = await issuesOf(`
[receivers.a]
type: "kafka"
brokers: "127.0.0.1:9092"
topic: "one"
[exporters.b]
type: "kafka"
brokers: "127.0.0.1:9092"
topic: "one"
[pipelines.loop]
receivers: ["a"]
exporters: ["b"]
`);
    expect(loop.map((i) => i.code)).to.deep.equal(['ERR_CONFIG_CYCLE']);
  });

  it("follows each signal's own topics: a logs loop through logs_topic is refused, traces -> logs is not a loop", async () => {
    const text = (signal: string, receiverTopics: string) => `
[receivers.a]
type: "kafka"
brokers: "127.0.0.1:9092"
${receiverTopics}
[exporters.b]
type: "kafka"
brokers: "127.0.0.1:9092"
topic: "traces_out"
logs_topic: "logs_one"
[pipelines.p]
signal: "${signal}"
receivers: ["a"]
exporters: ["b"]
`;
    const logsLoop = await issuesOf(text('logs', 'topic: []\nlogs_topic: "logs_one"'));
    expect(logsLoop.map((i) => `${i.code} ${i.path}`)).to.deep.equal(['ERR_CONFIG_CYCLE pipelines.p']);
    // A traces pipeline reading "logs_one" as its traces topic writes traces to "traces_out": no loop.
    const file = write('cross-signal.tsk', text('traces', 'topic: "logs_one"'));
    const config = await loadServiceConfig(file, { registry: builtinFactories(), env: {} });
    expect(config.components.get('receivers.a')?.topics?.traces).to.deep.equal(['logs_one']);
  });

  it('refuses a Kafka receiver that only logs pipelines use but that reads the traces topic', async () => {
    const text = (topicLine: string) => `
[receivers.logs_in]
type: "kafka"
brokers: "127.0.0.1:9092"
${topicLine}
logs_topic: "otlp_logs"
[exporters.debug]
[pipelines.logs]
signal: "logs"
receivers: ["logs_in"]
exporters: ["debug"]
`;
    const issues = await issuesOf(text(''));
    expect(issues.map((i) => `${i.code} ${i.path}`)).to.deep.equal([
      'ERR_CONFIG_INVALID_VALUE receivers.logs_in.topic',
    ]);
    const file = write('logs-ok.tsk', text('topic: []'));
    const config = await loadServiceConfig(file, { registry: builtinFactories(), env: {} });
    expect(config.pipelines.get('logs')?.signal).to.equal('logs');
  });

  it('loads a custom processor module relative to the file, and refuses a broken one', async () => {
    const example = path.join(REPO, 'examples', 'processors', 'redact-attributes', 'index.js');
    const good = write(
      'plugins/good.tsk',
      `
[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[processors.redact]
module: "${example}"
keys: ["user.email"]
[exporters.debug]
[pipelines.traces]
receivers: ["otlp"]
processors: ["redact"]
exporters: ["debug"]
`,
    );
    const config = await loadServiceConfig(good, { registry: builtinFactories(), env: {} });
    expect(config.components.get('processors.redact')?.type).to.equal('redact_attributes');
    write('plugins/broken.js', 'exports.factory = { kind: "processor", type: "Bad Type" };');
    const issues = await issuesOf(`
[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[processors.bad]
module: "./plugins/broken.js"
[exporters.debug]
[pipelines.traces]
receivers: ["otlp"]
processors: ["bad"]
exporters: ["debug"]
`);
    expect(issues.map((i) => i.code)).to.deep.equal(['ERR_CONFIG_MODULE']);
    expect(issues[0].message).to.contain('snake_case');
    const missing = await issuesOf(
      MINIMAL.replace('[exporters.debug]', '[processors.x]\nmodule: "./nowhere.js"\n[exporters.debug]').replace(
        'receivers: ["otlp"]',
        'receivers: ["otlp"]\nprocessors: ["x"]',
      ),
    );
    expect(missing.map((i) => i.code)).to.deep.equal(['ERR_CONFIG_MODULE']);
    expect(missing[0].message).to.contain('cannot find module');
  });
});
