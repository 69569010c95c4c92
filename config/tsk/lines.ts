// Line classifier of the .tsk lexer: decides what one physical line is
// (comment, section header, block opener/closer, key/value pair, @include, or something ignored) and
// returns the offsets of its parts in the raw line. Comments and one trailing `;` are removed here.

import { isSpace, trimRange } from './source';
import { isWordChar, stripComment } from './scan';

/** LineInfo is the classification of one raw line; offsets are UTF-16 indexes into the raw line. */
export type LineInfo =
  | { kind: 'blank' }
  | { kind: 'comment' }
  | { kind: 'blockComment'; at: number }
  | { kind: 'section'; names: string[]; at: number }
  | { kind: 'badSection'; at: number; text: string }
  | { kind: 'open'; name: string; closer: '}' | '<'; at: number }
  | { kind: 'close'; closer: '}' | '<'; at: number }
  | { kind: 'pair'; key: string; at: number; va: number; vb: number }
  | { kind: 'emptyValue'; key: string; at: number }
  | { kind: 'include'; at: number; aa: number; ab: number }
  | { kind: 'ignored'; at: number; text: string; reason: string };

/** isIdent tells whether s matches [A-Za-z_][A-Za-z0-9_]* (section and block names). */
export function isIdent(s: string): boolean {
  if (s.length === 0 || isDigit(s[0])) return false;
  for (let i = 0; i < s.length; i++) if (!isWordChar(s[i])) return false;
  return true;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** keyEnd returns the end of a key `[$]?[A-Za-z_][A-Za-z0-9_-]*` starting at i, or -1. */
function keyEnd(t: string, i: number, b: number): number {
  let j = i;
  if (t[j] === '$') j++;
  if (j >= b || !isWordChar(t[j]) || isDigit(t[j])) return -1;
  j++;
  while (j < b && (isWordChar(t[j]) || t[j] === '-')) j++;
  return j;
}

/** dropSemicolon removes exactly one trailing `;` from [a, b) and trims again. */
export function dropSemicolon(t: string, a: number, b: number): number {
  if (b > a && t[b - 1] === ';') return trimRange(t, a, b - 1)[1];
  return b;
}

/** classifyLine classifies one raw line. `compat` keeps inline comments (reference behaviour). */
export function classifyLine(t: string, compat: boolean): LineInfo {
  const [a, b] = trimRange(t, 0, t.length);
  if (a === b) return { kind: 'blank' };
  if (t[a] === '#' || t.startsWith('//', a)) return { kind: 'comment' };
  if (t.startsWith('/*', a)) return { kind: 'blockComment', at: a };

  // key/value pair: the separator is the first non-space character after the key
  const ke = keyEnd(t, a, b);
  if (ke > 0) {
    let s = ke;
    while (s < b && isSpace(t[s])) s++;
    if (t[s] === ':' || t[s] === '=') {
      const key = t.slice(a, ke);
      const range = trimRange(t, s + 1, b);
      const va = range[0];
      let vb = range[1];
      if (!compat) vb = stripComment(t, va, vb);
      vb = dropSemicolon(t, va, vb);
      if (va >= vb) return { kind: 'emptyValue', key, at: a };
      return { kind: 'pair', key, at: a, va, vb };
    }
  }

  // structural lines
  let e = compat ? b : stripComment(t, a, b);
  e = dropSemicolon(t, a, e);
  if (a === e) return { kind: 'blank' };
  const text = t.slice(a, e);
  if (text === '<') return { kind: 'close', closer: '<', at: a };
  if (text === '}') return { kind: 'close', closer: '}', at: a };
  if (text[0] === '[') {
    if (text.length > 2 && text[text.length - 1] === ']') {
      const names = text.slice(1, -1).split('.');
      if (names.every(isIdent) && (!compat || names.length === 1)) return { kind: 'section', names, at: a };
    }
    return { kind: 'badSection', at: a, text };
  }
  const last = text[text.length - 1];
  if (last === '{' || last === '>') {
    const name = text.slice(0, -1).trimEnd();
    if (isIdent(name)) return { kind: 'open', name, closer: last === '{' ? '}' : '<', at: a };
  }
  if (text.startsWith('@include(') && last === ')') {
    const [aa, ab] = trimRange(t, a + '@include('.length, e - 1);
    return { kind: 'include', at: a, aa, ab };
  }
  return { kind: 'ignored', at: a, text, reason: ignoredReason(t, a, e) };
}

/** ignoredReason explains why a line matched no statement form. */
function ignoredReason(t: string, a: number, b: number): string {
  let i = a;
  while (i < b && t[i] !== ':' && t[i] !== '=' && !isSpace(t[i])) i++;
  const head = t.slice(a, i);
  let s = i;
  while (s < b && isSpace(t[s])) s++;
  if (s < b && (t[s] === ':' || t[s] === '=') && head !== '') {
    return `invalid key '${clip(head)}' (keys match [$]?[A-Za-z_][A-Za-z0-9_-]*: no dots, quotes or spaces)`;
  }
  if (t[a] === '@') return `'${clip(t.slice(a, b))}' is not a statement (only @include("path") may stand alone)`;
  if (t[a] === '<') return `XML-style tags are not TuskLang; use 'name >' ... '<'`;
  return `no ':' or '=' separator and not a section or block line`;
}

/** clip shortens text for messages. */
export function clip(s: string, max = 60): string {
  return s.length > max ? s.slice(0, max - 3) + '...' : s;
}
