// Pipeline files that must not load, each with the error text, code, file:line:col and suggestion a user
// gets; all problems of a file come at once, parser warnings beside them. Also: what the .tsk dialect
// accepts quietly (`tsk FILE`) is still accepted by the parser, only the pipeline loader refuses it.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadServiceConfig } from '../../../config/service/load';
import { ConfigError, formatIssue, type ConfigIssue } from '../../../config/service/config-error';
import { parseTsk } from '../../../config/tsk/parser';
import { builtinFactories } from '../../../pipeline/runtime/registry';

let dir: string;
let n = 0;

/** HEAD is a valid pipeline whose lines 1-9 are fixed; each case appends after it (line 10 onwards). */
const HEAD = `[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[exporters.debug]
[pipelines.traces]
receivers: ["otlp"]
exporters: ["debug"]
processors: ["tail_sampling"]
`;
const TAIL = (policies: string, extra = '') => `[processors.tail_sampling]
${extra}policies: [
  ${policies}
]
`;
const OK_POLICY = '{ name: "all", type: "always_sample" }';

async function load(text: string, env: Record<string, string> = {}) {
  const file = path.join(dir, `case-${++n}.tsk`);
  fs.writeFileSync(file, text);
  return {
    file,
    result: await loadServiceConfig(file, { registry: builtinFactories(), env }).then(
      (c) => c,
      (e: unknown) => e,
    ),
  };
}

async function issuesOf(
  text: string,
  env: Record<string, string> = {},
): Promise<{ file: string; issues: ConfigIssue[]; err: ConfigError }> {
  const { file, result } = await load(text, env);
  expect(result, 'expected a ConfigError').to.be.instanceOf(ConfigError);
  const err = result as ConfigError;
  return { file, issues: [...err.issues], err };
}

/** one asserts that exactly one issue came back, with this code, line:col and message, and returns it. */
async function one(
  text: string,
  code: string,
  where: string,
  message: string | RegExp,
  env: Record<string, string> = {},
) {
  const { file, issues } = await issuesOf(text, env);
  expect(
    issues.map((i) => formatIssue(i)),
    'issues',
  ).to.have.length(1);
  const [i] = issues;
  expect(i.code).to.equal(code);
  expect(`${i.pos?.line}:${i.pos?.column}`).to.equal(where);
  expect(i.pos?.file).to.equal(file);
  if (typeof message === 'string') expect(i.message).to.equal(message);
  else expect(i.message).to.match(message);
  return i;
}

describe('config/service: broken pipeline files are refused with the reason', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-broken-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the base file used below is valid', async () => {
    const { result } = await load(HEAD + TAIL(OK_POLICY));
    expect(result).not.to.be.instanceOf(Error);
  });

  it('an unterminated string is an error (the parser alone only warns)', async () => {
    const text = HEAD + TAIL(OK_POLICY, 'decision_wait: "10s\n');
    await one(text, 'TSK_UNTERMINATED_STRING', '11:16', 'unterminated "-quoted string');
    const lenient = parseTsk(text);
    expect(lenient.diagnostics.map((d) => `${d.code} ${d.severity}`)).to.deep.equal([
      'TSK_UNTERMINATED_STRING warning',
    ]);
  });

  it('an unset @env without default is an error naming the variable where "" is not a legal value', async () => {
    const text = HEAD + TAIL(OK_POLICY, 'decision_wait: @env("T_WAIT")\n');
    await one(
      text,
      'ERR_CONFIG_ENV_UNSET',
      '11:16',
      '@env("T_WAIT") has no default and T_WAIT is not set; set T_WAIT or give a default: @env("T_WAIT", value)',
    );
    // set, the same file loads
    const { result } = await load(text, { T_WAIT: '5s' });
    expect(result).not.to.be.instanceOf(Error);
    // the dialect reads it as "" with no diagnostic
    const lenient = parseTsk(text, { env: {} });
    expect(lenient.diagnostics).to.deep.equal([]);
    expect(
      (lenient.data.processors as { tail_sampling: { decision_wait: string } }).tail_sampling.decision_wait,
    ).to.equal('');
  });

  it('an unset @env without default is a warning naming the variable where "" is legal', async () => {
    const { result } = await load(HEAD + TAIL(OK_POLICY, 'redis: { key_prefix: @env("T_PREFIX") }\n'));
    expect(result).not.to.be.instanceOf(Error);
    const warnings = (result as { warnings: { code: string; line: number; column: number; message: string }[] })
      .warnings;
    expect(warnings.map((w) => `${w.line}:${w.column} ${w.code} ${w.message}`)).to.deep.equal([
      '11:22 WARN_CONFIG_ENV_UNSET @env("T_PREFIX") has no default and T_PREFIX is not set; "" is used',
    ]);
  });

  it('an unknown @function is an error naming it, with the closest known one', async () => {
    const i = await one(
      HEAD + TAIL(OK_POLICY, 'decision_wait: @evn("T", "1s")\n'),
      'ERR_CONFIG_UNKNOWN_FUNCTION',
      '11:16',
      /^unknown function @evn; functions: @env, @int.*; did you mean "@env"\?$/,
    );
    expect(i.suggestion).to.equal('@env');
  });

  it('a port out of range is an error', async () => {
    await one(
      HEAD.replace('127.0.0.1:0', '127.0.0.1:99999') + TAIL(OK_POLICY),
      'ERR_CONFIG_INVALID_VALUE',
      '3:5',
      'port must be between 0 and 65535, got 99999',
    );
  });

  it('a duration without a unit is an error that suggests one', async () => {
    const i = await one(
      HEAD + TAIL(OK_POLICY, 'decision_wait: 10\n'),
      'ERR_CONFIG_INVALID_VALUE',
      '11:1',
      'a duration needs a unit: write "10s" or "10ms", got 10',
    );
    expect(i.path).to.equal('processors.tail_sampling.decision_wait');
    expect(i.suggestion).to.equal('10s');
    const ms = await one(
      HEAD + TAIL(OK_POLICY, 'decision_wait: "2500"\n'),
      'ERR_CONFIG_INVALID_VALUE',
      '11:1',
      'a duration needs a unit: write "2500ms" or "2500s", got "2500"',
    );
    expect(ms.suggestion).to.equal('2500ms');
    // 0 needs no unit
    const { result } = await load(HEAD + TAIL(OK_POLICY, 'root_settle_delay: 0\n'));
    expect(result).not.to.be.instanceOf(Error);
  });

  it('a key written twice is an error at the second, naming the first', async () => {
    await one(
      HEAD + TAIL(OK_POLICY, 'decision_wait: "1s"\ndecision_wait: "2s"\n'),
      'ERR_CONFIG_DUPLICATE_KEY',
      '12:1',
      '"decision_wait" is written twice (first at 11:1); remove one',
    );
  });

  it('a section or block written twice is an error at the second, naming the first', async () => {
    await one(
      HEAD + TAIL(OK_POLICY) + '[exporters.debug]\n',
      'ERR_CONFIG_DUPLICATE_SECTION',
      '14:1',
      '[exporters.debug] is declared twice (first at 5:1); merge them into one',
    );
    const block = HEAD.replace('}\n', '}\nhttp {\n    max_request_body_size: "1MiB"\n}\n') + TAIL(OK_POLICY);
    const { issues } = await issuesOf(block);
    expect(issues.map((i) => `${i.code} ${i.pos?.line}:${i.pos?.column} ${i.message}`)).to.deep.equal([
      'ERR_CONFIG_DUPLICATE_SECTION 5:1 [receivers.otlp.http] is declared twice (first at 2:1); merge them into one',
    ]);
  });

  it('an out-of-range number says the range, not "expected a number"', async () => {
    const i = await one(
      HEAD + TAIL('{ name: "some", type: "probabilistic", percentage: 150 }'),
      'ERR_CONFIG_INVALID_VALUE',
      '12:42',
      'must be between 0 and 100, got 150',
    );
    expect(i.path).to.equal('processors.tail_sampling.policies[0].percentage');
  });

  it("an unknown policy type says the known ones and the closest, never zod's wording", async () => {
    const i = await one(
      HEAD + TAIL('{ name: "p", type: "probabilistc", percentage: 5 }'),
      'ERR_CONFIG_UNKNOWN_TYPE',
      '12:16',
      /^unknown type "probabilistc"; known: always_sample, .*; did you mean "probabilistic"\?$/,
    );
    expect(i.suggestion).to.equal('probabilistic');
    expect(i.message).not.to.match(/Invalid discriminator|Invalid input|Too big|Too small/);
  });

  it('an unknown key gets the closest known key', async () => {
    const i = await one(
      HEAD + TAIL(OK_POLICY, 'decison_wait: "1s"\n'),
      'ERR_CONFIG_UNKNOWN_KEY',
      '11:1',
      'unknown key "decison_wait"; did you mean "decision_wait"?',
    );
    expect(i.suggestion).to.equal('decision_wait');
  });

  it('an unknown component type and a dangling reference get the closest name', async () => {
    const { issues } = await issuesOf(
      HEAD.replace('[exporters.debug]', '[exporters.debug]\n[exporters.jaeger_out]\ntype: "jaegr"').replace(
        'exporters: ["debug"]',
        'exporters: ["debug", "jaeger_ot"]',
      ) + TAIL(OK_POLICY),
    );
    expect(issues.map((i) => `${i.code} ${i.pos?.line}:${i.pos?.column} ${i.suggestion}`)).to.deep.equal([
      'ERR_CONFIG_UNKNOWN_TYPE 7:1 jaeger',
      'ERR_CONFIG_DANGLING_REF 10:22 jaeger_out',
    ]);
    expect(issues[0].message).to.match(/^unknown exporter type "jaegr"; known types: .*; did you mean "jaeger"\?$/);
    expect(issues[1].message).to.equal(
      'no exporter named "jaeger_ot"; declare [exporters.jaeger_ot]; did you mean "jaeger_out"?',
    );
  });

  it('an unknown section gets the closest known one', async () => {
    const i = await one(
      HEAD + TAIL(OK_POLICY) + '[exporter.x]\n',
      'ERR_CONFIG_UNKNOWN_SECTION',
      '14:1',
      /^unknown section \[exporter\]; expected one of .*; did you mean "exporters"\?$/,
    );
    expect(i.suggestion).to.equal('exporters');
  });

  it("a policy written with the Collector's key names gets our key", async () => {
    const { issues } = await issuesOf(
      HEAD +
        TAIL(
          [
            '{ name: "e", type: "status_code", status_codes: ["ERROR"] },',
            '{ name: "p", type: "probabilistic", sampling_percentage: 10 },',
            '{ name: "a", type: "and", and_sub_policy: [{ name: "x", type: "always_sample" }] },',
            '{ name: "l", type: "latency", latency: { threshold_ms: 100 } },',
          ].join('\n  '),
        ),
    );
    const unknown = issues.filter((i) => i.code === 'ERR_CONFIG_UNKNOWN_KEY');
    expect(unknown.map((i) => `${i.pos?.line}:${i.pos?.column} ${i.path} -> ${i.suggestion}`)).to.deep.equal([
      '12:37 processors.tail_sampling.policies[0].status_codes -> codes',
      '13:39 processors.tail_sampling.policies[1].sampling_percentage -> percentage',
      '14:29 processors.tail_sampling.policies[2].and_sub_policy -> policies',
      '15:33 processors.tail_sampling.policies[3].latency -> undefined',
    ]);
    expect(unknown[0].message).to.equal(
      'unknown key "status_codes"; did you mean "codes"? ("status_codes" is the OpenTelemetry Collector\'s name)',
    );
    expect(unknown[3].message).to.contain("nests a policy's settings in a block named after its type");
  });

  it('reports every problem at once, in file order, with parser warnings beside them', async () => {
    const text =
      HEAD +
      TAIL('{ name: "some", type: "probabilistic", percentage: 150 }', 'decision_wait: 10\n') +
      '/* a block comment\n*/\n[service]\nlog_level: "debgu"\n';
    const { issues, err } = await issuesOf(text);
    expect(issues.map((i) => `${i.pos?.line}:${i.pos?.column} ${i.code}`)).to.deep.equal([
      '11:1 ERR_CONFIG_INVALID_VALUE',
      '13:42 ERR_CONFIG_INVALID_VALUE',
      '18:1 ERR_CONFIG_INVALID_VALUE',
    ]);
    expect(issues[2].message).to.equal(
      'must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "debgu"; did you mean "debug"?',
    );
    expect(err.warnings.map((w) => `${w.line}:${w.column} ${w.code}`)).to.deep.equal(['15:1 TSK_BLOCK_COMMENT']);
  });

  it('no zod wording reaches the user', async () => {
    const { issues } = await issuesOf(
      HEAD +
        TAIL(
          [
            '{ name: "", type: "always_sample" },',
            '{ name: "c", type: "status_code", codes: [] },',
            '{ name: "s", type: "span_count", min_spans: "many" },',
            '{ type: "always_sample" },',
            '{ name: "k", type: "string_attribute", key: "k", values: ["a"], scope: "rooot" },',
            '5,',
          ].join('\n  '),
          'num_traces: 1.5\n',
        ),
    );
    expect(issues.length).to.be.greaterThan(5);
    for (const i of issues)
      expect(i.message).not.to.match(/Invalid (input|option|discriminator)|Too (big|small)|expected .* to (be|have)/);
    const byPath = new Map(issues.map((i) => [i.path, i.message]));
    expect(byPath.get('processors.tail_sampling.num_traces')).to.equal('expected an integer, got 1.5');
    expect(byPath.get('processors.tail_sampling.policies[1].codes')).to.equal('needs at least one item');
    expect(byPath.get('processors.tail_sampling.policies[2].min_spans')).to.equal('expected an integer, got "many"');
    expect(byPath.get('processors.tail_sampling.policies[4].scope')).to.equal(
      'must be one of "any", "root", got "rooot"; did you mean "root"?',
    );
    expect(byPath.get('processors.tail_sampling.policies[5]')).to.equal(
      'expected a section or an inline object {...}, got 5',
    );
  });
});
