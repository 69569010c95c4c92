// The systemd units in deploy/systemd/: `systemd-analyze verify` accepts them, and the sampler template's
// ExecStart, expanded the way systemd does (%i, $$), gives every instance 1..999 its own admin port
// 13200 + N (none of them the ingest unit's 13133) and refuses other instance names. A stub
// `tusk-collector` on PATH records the environment and arguments it is started with.

import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/collector-process';

const UNITS = path.join(REPO_ROOT, 'deploy', 'systemd');
const SAMPLER = path.join(UNITS, 'tusk-sampler@.service');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

/** execStart returns the ExecStart= value of a unit, continuation lines joined as systemd joins them. */
function execStart(unitFile: string): string {
  const joined = fs.readFileSync(unitFile, 'utf8').replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error(`${unitFile} has no ExecStart=`);
  return line.slice('ExecStart='.length);
}

/** expand applies the unit file escapes used here: %i (instance), %% and $$. */
function expand(value: string, instance: string): string {
  return value.replace(/%%|%i|\$\$/g, (m) => (m === '%i' ? instance : m === '%%' ? '%' : '$'));
}

/** argv splits a command line by systemd's quoting (single and double quotes group one argument). */
function argv(command: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

interface StubRun {
  status: number | null;
  stderr: string;
  admin?: string;
  args?: string;
}

describe('deploy/systemd units', function () {
  this.timeout(30_000);
  let stubDir: string;

  before(() => {
    stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-systemd-'));
    const stub = path.join(stubDir, 'tusk-collector');
    fs.writeFileSync(stub, '#!/bin/sh\nprintf "%s\\n%s\\n" "$TUSK_ADMIN_ENDPOINT" "$*" > "$STUB_OUT"\n', {
      mode: 0o755,
    });
  });
  after(() => fs.rmSync(stubDir, { recursive: true, force: true }));

  function runSampler(instance: string, env: Record<string, string> = {}): StubRun {
    const [exe, ...args] = argv(expand(execStart(SAMPLER), instance));
    const out = path.join(stubDir, `out-${instance || 'empty'}`);
    fs.rmSync(out, { force: true });
    const res = spawnSync(exe, args, {
      env: { PATH: `${stubDir}:/usr/bin:/bin`, STUB_OUT: out, TUSK_ADMIN_ENDPOINT: '127.0.0.1:13133', ...env },
      encoding: 'utf8',
    });
    const run: StubRun = { status: res.status, stderr: res.stderr };
    if (fs.existsSync(out)) [run.admin, run.args] = fs.readFileSync(out, 'utf8').split('\n');
    return run;
  }

  it('systemd-analyze verify accepts both units', function () {
    if (!fs.existsSync(SYSTEMD_ANALYZE)) {
      console.log(`      (no ${SYSTEMD_ANALYZE} on this machine: unit syntax not verified)`);
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-units-'));
    try {
      for (const f of ['tusk-ingest.service', 'tusk-sampler@.service']) {
        // verify loads User= from the passwd database: use one that exists here.
        fs.writeFileSync(
          path.join(dir, f),
          fs.readFileSync(path.join(UNITS, f), 'utf8').replace(/^User=.*$/m, 'User=root'),
        );
      }
      fs.symlinkSync('tusk-sampler@.service', path.join(dir, 'tusk-sampler@12.service'));
      for (const unit of ['tusk-ingest.service', 'tusk-sampler@12.service']) {
        const res = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', path.join(dir, unit)], { encoding: 'utf8' });
        expect(res.status, `${unit}: ${res.stderr}`).to.equal(0);
        expect(res.stderr, unit).to.not.match(/error|ignoring/i);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each sampler instance its own admin port, 13200 + N, for any N from 1 to 999', () => {
    const seen = new Map<string, string>();
    for (const n of [1, 2, 3, 9, 10, 11, 31, 99, 100, 101, 999]) {
      const run = runSampler(String(n));
      expect(run.status, `@${n}: ${run.stderr}`).to.equal(0);
      expect(run.admin, `@${n}`).to.equal(`127.0.0.1:${13200 + n}`);
      expect(run.args).to.equal('run /etc/tusk-collector/cluster.tsk --pipeline sample');
      expect(seen.has(run.admin!), `@${n} collides with @${seen.get(run.admin!)}`).to.equal(false);
      seen.set(run.admin!, String(n));
    }
    expect([...seen.keys()]).to.not.include('127.0.0.1:13133');
  });

  it('moves the range with TUSK_SAMPLER_ADMIN_BASE / _HOST from the environment file', () => {
    const run = runSampler('7', { TUSK_SAMPLER_ADMIN_BASE: '15000', TUSK_SAMPLER_ADMIN_HOST: '10.0.0.5' });
    expect(run.status).to.equal(0);
    expect(run.admin).to.equal('10.0.0.5:15007');
  });

  it('refuses instance names that are not 1..999 (exit 2, no collector started)', () => {
    for (const bad of ['0', '010', '1000', 'a', '3b', '']) {
      const run = runSampler(bad);
      expect(run.status, `@${bad}`).to.equal(2);
      expect(run.admin, `@${bad} must not start the collector`).to.equal(undefined);
      expect(run.stderr).to.match(/number from 1 to 999/);
    }
  });

  it('keeps the ingest unit on the default admin port, below every sampler port', () => {
    const ingest = fs.readFileSync(path.join(UNITS, 'tusk-ingest.service'), 'utf8');
    expect(ingest).to.not.match(/TUSK_ADMIN_ENDPOINT/);
    expect(
      execFileSync(
        'grep',
        ['-c', 'admin: @env("TUSK_ADMIN_ENDPOINT", "127.0.0.1:13133")', path.join(REPO_ROOT, 'config', 'cluster.tsk')],
        { encoding: 'utf8' },
      ).trim(),
    ).to.equal('1');
  });
});
