// Document builder: walks the lines of a file top to bottom, keeps the current
// section and a real stack of `name {` / `name >` blocks, resolves each value once, applies
// multi-line `"""` strings and bracket continuation, runs @include lines, and records
// the position of every value it writes.

import * as path from 'node:path';
import type { Ctx, ResolvedOptions } from './context';
import type { DiagnosticSink } from './diagnostics';
import type { FileDir, FileLoader } from './includes';
import { classifyLine, clip, dropSemicolon, type LineInfo } from './lines';
import { getOwn, isObject, setOwn, type CopyBudget } from './model';
import { Balance, stripComment, type BracketMark } from './scan';
import { Src, trimRange, type Piece, type SourceFile } from './source';
import type { SourcePos, TskObject, TskValue } from './types';
import { PositionTable } from './positions';
import { resolveValue } from './values';

/** MAX_BLOCK_DEPTH caps the nesting of sections and blocks; deeper blocks are merged into their parent. */
export const MAX_BLOCK_DEPTH = 100;
/**
 * CONTINUATION_BUDGET caps the characters scanned by failed multi-line continuations per document
 * (their lines are scanned again as statements). Once it is spent, each continuation may still span
 * up to CONTINUATION_LINES_AFTER_BUDGET lines, so a hostile file stays linear and a legitimate
 * multi-line array after a broken one still parses.
 */
const CONTINUATION_BUDGET = 250_000;
const CONTINUATION_LINES_AFTER_BUDGET = 32;

/** Shared is what every document of one parse run shares. */
export interface Shared {
  opts: ResolvedOptions;
  diag: DiagnosticSink;
  loader: FileLoader;
  copyBudget: CopyBudget;
}

/** Container is an object that receives keys, with its path and nesting depth. */
interface Container {
  obj: TskObject;
  path: string;
  depth: number;
}

interface Frame extends Container {
  name: string;
  closer: '}' | '<';
  pos: SourcePos;
}

/** State is the parser position: current section, the container used when no block is open, the blocks. */
interface State {
  section: { path: string; locals: Map<string, TskValue> } | null;
  base: Container & { sectionLevel: boolean };
  frames: Frame[];
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** Document builds one nested result (the main file with its includes, or a cross-file read). */
export class Document {
  readonly root: TskObject = {};
  readonly positions = new PositionTable();
  readonly globals = new Map<string, TskValue>();
  private readonly _sectionLocals = new Map<string, Map<string, TskValue>>();
  /** Where each section header or block was first opened (for the duplicate-section note). */
  private readonly _opened = new Map<string, SourcePos>();
  private _budget = CONTINUATION_BUDGET;

  constructor(private readonly _shared: Shared) {}

  /** run parses a whole file into this document, starting at the top level. */
  run(file: SourceFile, dir: FileDir): void {
    this._runFile(file, dir, {
      section: null,
      base: { obj: this.root, path: '', depth: 0, sectionLevel: false },
      frames: [],
    });
  }

  private _runFile(file: SourceFile, dir: FileDir, state: State): void {
    const { compat } = this._shared.opts;
    const lines = file.lines;
    let blockEnds: Int32Array | null = null;
    for (let i = 0; i < lines.length; i++) {
      const info = classifyLine(lines[i], compat);
      switch (info.kind) {
        case 'blank':
        case 'comment':
          break;
        case 'blockComment': {
          blockEnds ??= blockCommentEnds(lines);
          const end = blockEnds[i];
          this._diag(
            'TSK_BLOCK_COMMENT',
            file.pos(i, info.at),
            end >= 0
              ? `/* ... */ block comments are not TuskLang; lines ${i + 1}-${end + 1} skipped`
              : '/* without a closing */ line; this line skipped',
          );
          if (end >= 0) i = end;
          break;
        }
        case 'section':
          this._closeFrames(state, 'a section header');
          this._openSection(state, info.names, file.pos(i, info.at));
          break;
        case 'badSection':
          this._diag(
            'TSK_BAD_SECTION',
            file.pos(i, info.at),
            `invalid section header ${clip(info.text)} (names match [A-Za-z_][A-Za-z0-9_]*, joined by '.'); ignored`,
          );
          break;
        case 'open':
          this._openBlock(state, info.name, info.closer, file.pos(i, info.at));
          break;
        case 'close':
          this._closeBlock(state, info.closer, file.pos(i, info.at));
          break;
        case 'pair':
          i = this._pair(file, dir, state, i, info);
          break;
        case 'emptyValue':
          this._diag(
            'TSK_EMPTY_VALUE',
            file.pos(i, info.at),
            `'${info.key}' has no value; line ignored (write null or "" explicitly)`,
          );
          break;
        case 'include':
          this._include(file, dir, state, i, info);
          break;
        case 'ignored':
          this._diag('TSK_IGNORED_LINE', file.pos(i, info.at), `${info.reason}; line ignored: ${clip(info.text)}`);
          break;
      }
    }
    this._closeFrames(state, 'the end of the file');
  }

  private _diag(code: Parameters<DiagnosticSink['add']>[0], pos: SourcePos, message: string): void {
    this._shared.diag.add(code, pos, message);
  }

  private _current(state: State): Container {
    return state.frames.length > 0 ? state.frames[state.frames.length - 1] : state.base;
  }

  /** ctx builds the value-resolution context for the current state. */
  ctx(state: State | null, dir: FileDir): Ctx {
    const ctx: Ctx = {
      opts: this._shared.opts,
      diag: this._shared.diag,
      globals: this.globals,
      locals: state?.section?.locals ?? null,
      positions: this.positions,
      dir,
      crossFile: this._shared.loader,
      copyBudget: this._shared.copyBudget,
      resolve: (span, depth, path) => resolveValue(ctx, span, depth, path),
    };
    return ctx;
  }

  /** child returns the object at key `name` of `parent`, creating it (or replacing a non-object). */
  private _child(parent: Container, name: string, pos: SourcePos, what: string): Container {
    const path = join(parent.path, name);
    const existing = getOwn(parent.obj, name);
    if (isObject(existing)) {
      if (!this.positions.has(path)) this.positions.set(path, pos, parent.path);
      return { obj: existing, path, depth: parent.depth + 1 };
    }
    if (existing !== undefined) {
      this._diag(
        'TSK_KEY_CONFLICT',
        pos,
        `${what} '${path}' replaces the value ${clip(JSON.stringify(existing))} written earlier`,
      );
      this.positions.clearBelow(path);
    }
    const obj: TskObject = {};
    setOwn(parent.obj, name, obj);
    this.positions.set(path, pos, parent.path);
    return { obj, path, depth: parent.depth + 1 };
  }

  private _openSection(state: State, names: string[], pos: SourcePos): void {
    if (names.length > MAX_BLOCK_DEPTH) {
      this._diag('TSK_DEPTH_LIMIT', pos, `section header with more than ${MAX_BLOCK_DEPTH} parts; ignored`);
      return;
    }
    let c: Container = { obj: this.root, path: '', depth: 0 };
    for (const name of names) c = this._child(c, name, pos, 'section');
    this._noteOpened(c.path, pos);
    let locals = this._sectionLocals.get(c.path);
    if (!locals) {
      locals = new Map();
      this._sectionLocals.set(c.path, locals);
    }
    state.section = { path: c.path, locals };
    state.base = { ...c, sectionLevel: true };
  }

  private _openBlock(state: State, name: string, closer: '}' | '<', pos: SourcePos): void {
    const cur = this._current(state);
    if (cur.depth >= MAX_BLOCK_DEPTH) {
      this._diag(
        'TSK_DEPTH_LIMIT',
        pos,
        `block '${name}' nests deeper than ${MAX_BLOCK_DEPTH}; its keys go to the enclosing block`,
      );
      state.frames.push({ ...cur, name, closer, pos });
      return;
    }
    const child = this._child(cur, name, pos, 'block');
    this._noteOpened(child.path, pos);
    state.frames.push({ ...child, name, closer, pos });
  }

  /** noteOpened records a section header or block, and notes it when the same path was opened before. */
  private _noteOpened(path: string, pos: SourcePos): void {
    const first = this._opened.get(path);
    if (first) this._shared.opts.note({ kind: 'duplicate-section', path, pos, first });
    else this._opened.set(path, pos);
  }

  private _closeBlock(state: State, closer: '}' | '<', pos: SourcePos): void {
    const frames = state.frames;
    const top = frames[frames.length - 1];
    if (!top) {
      this._diag('TSK_UNEXPECTED_CLOSER', pos, `'${closer}' without an open block; ignored`);
      return;
    }
    if (top.closer === closer) {
      frames.pop();
      return;
    }
    // Wrong closer: guess which block it ends from its indentation (same column as an opener),
    // else assume it closes the innermost block.
    let idx = frames.length - 1;
    for (let k = frames.length - 1; k >= 0; k--) {
      if (frames[k].pos.column === pos.column && frames[k].pos.file === pos.file) {
        idx = k;
        break;
      }
    }
    const opener = top.closer === '}' ? '{' : '>';
    const closes = frames[idx];
    this._diag(
      'TSK_MISMATCHED_CLOSER',
      pos,
      `'${closer}' does not match block '${top.name}' (opened with '${opener}' at ${top.pos.line}:${top.pos.column}; close it with '${top.closer}')` +
        (closes === top
          ? `; treated as closing '${top.name}'`
          : `; treated as closing '${closes.name}' (same indentation) and the blocks inside it`),
    );
    frames.length = idx;
  }

  private _closeFrames(state: State, where: string): void {
    for (const f of state.frames) {
      this._diag(
        'TSK_UNCLOSED_BLOCK',
        f.pos,
        `block '${f.name}' is not closed (expected '${f.closer}') before ${where}`,
      );
    }
    state.frames.length = 0;
  }

  /** pair handles `key: value` at line i; returns the last line it consumed. */
  private _pair(
    file: SourceFile,
    dir: FileDir,
    state: State,
    i: number,
    info: Extract<LineInfo, { kind: 'pair' }>,
  ): number {
    const { compat } = this._shared.opts;
    const line = file.lines[i];
    const cur = this._current(state);
    const keyPath = join(cur.path, info.key);
    const keyPos = file.pos(i, info.at);
    const prev = getOwn(cur.obj, info.key);
    const firstPos = prev === undefined ? undefined : this.positions.map.get(keyPath);
    if (firstPos && info.key[0] !== '$') {
      this._shared.opts.note({ kind: 'duplicate-key', path: keyPath, pos: keyPos, first: firstPos });
    }
    if (typeof prev === 'object' && prev !== null) this.positions.clearBelow(keyPath); // its nested positions are stale
    let last = i;
    let value: TskValue;
    if (!compat && line.slice(info.va, info.vb) === '"""') {
      const r = this._multiline(file, i, info.va);
      last = r.last;
      value = r.text;
      this.positions.set(keyPath, keyPos, cur.path);
    } else {
      let pieces: Piece[] = [{ line: i, a: info.va, b: info.vb }];
      const bal = new Balance();
      bal.feed(line, info.va, info.vb, i);
      const structured = '[{@('.includes(line[info.va]);
      if (!bal.bad && bal.open && !compat && (structured || '(,'.includes(line[info.vb - 1]))) {
        const r = this._continue(file, i, bal, pieces);
        if (r.ok) {
          pieces = r.pieces;
          last = r.last;
        } else {
          this._unbalanced(file, r.mark, 'the value is kept as the text of its first line');
        }
      } else if ((bal.bad || bal.open) && structured) {
        this._unbalanced(file, bal.bad ?? bal.stack[0], 'the value is kept as text');
      }
      this.positions.set(keyPath, keyPos, cur.path);
      const src = Src.fromPieces(file, pieces);
      value = resolveValue(this.ctx(state, dir), { src, a: 0, b: src.text.length }, 0, keyPath);
    }
    if (info.key[0] === '$') this.globals.set(info.key.slice(1), value);
    setOwn(cur.obj, info.key, value);
    if (state.frames.length === 0 && state.base.sectionLevel && state.section && info.key[0] !== '$') {
      state.section.locals.set(info.key, value);
    }
    return last;
  }

  private _unbalanced(file: SourceFile, mark: BracketMark, what: string): void {
    const closing = ')]}'.includes(mark.ch);
    this._diag(
      'TSK_UNBALANCED_BRACKETS',
      file.pos(mark.line, mark.off),
      closing ? `'${mark.ch}' has no matching opener; ${what}` : `'${mark.ch}' is never closed; ${what}`,
    );
  }

  /** multiline reads a `"""` block: raw lines up to a line that is exactly `"""` once trimmed. */
  private _multiline(file: SourceFile, i: number, at: number): { text: string; last: number } {
    const body: string[] = [];
    for (let j = i + 1; j < file.lines.length; j++) {
      const raw = file.lines[j];
      if (raw.trim() === '"""') return { text: body.join('\n'), last: j };
      body.push(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    }
    this._diag('TSK_UNCLOSED_MULTILINE', file.pos(i, at), '""" string is never closed; it takes the rest of the file');
    return { text: body.join('\n'), last: file.lines.length - 1 };
  }

  /** continue appends lines while the value's brackets are open (comments and blank lines skipped). */
  private _continue(
    file: SourceFile,
    i: number,
    bal: Balance,
    first: Piece[],
  ): { ok: true; pieces: Piece[]; last: number } | { ok: false; mark: BracketMark } {
    const pieces = [...first];
    const start = this._budget;
    const cap = i + 1 + CONTINUATION_LINES_AFTER_BUDGET;
    for (let j = i + 1; j < file.lines.length && (this._budget > 0 || j < cap); j++) {
      const raw = file.lines[j];
      const [a, b] = trimRange(raw, 0, raw.length);
      this._budget -= b - a + 1;
      if (a === b || raw[a] === '#' || raw.startsWith('//', a)) continue;
      const e = stripComment(raw, a, b);
      bal.feed(raw, a, e, j);
      if (bal.bad) return { ok: false, mark: bal.bad };
      pieces.push({ line: j, a, b: e });
      if (!bal.open) {
        pieces[pieces.length - 1] = { line: j, a, b: dropSemicolon(raw, a, e) };
        this._budget = start; // success: these lines are consumed, never scanned again
        return { ok: true, pieces, last: j };
      }
    }
    return { ok: false, mark: bal.stack[0] };
  }

  /** include parses another file in place: its keys land in the current container, sharing globals. */
  private _include(
    file: SourceFile,
    dir: FileDir,
    state: State,
    i: number,
    info: Extract<LineInfo, { kind: 'include' }>,
  ): void {
    const pos = file.pos(i, info.at);
    const src = Src.fromPieces(file, [{ line: i, a: info.aa, b: info.ab }]);
    const arg = resolveValue(this.ctx(state, dir), { src, a: 0, b: src.text.length }, 0, null);
    if (typeof arg !== 'string' || arg.trim() === '') {
      this._diag('TSK_BAD_ARGUMENTS', pos, '@include needs a path string, e.g. @include("common.tsk"); ignored');
      return;
    }
    const loader = this._shared.loader;
    const loc = loader.locateInclude(arg, dir);
    const what = `@include("${clip(arg)}")`;
    if (!loader.enter(loc.real, pos, what)) return;
    try {
      const inc = loader.read(loc, pos, what);
      if (!inc) return;
      const cur = this._current(state);
      const sub: State = {
        section: state.section,
        base: { ...cur, sectionLevel: state.frames.length === 0 && state.base.sectionLevel },
        frames: [],
      };
      this._runFile(inc, { abs: path.dirname(loc.abs), display: displayDir(loc.display) }, sub);
    } finally {
      loader.leave();
    }
  }
}

/** displayDir is the directory part of a display name ('' for a bare file name). */
export function displayDir(p: string): string {
  const d = path.dirname(p);
  return d === '.' ? '' : d;
}

/** blockCommentEnds maps each line to the first line at or after it that ends a block comment (or -1). */
function blockCommentEnds(lines: string[]): Int32Array {
  const out = new Int32Array(lines.length);
  let next = -1;
  for (let k = lines.length - 1; k >= 0; k--) {
    const t = lines[k].trim();
    if (t.endsWith('*/') && !(t.startsWith('/*') && t.length < 4)) next = k;
    out[k] = next;
  }
  return out;
}
