// The package's root and version, from the sources and from the built command (dist/ sits one folder deeper,
// so a path counted from the file's own folder would miss package.json there).

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot, packageVersion } from '../../../pipeline/runtime/package-info';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

describe('pipeline/runtime/package-info', () => {
  it('finds the package root and its version from the sources', () => {
    expect(packageRoot()).to.equal(REPO_ROOT);
    expect(packageRoot(path.join(REPO_ROOT, 'dist', 'pipeline', 'runtime'))).to.equal(REPO_ROOT);
    expect(packageVersion()).to.equal(VERSION);
  });

  it('returns the folder it started from when no package.json is above it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-pkg-'));
    try {
      expect(packageRoot(dir)).to.equal(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the built command (npm run build) prints the same version for --version', () => {
    const out = execFileSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'tusk-collector.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(out.trim()).to.equal(VERSION);
  });
});
