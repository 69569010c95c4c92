// Tests of `tusk-collector tsk FILE [--strict] [--flat] [--compat]` (config/tsk/command.ts):
// stdout JSON, stderr diagnostics, exit codes and usage errors.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { tskCommand } from '../../../config/tsk/command';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await tskCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), env });
  return { code, out, err };
}

describe('tsk command', () => {
  let dir: string;
  let file: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsk-cmd-'));
    file = path.join(dir, 'p.tsk');
    fs.writeFileSync(
      file,
      ['[server]', 'host: @env("HOST", "0.0.0.0")', 'tls {', '  on: true', '}', 'oops', 'x: @go("y")'].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the document as 2-space JSON and diagnostics as file:line:col: message [code]; exit 0', async () => {
    const r = await run([file], { HOST: 'h.example' });
    expect(r.code).to.equal(0);
    expect(r.out).to.equal(
      JSON.stringify({ server: { host: 'h.example', tls: { on: true }, x: '@go("y")' } }, null, 2) + '\n',
    );
    const errLines = r.err.trimEnd().split('\n');
    expect(errLines).to.have.length(2);
    expect(errLines[0]).to.match(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:1: .+ \\[TSK_IGNORED_LINE\\]$`),
    );
    expect(errLines[1]).to.match(/:7:4: @go is not a known operator.* \[TSK_UNKNOWN_OPERATOR\]$/);
  });

  it('--flat prints dotted keys', async () => {
    const r = await run([file, '--flat']);
    expect(JSON.parse(r.out)).to.deep.equal({
      'server.host': '0.0.0.0',
      'server.tls.on': true,
      'server.x': '@go("y")',
    });
  });

  it('--strict exits 2 with the diagnostics and nothing on stdout', async () => {
    const r = await run(['--strict', file]);
    expect(r.code).to.equal(2);
    expect(r.out).to.equal('');
    expect(
      r.err
        .trimEnd()
        .split('\n')
        .map((l) => /\[(\w+)\]$/.exec(l)?.[1]),
    ).to.deep.equal(['TSK_IGNORED_LINE', 'TSK_UNKNOWN_OPERATOR']);
    const clean = path.join(dir, 'clean.tsk');
    fs.writeFileSync(clean, 'a: 1\n');
    expect(await run([clean, '--strict'])).to.deep.equal({ code: 0, out: '{\n  "a": 1\n}\n', err: '' });
  });

  it('lenient mode exits 0 even for error-severity diagnostics', async () => {
    const bad = path.join(dir, 'bad.tsk');
    fs.writeFileSync(bad, 'b {\nlist: [1, 2}\n');
    const r = await run([bad]);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.out)).to.deep.equal({ b: { list: '[1, 2}' } });
    expect(r.err)
      .to.match(/TSK_UNBALANCED_BRACKETS/)
      .and.to.match(/TSK_UNCLOSED_BLOCK/);
  });

  it('--compat applies the reference behaviour', async () => {
    const f = path.join(dir, 'c.tsk');
    fs.writeFileSync(f, 'a: 1 # c\n');
    expect(JSON.parse((await run([f, '--compat'])).out)).to.deep.equal({ a: '1 # c' });
    expect(JSON.parse((await run([f])).out)).to.deep.equal({ a: 1 });
  });

  it('exits 2 for an unreadable file and for bad usage; --help exits 0', async () => {
    const missing = await run([path.join(dir, 'missing.tsk')]);
    expect(missing.code).to.equal(2);
    expect(missing.out).to.equal('');
    expect(missing.err).to.match(/missing\.tsk:1:1: cannot read .*ENOENT.*\[TSK_FILE_UNREADABLE\]/);
    expect((await run([dir])).code).to.equal(2);
    for (const argv of [[], ['--bogus', file], [file, file], ['--constructor', file]]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err).to.match(/Usage: tusk-collector tsk FILE/);
      expect(r.out).to.equal('');
    }
    const help = await run(['--help']);
    expect(help.code).to.equal(0);
    expect(help.out).to.match(/^Usage: tusk-collector tsk FILE/);
  });

  it('tolerates a leading "tsk" argument', async () => {
    expect((await run(['tsk', file])).code).to.equal(0);
  });
});
