// Quote- and bracket-aware scanning shared by the line classifier and the value resolver. Every
// function here is a single left-to-right pass (no backtracking regexes), so long or hostile lines
// cost linear time.
//
// Quoting rule: a `"` or `'` opens a quoted string only at the start of a token (when the previous
// character is not a letter, digit or underscore), so apostrophes in bare text (`it's`) do not
// swallow the rest of the line. Inside "...", a backslash escapes the next character; '...' is raw.
// A quoted string never spans lines: an unterminated quote ends at the end of its line.

const WS = /^\s$/;

/** isSpace tells whether the UTF-16 unit is whitespace in the sense of String.prototype.trim. */
export function isSpace(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code > 32 && code < 127) return false;
  return code === 32 || (code >= 9 && code <= 13) || WS.test(c);
}

const OPENERS = '([{';
const CLOSERS = ')]}';

/** isWordChar tells whether c is [A-Za-z0-9_]. */
export function isWordChar(c: string | undefined): boolean {
  if (c === undefined || c === '') return false;
  const x = c.charCodeAt(0);
  return (x >= 48 && x <= 57) || (x >= 65 && x <= 90) || (x >= 97 && x <= 122) || x === 95;
}

/** opensQuote tells whether t[i] starts a quoted string. */
export function opensQuote(t: string, i: number): boolean {
  const c = t[i];
  return (c === '"' || c === "'") && (i === 0 || !isWordChar(t[i - 1]));
}

/**
 * skipQuote returns the index just after the quoted string opening at i, and whether it was closed.
 * An unterminated string ends at the next newline (or at b).
 */
export function skipQuote(t: string, i: number, b: number): { end: number; closed: boolean } {
  const q = t[i];
  let j = i + 1;
  while (j < b) {
    const c = t[j];
    if (c === '\n') return { end: j, closed: false };
    if (c === '\\' && q === '"') {
      j += t[j + 1] === '\n' ? 1 : 2;
      continue;
    }
    if (c === q) return { end: j + 1, closed: true };
    j++;
  }
  return { end: b, closed: false };
}

/**
 * Structure is a one-pass index of a value's text: for each quote opener the end of its string,
 * for each bracket opener its matching closer (or -1 when unmatched or when a mismatched closer
 * comes first). Nested scans use it to jump over strings and bracket groups, so resolving a value
 * nested N deep costs O(length) overall instead of O(N x length).
 */
export class Structure {
  /** For bracket openers: index of the matching closer or -1; NOT_OPENER elsewhere. */
  readonly close: Int32Array;
  /** For quote openers: index just after the string (0 elsewhere). */
  readonly qend: Int32Array;

  constructor(readonly t: string) {
    const n = t.length;
    this.close = new Int32Array(n).fill(NOT_OPENER);
    this.qend = new Int32Array(n);
    const stack: number[] = [];
    let i = 0;
    while (i < n) {
      if (opensQuote(t, i)) {
        const end = skipQuote(t, i, n).end;
        this.qend[i] = end;
        i = end;
        continue;
      }
      const c = t[i];
      if (OPENERS.includes(c)) {
        this.close[i] = -1;
        stack.push(i);
      } else {
        const k = CLOSERS.indexOf(c);
        if (k >= 0) {
          const top = stack[stack.length - 1];
          if (top !== undefined && t[top] === OPENERS[k]) this.close[stack.pop() as number] = i;
          else stack.length = 0; // a stray or mismatched closer breaks every group still open
        }
      }
      i++;
    }
  }
}

const NOT_OPENER = -2;

/**
 * scanTop visits the indexes of [a, b) at bracket depth 0 and outside quotes (brackets themselves
 * are not visited); it stops at an opener not closed within [a, b). Returns the index where visit
 * returned true, or -1.
 */
export function scanTop(st: Structure, a: number, b: number, visit: (i: number) => boolean | void): number {
  let i = a;
  while (i < b) {
    const q = st.qend[i];
    if (q > 0) {
      i = q;
      continue;
    }
    const c = st.close[i];
    if (c !== NOT_OPENER) {
      if (c < 0 || c >= b) return -1;
      i = c + 1;
      continue;
    }
    if (visit(i)) return i;
    i++;
  }
  return -1;
}

/** findTop returns the first index in [a, b) at depth 0, outside quotes, where pred holds, or -1. */
export function findTop(st: Structure, a: number, b: number, pred: (i: number) => boolean): number {
  return scanTop(st, a, b, pred);
}

/** splitTop splits [a, b) at each depth-0 occurrence of sep outside quotes; returns the ranges. */
export function splitTop(st: Structure, a: number, b: number, sep: string): Array<[number, number]> {
  const t = st.t;
  const out: Array<[number, number]> = [];
  let start = a;
  scanTop(st, a, b, (i) => {
    if (i >= start && t.startsWith(sep, i)) {
      out.push([start, i]);
      start = i + sep.length;
    }
  });
  out.push([start, b]);
  return out;
}

/** matchClose returns the index of the closer matching the opener at i if it lies before b, else -1. */
export function matchClose(st: Structure, i: number, b: number): number {
  const c = st.close[i];
  return c >= 0 && c < b ? c : -1;
}

/** BracketMark is an unmatched opener or a stray/mismatched closer. */
export interface BracketMark {
  ch: string;
  line: number;
  off: number;
}

/** Balance tracks ( [ { across the lines of a multi-line value, outside quotes. */
export class Balance {
  readonly stack: BracketMark[] = [];
  /** The first stray or mismatched closer, if any. */
  bad: BracketMark | null = null;

  /** feed scans range [a, b) of one line. */
  feed(t: string, a: number, b: number, line: number): void {
    let i = a;
    while (i < b && !this.bad) {
      if (opensQuote(t, i)) {
        i = skipQuote(t, i, b).end;
        continue;
      }
      const c = t[i];
      if (c === '(' || c === '[' || c === '{') {
        this.stack.push({ ch: c, line, off: i });
      } else if (c === ')' || c === ']' || c === '}') {
        const top = this.stack[this.stack.length - 1];
        if (top && top.ch === OPENERS[CLOSERS.indexOf(c)]) this.stack.pop();
        else this.bad = { ch: c, line, off: i };
      }
      i++;
    }
  }

  /** open tells whether some opener is still unclosed. */
  get open(): boolean {
    return this.stack.length > 0;
  }
}

/**
 * stripComment returns the end of [a, b) without its trailing comment: a `#` outside quotes,
 * preceded by whitespace, with non-space text before it. The result is right-trimmed.
 */
export function stripComment(t: string, a: number, b: number): number {
  let seen = false;
  let i = a;
  while (i < b) {
    if (opensQuote(t, i)) {
      seen = true;
      i = skipQuote(t, i, b).end;
      continue;
    }
    const c = t[i];
    if (c === '#' && seen && i > a && isSpace(t[i - 1])) {
      let e = i;
      while (e > a && isSpace(t[e - 1])) e--;
      return e;
    }
    if (!isSpace(c)) seen = true;
    i++;
  }
  return b;
}

/** quotedToken returns the content range of [a, b) when it is exactly one complete quoted string. */
export function quotedToken(t: string, a: number, b: number): { q: string; a: number; b: number } | null {
  if (b - a < 2 || !opensQuote(t, a)) return null;
  const r = skipQuote(t, a, b);
  if (!r.closed || r.end !== b) return null;
  return { q: t[a], a: a + 1, b: b - 1 };
}

/** ESCAPES maps the processed escapes of double-quoted strings. */
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t', r: '\r' };

/**
 * unescape processes \\ \" \' \n \t \r in [a, b) and keeps unknown escapes verbatim. With `interp`,
 * `${name}` is replaced by interp(name, index) and `\$` gives a literal `$`.
 */
export function unescape(t: string, a: number, b: number, interp?: (name: string, at: number) => string): string {
  let out = '';
  let run = a;
  for (let i = a; i < b; i++) {
    const c = t[i];
    if (c === '\\' && i + 1 < b) {
      const e = t[i + 1];
      const rep = ESCAPES[e] ?? (interp && e === '$' ? '$' : undefined);
      if (rep !== undefined) {
        out += t.slice(run, i) + rep;
        i++;
        run = i + 1;
      }
    } else if (interp && c === '$' && t[i + 1] === '{') {
      const end = interpolationEnd(t, i, b);
      if (end > 0) {
        out += t.slice(run, i) + interp(t.slice(i + 2, end - 1), i);
        i = end - 1;
        run = end;
      }
    }
  }
  return out + t.slice(run, b);
}

/** interpolate replaces `${name}` in [a, b) (no escapes; for bare strings). */
export function interpolate(t: string, a: number, b: number, interp: (name: string, at: number) => string): string {
  let out = '';
  let run = a;
  for (let i = a; i < b; i++) {
    if (t[i] === '$' && t[i + 1] === '{') {
      const end = interpolationEnd(t, i, b);
      if (end > 0) {
        out += t.slice(run, i) + interp(t.slice(i + 2, end - 1), i);
        i = end - 1;
        run = end;
      }
    }
  }
  return out + t.slice(run, b);
}

/** interpolationEnd returns the index after `}` of a `${name}` at i (name: [A-Za-z_][A-Za-z0-9_-]*), or -1. */
function interpolationEnd(t: string, i: number, b: number): number {
  let j = i + 2;
  if (j >= b || !/[A-Za-z_]/.test(t[j])) return -1;
  while (j < b && (isWordChar(t[j]) || t[j] === '-')) j++;
  return j < b && t[j] === '}' ? j + 1 : -1;
}
