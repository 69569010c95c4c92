// Source text of a .tsk file and position mapping: a SourceFile holds the raw lines; a Src is the
// text of one statement's value (one line, or several joined lines) that maps every index back to
// its real file:line:column, so values inside multi-line arrays/objects get exact positions.

import { isSpace, Structure } from './scan';

export { isSpace };
import type { SourcePos } from './types';

const SURROGATE = /[\uD800-\uDFFF]/;

/** SourceFile is a .tsk document split into raw lines (on \n; a BOM is dropped). */
export class SourceFile {
  readonly lines: string[];
  private readonly _cols: Array<Uint32Array | null | undefined> = [];

  constructor(
    readonly name: string,
    text: string,
  ) {
    this.lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  }

  /** pos converts a UTF-16 offset in raw line `line` (0-based) into a 1-based position in code points. */
  pos(line: number, offset: number): SourcePos {
    return { file: this.name, line: line + 1, column: this._column(line, offset) };
  }

  private _column(line: number, offset: number): number {
    let cols = this._cols[line];
    if (cols === undefined) {
      cols = codePointColumns(this.lines[line] ?? '');
      this._cols[line] = cols;
    }
    return cols === null ? offset + 1 : cols[Math.min(offset, cols.length - 1)];
  }
}

/** codePointColumns maps each UTF-16 offset of a line to its 1-based code-point column (null: no surrogates). */
function codePointColumns(text: string): Uint32Array | null {
  if (!SURROGATE.test(text)) return null;
  const cols = new Uint32Array(text.length + 1);
  let col = 1;
  for (let i = 0; i < text.length; i++) {
    cols[i] = col;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) cols[++i] = col; // the low half belongs to the same code point
    }
    col++;
  }
  cols[text.length] = col;
  return cols;
}

/** Segment maps the joined-text index `at` to UTF-16 offset `offset` of raw line `line`. */
interface Segment {
  at: number;
  line: number;
  offset: number;
}

/** Piece is a range [a, b) of raw line `line` that takes part in a joined value. */
export interface Piece {
  line: number;
  a: number;
  b: number;
}

/** Src is the text of one value with a mapping from each index to its source position. */
export class Src {
  private _structure: Structure | null = null;

  private constructor(
    readonly text: string,
    readonly file: SourceFile,
    private readonly _segs: Segment[],
  ) {}

  /** structure is the quote/bracket index of the text, built on first use. */
  get structure(): Structure {
    this._structure ??= new Structure(this.text);
    return this._structure;
  }

  /** fromPieces joins line ranges with '\n' (one piece: just that range of the line). */
  static fromPieces(file: SourceFile, pieces: Piece[]): Src {
    const segs: Segment[] = [];
    const parts: string[] = [];
    let at = 0;
    for (const p of pieces) {
      if (parts.length > 0) {
        parts.push('\n');
        at += 1;
      }
      segs.push({ at, line: p.line, offset: p.a });
      parts.push(file.lines[p.line].slice(p.a, p.b));
      at += p.b - p.a;
    }
    return new Src(parts.join(''), file, segs);
  }

  /** pos gives the source position of index i of `text`. */
  pos(i: number): SourcePos {
    const segs = this._segs;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid].at <= i) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo];
    return this.file.pos(s.line, s.offset + Math.max(0, i - s.at));
  }
}

/** Span is the range [a, b) of a Src. */
export interface Span {
  src: Src;
  a: number;
  b: number;
}

/** trimRange narrows [a, b) of text to exclude leading/trailing whitespace. */
export function trimRange(text: string, a: number, b: number): [number, number] {
  while (a < b && isSpace(text[a])) a++;
  while (b > a && isSpace(text[b - 1])) b--;
  return [a, b];
}

/** trimSpan is trimRange for a Span. */
export function trimSpan(s: Span): Span {
  const [a, b] = trimRange(s.src.text, s.a, s.b);
  return { src: s.src, a, b };
}
