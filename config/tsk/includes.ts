// Files other than the one being parsed: `@include("path")` lines and cross-file
// `@name.tsk.get("a.b")` / `.set`. Reads only regular files (never FIFOs or devices, so nothing can
// block), caps their size and the nesting depth, detects cycles, and caches cross-file parses per run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DiagnosticSink } from './diagnostics';
import { clip } from './lines';
import { cloneLimited, getOwn, isObject, setOwn, type CopyBudget } from './model';
import { SourceFile } from './source';
import type { SourcePos, TskObject, TskValue } from './types';

/** Cross-file reads report their problems as warnings (the value becomes "", like an unset variable). */
type Severity = 'error' | 'warning';

/** MAX_FILE_DEPTH caps nested @include / cross-file reads. */
export const MAX_FILE_DEPTH = 16;
/** MAX_FILE_BYTES caps the size of an included or cross-file-read file. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Located is a file found on disk: its display name (for diagnostics), absolute and real paths. */
export interface Located {
  display: string;
  abs: string;
  real: string;
}

/** FileDir is where relative paths of a file resolve: an absolute dir and the prefix used in names. */
export interface FileDir {
  abs: string;
  display: string;
}

/** ParseOther parses another file into a fresh document (for cross-file reads). */
export type ParseOther = (file: SourceFile, dir: FileDir) => TskObject;

/** FileLoader tracks the files being parsed in one run and reads the others. */
export class FileLoader {
  private readonly _active: string[] = [];
  private readonly _cache = new Map<string, TskObject>();
  parseOther: ParseOther = () => ({});

  constructor(
    private readonly _diag: DiagnosticSink,
    private readonly _budget: CopyBudget,
  ) {}

  /** enter marks `real` as being parsed; false (with a diagnostic) on a cycle or too much depth. */
  enter(real: string, pos: SourcePos | null, what: string, severity?: Severity): boolean {
    if (this._active.includes(real)) {
      if (pos)
        this._diag.add(
          'TSK_INCLUDE_CYCLE',
          pos,
          `${what} leads back to ${real}, which is being parsed (cycle); skipped`,
          severity,
        );
      return false;
    }
    if (this._active.length >= MAX_FILE_DEPTH) {
      if (pos)
        this._diag.add(
          'TSK_INCLUDE_DEPTH',
          pos,
          `${what} nests files deeper than ${MAX_FILE_DEPTH}; skipped`,
          severity,
        );
      return false;
    }
    this._active.push(real);
    return true;
  }

  /** leave undoes the last enter. */
  leave(): void {
    this._active.pop();
  }

  /** realPath resolves symlinks, or returns the absolute path when that fails. */
  realPath(abs: string): string {
    try {
      return fs.realpathSync(abs);
    } catch {
      return abs;
    }
  }

  /** read loads a located file (regular files only, size-capped) or reports why not. */
  read(loc: Located, pos: SourcePos, what: string, severity?: Severity): SourceFile | null {
    try {
      const st = fs.statSync(loc.abs);
      if (!st.isFile()) {
        this._diag.add('TSK_INCLUDE_FAILED', pos, `${what}: ${loc.display} is not a regular file; skipped`, severity);
        return null;
      }
      if (st.size > MAX_FILE_BYTES) {
        this._diag.add(
          'TSK_INCLUDE_FAILED',
          pos,
          `${what}: ${loc.display} is larger than ${MAX_FILE_BYTES} bytes; skipped`,
          severity,
        );
        return null;
      }
      return new SourceFile(loc.display, fs.readFileSync(loc.abs, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this._diag.add('TSK_INCLUDE_NOT_FOUND', pos, `${what}: ${loc.display} not found; skipped`, severity);
      } else {
        this._diag.add(
          'TSK_INCLUDE_FAILED',
          pos,
          `${what}: cannot read ${loc.display} (${code ?? 'error'}); skipped`,
          severity,
        );
      }
      return null;
    }
  }

  /** locateInclude resolves an @include path relative to the including file's directory. */
  locateInclude(arg: string, dir: FileDir): Located {
    const abs = path.resolve(dir.abs, arg);
    const display = path.isAbsolute(arg) ? arg : path.join(dir.display, arg);
    return { abs, display, real: this.realPath(abs) };
  }

  /** findNamed finds NAME.tsk in the includer's dir, then ., ./config, .., ../config (cwd-relative). */
  findNamed(name: string, dir: FileDir): Located | null {
    const cwd = process.cwd();
    const dirs: FileDir[] = [
      dir,
      { abs: cwd, display: '' },
      { abs: path.join(cwd, 'config'), display: 'config' },
      { abs: path.dirname(cwd), display: '..' },
      { abs: path.join(path.dirname(cwd), 'config'), display: path.join('..', 'config') },
    ];
    const seen = new Set<string>();
    for (const d of dirs) {
      const abs = path.join(d.abs, `${name}.tsk`);
      if (seen.has(abs)) continue;
      seen.add(abs);
      try {
        if (fs.statSync(abs).isFile())
          return { abs, display: path.join(d.display, `${name}.tsk`), real: this.realPath(abs) };
      } catch {
        // not there; try the next directory
      }
    }
    return null;
  }

  /** documentOf parses (once per run) the file behind @name.tsk, or returns null with a diagnostic. */
  private _documentOf(
    name: string,
    dir: FileDir,
    pos: SourcePos,
    what: string,
  ): { loc: Located; data: TskObject } | null {
    const loc = this.findNamed(name, dir);
    if (!loc) {
      this._diag.add(
        'TSK_INCLUDE_NOT_FOUND',
        pos,
        `${what}: ${name}.tsk not found (searched the including file's directory, then ., ./config, .., ../config); using ""`,
        'warning',
      );
      return null;
    }
    const cached = this._cache.get(loc.real);
    if (cached) return { loc, data: cached };
    if (!this.enter(loc.real, pos, what, 'warning')) return null;
    try {
      const file = this.read(loc, pos, what, 'warning');
      if (!file) return null;
      const data = this.parseOther(file, { abs: path.dirname(loc.abs), display: path.dirname(loc.display) });
      this._cache.set(loc.real, data);
      return { loc, data };
    } finally {
      this.leave();
    }
  }

  /** get implements @name.tsk.get("a.b"): a dotted walk over the other file's nested data. */
  get(name: string, key: string, dir: FileDir, pos: SourcePos): TskValue {
    const what = `@${name}.tsk.get("${clip(key)}")`;
    const doc = this._documentOf(name, dir, pos, what);
    if (!doc) return '';
    let cur: TskValue | undefined = doc.data;
    for (const seg of key.split('.')) {
      if (isObject(cur)) cur = getOwn(cur, seg);
      else if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
      else cur = undefined;
      if (cur === undefined) break;
    }
    if (cur === undefined) {
      this._diag.add('TSK_KEY_NOT_FOUND', pos, `${what}: key not found in ${doc.loc.display}; using ""`);
      return '';
    }
    const copy = cloneLimited(cur, this._budget);
    if (copy === undefined) {
      this._diag.add(
        'TSK_SIZE_LIMIT',
        pos,
        `${what}: the value exceeds the parser's size or depth limit for references; using ""`,
        'warning',
      );
      return '';
    }
    return copy;
  }

  /** set implements @name.tsk.set("a.b", v): updates this run's in-memory copy only (never the file). */
  set(name: string, key: string, value: TskValue, dir: FileDir, pos: SourcePos): TskValue {
    const doc = this._documentOf(name, dir, pos, `@${name}.tsk.set("${clip(key)}")`);
    if (doc) {
      const segs = key.split('.');
      let cur: TskObject = doc.data;
      for (const seg of segs.slice(0, -1)) {
        let next = getOwn(cur, seg);
        if (!isObject(next)) {
          next = {};
          setOwn(cur, seg, next);
        }
        cur = next;
      }
      setOwn(cur, segs[segs.length - 1], cloneLimited(value, this._budget) ?? '');
    }
    return value;
  }
}
