// The command line: --help for every command with every option, -v, FILE - from stdin, --set overrides,
// print-config (defaults filled in, durations with units, secrets masked), and validate and run agreeing
// on an invalid file (same loader, same messages, same exit code).

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT_CODES, main } from '../../../../pipeline/runtime/cli/main';

const VALID = `[receivers.otlp]
http {
    endpoint: "127.0.0.1:0"
}
[processors.tail_sampling]
policies: [{ name: "all", type: "always_sample" }]
[exporters.debug]
[pipelines.traces]
receivers: ["otlp"]
processors: ["tail_sampling"]
exporters: ["debug"]
`;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], stdin?: string): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  };
  const code = await main(argv, io, { env: {}, readStdin: () => stdin ?? '' });
  return { code, stdout, stderr };
}

describe('pipeline/runtime/cli: the tusk-collector command', () => {
  let dir: string;
  let valid: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-cli-'));
    valid = path.join(dir, 'valid.tsk');
    fs.writeFileSync(valid, VALID);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers COMMAND --help for every command, listing every option', async () => {
    const options: Record<string, string[]> = {
      run: ['--pipeline', '--watch', '--set', '--strict', '--help'],
      validate: ['--set', '--strict', '--help'],
      'print-config': ['--set', '--strict', '--help'],
      tsk: ['--strict', '--flat', '--compat', '--interpolate'],
      version: ['-v', '--version'],
      help: ['COMMAND'],
    };
    for (const [command, flags] of Object.entries(options)) {
      const out = await cli([command, '--help']);
      expect(out.code, command).to.equal(0);
      expect(out.stdout, command).to.match(new RegExp(`^Usage: tusk-collector ${command}`));
      for (const f of flags) expect(out.stdout, `${command} ${f}`).to.contain(f);
      expect((await cli(['help', command])).stdout, `help ${command}`).to.equal(out.stdout);
    }
    const overview = await cli(['--help']);
    for (const command of Object.keys(options)) expect(overview.stdout).to.contain(`  ${command}`);
    expect(overview.stdout).to.contain('Exit codes: 0 ok; 1 run-time failure; 2 invalid config or bad usage; 130');
  });

  it('prints the version for version, --version and -v', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const a of ['version', '--version', '-v'])
      expect(await cli([a])).to.deep.equal({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it("refuses bad usage with exit 2 and the command's help", async () => {
    const bad = await cli(['validate', valid, '--colour']);
    expect(bad.code).to.equal(EXIT_CODES.invalid);
    expect(bad.stderr).to.match(/^tusk-collector validate: unknown option --colour\nUsage: tusk-collector validate/);
    expect((await cli(['validate'])).stderr).to.contain('missing FILE (a path, or - for standard input)');
    expect((await cli(['run', '-', '--watch'])).stderr).to.contain('--watch cannot watch standard input');
    expect((await cli(['frobnicate'])).code).to.equal(2);
    expect(EXIT_CODES).to.deep.equal({ ok: 0, runtimeFailure: 1, invalid: 2, secondSignal: 130 });
  });

  it('validates a file, and the same text from stdin with -', async () => {
    expect(await cli(['validate', valid])).to.deep.equal({
      code: 0,
      stdout: `${valid}: valid (1 pipeline: traces)\n`,
      stderr: '',
    });
    expect((await cli(['validate', '-'], VALID)).stdout).to.equal('-: valid (1 pipeline: traces)\n');
    const broken = await cli(['validate', '-'], VALID.replace('"127.0.0.1:0"', '"127.0.0.1:0'));
    expect(broken.code).to.equal(2);
    expect(broken.stderr).to.contain('<stdin>:3:15: unterminated "-quoted string [TSK_UNTERMINATED_STRING]');
  });

  it('applies --set overrides, and points at the --set that is wrong', async () => {
    const ok = await cli([
      'print-config',
      valid,
      '--set',
      'processors.tail_sampling.decision_wait=5s',
      '--set=service.log_level="debug"',
    ]);
    expect(ok.code, ok.stderr).to.equal(0);
    const config = JSON.parse(ok.stdout) as {
      service: { log_level: string };
      processors: { tail_sampling: { decision_wait: string } };
    };
    expect(config.processors.tail_sampling.decision_wait).to.equal('5s');
    expect(config.service.log_level).to.equal('debug');
    const bad = await cli([
      'validate',
      valid,
      '--set',
      'service.log_level=debug',
      '--set',
      'processors.tail_sampling.decision_wait=5',
    ]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain(
      '--set:2:1: processors.tail_sampling.decision_wait: a duration needs a unit: write "5s" or "5ms", got 5',
    );
    const malformed = await cli(['validate', valid, '--set', 'no-equals-sign']);
    expect(malformed.stderr).to.contain(
      '--set:1:1: --set needs path=value (e.g. service.log_level=debug), got "no-equals-sign" [ERR_CONFIG_OVERRIDE]',
    );
  });

  it('prints the effective config: types, defaults with units, secrets masked', async () => {
    const out = await cli([
      'print-config',
      valid,
      '--set',
      'processors.tail_sampling.redis.url="redis://app:hunter2@r:6379"',
    ]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).not.to.contain('hunter2');
    const config = JSON.parse(out.stdout) as Record<string, Record<string, Record<string, unknown>>>;
    expect(config.service.admin).to.equal('127.0.0.1:13133');
    expect(config.service.shutdown_timeout).to.equal('30s');
    const ts = config.processors.tail_sampling;
    expect(ts.type).to.equal('tail_sampling');
    expect(ts.decision_wait).to.match(/^\d+(\.\d+)?(ms|s|m|h)$/);
    expect((ts.redis as { url: string }).url).to.equal('redis://app:***@r:6379');
    expect(config.exporters.debug.type).to.equal('debug');
    expect(config.pipelines.traces).to.deep.include({ receivers: ['otlp'], exporters: ['debug'] });
  });

  it('validate and run agree on an invalid file: same errors, exit 2', async () => {
    const file = path.join(dir, 'broken.tsk');
    fs.writeFileSync(file, VALID.replace('[exporters.debug]', '[exporters.debug]\nverbosity: "loud"'));
    const v = await cli(['validate', file]);
    const r = await cli(['run', file]);
    expect(v.code).to.equal(2);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal(v.stderr);
    expect(v.stderr).to.contain(`${file}:8:1: exporters.debug.verbosity: must be one of`);
  });
});
