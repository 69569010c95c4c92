// A malformed OTTL condition in a pipeline file is a config error at the file:line:col of the fault inside
// the condition (escapes in the .tsk string counted), found before anything starts; a valid one loads.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, formatIssue } from '../../../config/service/config-error';
import { loadServiceConfig } from '../../../config/service/load';
import { builtinFactories } from '../../../pipeline/runtime/registry';

const pipeline = (policies: string): string => `[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[processors.tail_sampling]
policies: [
${policies}
]
[exporters.debug]
verbosity: "basic"
[pipelines.traces]
receivers: ["otlp"]
processors: ["tail_sampling"]
exporters: ["debug"]
`;

describe('tail_sampling: OTTL conditions in pipeline files', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-ottl-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const load = async (text: string) => {
    const file = path.join(dir, `p-${Math.random().toString(36).slice(2)}.tsk`);
    fs.writeFileSync(file, text);
    return {
      file,
      result: await loadServiceConfig(file, { registry: builtinFactories(), env: {} }).catch((e: unknown) => e),
    };
  };

  it('reports the column of the fault inside the condition, counting \\" escapes', async () => {
    //                 1234567890123456789012345678901234567890
    const line = '  { name: "o", type: "ottl_condition", span: ["attributes[\\"a\\"] = \\"x\\""] },';
    const { file, result } = await load(pipeline(line));
    expect(result).to.be.instanceOf(ConfigError);
    const issues = (result as ConfigError).issues;
    expect(issues).to.have.length(1);
    const text = formatIssue(issues[0], file);
    // The condition starts after `span: ["` (column 48); its "=" is at offset 16, 2 escapes further in the file.
    const col = line.indexOf(' = ') + 2;
    expect(text).to.contain(
      `${file}:7:${col}: processors.tail_sampling.policies[0].span[0]: invalid OTTL condition: column 17:`,
    );
    expect(text).to.contain('unexpected character "="');
  });

  it('reports a bad regular expression and an unknown path, every one at once', async () => {
    const { result } = await load(
      pipeline(
        '  { name: "a", type: "ottl_condition", spanevent: ["IsMatch(name, \\"(\\")"], span: ["duration > 1"] },',
      ),
    );
    const messages = (result as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).to.have.length(2);
    expect(messages.join('\n')).to.match(/span\[0\]: invalid OTTL condition: column 1: unsupported span path/);
    expect(messages.join('\n')).to.match(
      /spanevent\[0\]: invalid OTTL condition: column 15: invalid regular expression/,
    );
  });

  it('loads valid conditions, composite, trace_flags and bytes_limiting', async () => {
    const { result } = await load(
      pipeline(
        [
          '  { name: "o", type: "ottl_condition", error_mode: "ignore", span: ["attributes[\\"x\\"] == 1"] },',
          '  { name: "f", type: "trace_flags" },',
          '  { name: "b", type: "bytes_limiting", bytes_per_second: 1024 },',
          '  { name: "c", type: "composite", max_total_spans_per_second: 100, policies: [{ name: "s", type: "always_sample" }],',
          '    rate_allocation: [{ policy: "s", percent: 50 }] },',
        ].join('\n'),
      ),
    );
    expect(result).not.to.be.instanceOf(Error);
  });
});
