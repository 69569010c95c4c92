// Feature tests of the .tsk parser (config/tsk): lexical rules, structure, values, expressions,
// operators, positions, diagnostics, strict/compat/interpolate modes and the public helpers.
// @include and cross-file @name.tsk.get run against files in a temporary directory.
// The CLI is tested in command.test.ts, robustness in fuzz.test.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import {
  flatten,
  formatDiagnostic,
  lookupPosition,
  parseTsk,
  parseTskFile,
  TskParseError,
  type TskParseOptions,
  type TskParseResult,
  type TskValue,
} from '../../../config/tsk/parser';

const lines = (...l: string[]): string => l.join('\n');
const parse = (src: string, opts: TskParseOptions = {}): TskParseResult =>
  parseTsk(src, { file: 't.tsk', env: {}, ...opts });
const data = (src: string, opts: TskParseOptions = {}): Record<string, TskValue> => parse(src, opts).data;
const codes = (src: string, opts: TskParseOptions = {}): string[] => parse(src, opts).diagnostics.map((d) => d.code);
/** diags lists [line, column, code] of every diagnostic. */
const diags = (src: string, opts: TskParseOptions = {}): Array<[number, number, string]> =>
  parse(src, opts).diagnostics.map((d) => [d.line, d.column, d.code]);
const pos = (r: TskParseResult, path: string): string => {
  const p = r.positions.get(path);
  return p ? `${p.line}:${p.column}` : 'none';
};

describe('tsk parser', () => {
  describe('lines, comments and terminators', () => {
    it('treats CRLF like LF, including positions', () => {
      const lf = parse(lines('[server]', 'host: "h"', 'list: [', '  1,', ']', 'body: """', 'a', '"""', 'x: 1'));
      const crlf = parse(
        lines('[server]', 'host: "h"', 'list: [', '  1,', ']', 'body: """', 'a', '"""', 'x: 1').replace(/\n/g, '\r\n'),
      );
      expect(crlf.data).to.deep.equal(lf.data);
      expect(crlf.data).to.deep.equal({ server: { host: 'h', list: [1], body: 'a', x: 1 } });
      expect([...crlf.positions]).to.deep.equal([...lf.positions]);
      expect(crlf.diagnostics).to.deep.equal([]);
    });

    it('drops a leading BOM and ignores blank and whitespace-only lines', () => {
      expect(data('\uFEFFa: 1\n\n   \n\t\nb: 2')).to.deep.equal({ a: 1, b: 2 });
    });

    it('removes exactly one trailing ; after the comment', () => {
      expect(data(lines('a: 1;', 'b: 1;;', 'c: "x;y";', 'd: 2; # note', 'e: 3 ;'))).to.deep.equal({
        a: 1,
        b: '1;',
        c: 'x;y',
        d: 2,
        e: 3,
      });
      expect(data(lines('[s];', 'b {;', 'k: 1', '};'))).to.deep.equal({ s: { b: { k: 1 } } });
    });

    it('treats #, #!, // lines as comments', () => {
      expect(parse(lines('#!api', '# c', '  // c', 'a: 1')).diagnostics).to.deep.equal([]);
      expect(data(lines('#!api', '# c', '  // c', 'a: 1'))).to.deep.equal({ a: 1 });
    });

    it('strips inline comments only after whitespace, outside quotes, with text before', () => {
      expect(
        data(
          lines(
            'a: 1 # c',
            'b: x#y',
            'c: # c',
            "d: it's here # c",
            "e: 'a # b' # c",
            'f: [1, 2] # c',
            'g: "a" #c',
            'h: 1\t# tab',
          ),
        ),
      ).to.deep.equal({ a: 1, b: 'x#y', c: '# c', d: "it's here", e: 'a # b', f: [1, 2], g: 'a', h: 1 });
    });

    it('skips /* ... */ blocks with a warning', () => {
      const r = parse(lines('a: 1', '/* start', 'b: 2', 'end */', 'c: 3', '/* one line */', 'd: 4'));
      expect(r.data).to.deep.equal({ a: 1, c: 3, d: 4 });
      expect(r.diagnostics.map((d) => [d.line, d.code, d.severity])).to.deep.equal([
        [2, 'TSK_BLOCK_COMMENT', 'warning'],
        [6, 'TSK_BLOCK_COMMENT', 'warning'],
      ]);
      // an unclosed /* skips only its own line
      expect(data(lines('/* open', 'a: 1'))).to.deep.equal({ a: 1 });
    });

    it('reports ignored lines with the reason and column of the first character', () => {
      const r = parse(lines('  this has no separator', 'a.b: 1', '"q": 1', '<server>', '@import(x)', 'ok: 1'));
      expect(r.data).to.deep.equal({ ok: 1 });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [1, 3, 'TSK_IGNORED_LINE'],
        [2, 1, 'TSK_IGNORED_LINE'],
        [3, 1, 'TSK_IGNORED_LINE'],
        [4, 1, 'TSK_IGNORED_LINE'],
        [5, 1, 'TSK_IGNORED_LINE'],
      ]);
      expect(r.diagnostics[1].message).to.match(/invalid key 'a\.b'/);
      expect(r.diagnostics[3].message).to.match(/XML/);
    });

    it('ignores `key:` without a value and says so', () => {
      expect(diags(lines('a:', 'b =  ', '  c: ;', 'd: 1'))).to.deep.equal([
        [1, 1, 'TSK_EMPTY_VALUE'],
        [2, 1, 'TSK_EMPTY_VALUE'],
        [3, 3, 'TSK_EMPTY_VALUE'],
      ]);
      expect(data(lines('a:', 'd: 1'))).to.deep.equal({ d: 1 });
    });
  });

  describe('keys and separators', () => {
    it('accepts : and =, hyphens, $ and underscores; splits at the first separator', () => {
      expect(data(lines('a-b: 1', '_c = 2', 'url: http://h:80/p', 'e = b:c', 'f:1', 'g=x=y', 'H: 3'))).to.deep.equal({
        'a-b': 1,
        _c: 2,
        url: 'http://h:80/p',
        e: 'b:c',
        f: 1,
        g: 'x=y',
        H: 3,
      });
    });

    it('last duplicate wins, keeping the first position in key order', () => {
      const r = parse(lines('a: 1', 'b: 2', 'a: [3, 4]', 'a: [5]'));
      expect(JSON.stringify(r.data)).to.equal('{"a":[5],"b":2}');
      expect(pos(r, 'a')).to.equal('4:1');
      expect(pos(r, 'a[0]')).to.equal('4:5');
      expect(r.positions.has('a[1]')).to.equal(false);
    });

    it('stores __proto__, constructor and toString as plain own keys', () => {
      const r = data(
        lines(
          '__proto__: { polluted: true }',
          'o: { __proto__: 1, hasOwnProperty: 2 }',
          '[constructor]',
          'toString: 1',
          'x { ',
          '}',
        ),
      );
      expect(Object.keys(r)).to.deep.equal(['__proto__', 'o', 'constructor']);
      expect(Object.getPrototypeOf(r)).to.equal(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      expect(JSON.parse(JSON.stringify(r))).to.deep.equal(
        JSON.parse(
          '{"__proto__":{"polluted":true},"o":{"__proto__":1,"hasOwnProperty":2},"constructor":{"toString":1,"x":{}}}',
        ),
      );
    });
  });

  describe('scalars', () => {
    it('parses integers, floats, keywords and ranges per the table', () => {
      expect(
        data(
          lines(
            'a: 0',
            'b: -0',
            'c: 007',
            'd: -1.50',
            'e: 10-20',
            'f: true',
            'g: null',
            'h: TRUE',
            'i: 1.',
            'j: 0x10',
            'k: -5-3',
            'l: 1 2',
          ),
        ),
      ).to.deep.equal({
        a: 0,
        b: 0,
        c: 7,
        d: -1.5,
        e: { min: 10, max: 20, type: 'range' },
        f: true,
        g: null,
        h: 'TRUE',
        i: '1.',
        j: '0x10',
        k: '-5-3',
        l: '1 2',
      });
      expect(Object.is(data('b: -0').b, 0)).to.equal(true);
    });

    it('warns when an integer loses precision and keeps numbers too large as text', () => {
      const r = parse(lines('big: 9007199254740993', 'huge: ' + '9'.repeat(400), 'ok: 9007199254740991'));
      expect(r.data.big).to.equal(9007199254740992);
      expect(r.data.huge).to.equal('9'.repeat(400));
      expect(r.data.ok).to.equal(9007199254740991);
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [1, 6, 'TSK_NUMBER_RANGE'],
        [2, 7, 'TSK_NUMBER_RANGE'],
      ]);
    });
  });

  describe('strings', () => {
    it('processes \\\\ \\" \\\' \\n \\t \\r in double quotes, keeps unknown escapes, leaves single quotes raw', () => {
      expect(
        data(
          lines(
            String.raw`a: "q\"x\\y\'z"`,
            String.raw`b: "1\n2\t3\r"`,
            String.raw`c: "\d\u0041\x"`,
            String.raw`d: 'C:\new\table'`,
            String.raw`e: "\\"`,
            String.raw`f: ""`,
            `g: ''`,
          ),
        ),
      ).to.deep.equal({
        a: `q"x\\y'z`,
        b: '1\n2\t3\r',
        c: '\\d\\u0041\\x',
        d: 'C:\\new\\table',
        e: '\\',
        f: '',
        g: '',
      });
    });

    it('treats a value as a string literal only when it is one complete quoted token', () => {
      expect(data(lines('a: "x" "y"', 'b: "x"y', "c: 'a' + 'b'", 'd: "a\\" + \\"b"'))).to.deep.equal({
        a: '"x" "y"',
        b: '"x"y',
        c: 'ab',
        d: 'a" + "b',
      });
    });

    it('keeps an unterminated quote as text with a warning at the quote', () => {
      expect(parse('a:  "abc').data).to.deep.equal({ a: '"abc' });
      expect(diags('a:  "abc')).to.deep.equal([[1, 5, 'TSK_UNTERMINATED_STRING']]);
    });

    it('keeps bare strings verbatim, including apostrophes and inner spaces', () => {
      expect(data(lines("a: it's   fine", 'b: C:\\dir\\x', 'c: a,b , c'))).to.deep.equal({
        a: "it's   fine",
        b: 'C:\\dir\\x',
        c: 'a,b , c',
      });
    });

    it('keeps unicode text and counts columns in code points', () => {
      const r = parse(lines('name: "héllo wörld 🌍"', 'list: ["🌍", "b", $missing]', 'k: 日本語'));
      expect(r.data).to.deep.equal({ name: 'héllo wörld 🌍', list: ['🌍', 'b', ''], k: '日本語' });
      expect(pos(r, 'list[1]')).to.equal('2:13');
      expect(pos(r, 'list[2]')).to.equal('2:18');
      expect(diags(lines('list: ["🌍", "b", $missing]'))).to.deep.equal([[1, 18, 'TSK_UNDEFINED_VARIABLE']]);
    });
  });

  describe('multiline """ strings', () => {
    it('keeps raw lines (no trim, no comments, no escapes) up to a line that is exactly """', () => {
      const r = parse(lines('a: """', '  x # y  ', '', '\t"quoted" \\n ${v}', '   """   ', 'b: 1'));
      expect(r.data).to.deep.equal({ a: '  x # y  \n\n\t"quoted" \\n ${v}', b: 1 });
      expect(r.diagnostics).to.deep.equal([]);
    });

    it('works at top level, in sections and blocks; an empty body is ""', () => {
      expect(data(lines('a: """', '"""', '[s]', 'b {', 'c: """', 'z', '"""', '}'))).to.deep.equal({
        a: '',
        s: { b: { c: 'z' } },
      });
    });

    it('reports an unclosed """ at the opener and takes the rest of the file', () => {
      const r = parse(lines('x: 1', 'body:   """', 'line', 'y: 2'));
      expect(r.data).to.deep.equal({ x: 1, body: 'line\ny: 2' });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code, d.severity])).to.deep.equal([
        [2, 9, 'TSK_UNCLOSED_MULTILINE', 'error'],
      ]);
    });
  });

  describe('sections and blocks', () => {
    it('nests dotted sections, merges re-opened ones, keeps empty ones', () => {
      expect(data(lines('[a.b.c]', 'x: 1', '[a]', 'y: 2', '[a.b]', 'z: 3', '[e]', '[a.b.c]', 'w: 4'))).to.deep.equal({
        a: { b: { c: { x: 1, w: 4 }, z: 3 }, y: 2 },
        e: {},
      });
    });

    it('reports bad section headers; following keys stay in the previous section', () => {
      const r = parse(lines('[a]', '[my-section]', 'k: 1', '[ b ]', '[a..b]', '[9x]', '[]', '[open', '[x] # ok'));
      expect(r.data).to.deep.equal({ a: { k: 1 }, x: {} });
      expect(r.diagnostics.map((d) => [d.line, d.code, d.severity])).to.deep.equal([
        [2, 'TSK_BAD_SECTION', 'error'],
        [4, 'TSK_BAD_SECTION', 'error'],
        [5, 'TSK_BAD_SECTION', 'error'],
        [6, 'TSK_BAD_SECTION', 'error'],
        [7, 'TSK_BAD_SECTION', 'error'],
        [8, 'TSK_BAD_SECTION', 'error'],
      ]);
    });

    it('nests any mix of { } and > < to any depth', () => {
      const depth = 40;
      const open: string[] = [];
      const close: string[] = [];
      for (let i = 0; i < depth; i++) {
        const brace = i % 2 === 0;
        open.push(`${' '.repeat(i)}b${i} ${brace ? '{' : '>'}`);
        close.unshift(`${' '.repeat(i)}${brace ? '}' : '<'}`);
      }
      const r = parse([...open, 'leaf: 1', ...close, 'after: 2'].join('\n'));
      expect(r.diagnostics).to.deep.equal([]);
      let cur: TskValue = r.data;
      for (let i = 0; i < depth; i++) cur = (cur as Record<string, TskValue>)[`b${i}`];
      expect(cur).to.deep.equal({ leaf: 1 });
      expect(r.data.after).to.equal(2);
      expect(pos(r, Array.from({ length: depth }, (_, i) => `b${i}`).join('.') + '.leaf')).to.equal(`${depth + 1}:1`);
    });

    it('reports a mismatched closer and uses indentation to decide what it closes', () => {
      const r = parse(lines('server {', '  tls >', '    on: true', '  }', '  port: 1', '}'));
      expect(r.data).to.deep.equal({ server: { tls: { on: true }, port: 1 } });
      expect(diags(lines('server {', '  tls >', '    on: true', '  }', '  port: 1', '}'))).to.deep.equal([
        [4, 3, 'TSK_MISMATCHED_CLOSER'],
      ]);
      // same column as the outer opener: closes both
      const r2 = parse(lines('a {', '  b >', '    c: 1', '}', 'd: 2'));
      expect(r2.data).to.deep.equal({ a: { b: { c: 1 } }, d: 2 });
      expect(r2.diagnostics.map((d) => [d.line, d.code])).to.deep.equal([[4, 'TSK_MISMATCHED_CLOSER']]);
      expect(r2.diagnostics[0].message).to.match(/'b'.*opened with '>' at 2:3/);
    });

    it('reports stray closers and blocks left open at a section header or end of file', () => {
      expect(diags(lines('}', 'a {', '  b >', '[s]', 'c {', 'k: 1'))).to.deep.equal([
        [1, 1, 'TSK_UNEXPECTED_CLOSER'],
        [2, 1, 'TSK_UNCLOSED_BLOCK'],
        [3, 3, 'TSK_UNCLOSED_BLOCK'],
        [5, 1, 'TSK_UNCLOSED_BLOCK'],
      ]);
      expect(data(lines('}', 'a {', '  b >', '[s]', 'c {', 'k: 1'))).to.deep.equal({
        a: { b: {} },
        s: { c: { k: 1 } },
      });
    });

    it('merges a re-opened block and replaces a scalar with a warning', () => {
      const r = parse(lines('b {', 'x: 1', '}', 'b {', 'y: 2', '}', 'c: 5', 'c >', 'z: 1', '<'));
      expect(r.data).to.deep.equal({ b: { x: 1, y: 2 }, c: { z: 1 } });
      expect(r.diagnostics.map((d) => [d.line, d.code, d.severity])).to.deep.equal([
        [8, 'TSK_KEY_CONFLICT', 'warning'],
      ]);
    });

    it('caps block nesting: deeper blocks merge into their parent, closers still pair up', () => {
      const n = 150;
      const src =
        Array.from({ length: n }, () => 'b {').join('\n') +
        '\nleaf: 1\n' +
        Array.from({ length: n }, () => '}').join('\n') +
        '\nafter: 1';
      const r = parse(src);
      expect(r.data.after).to.equal(1);
      expect(r.diagnostics.every((d) => d.code === 'TSK_DEPTH_LIMIT')).to.equal(true);
      expect(r.diagnostics).to.have.length(n - 100);
      expect(JSON.stringify(r.data)).to.include('"leaf":1');
    });
  });

  describe('arrays and inline objects', () => {
    it('parses nested arrays and objects with quotes, commas, = and trailing commas', () => {
      expect(
        data(
          lines(
            'a: [ [1, [2, [3, [4]]]], {k: [ {x: "y,z"} ]} ]',
            "b: { 'q-k': 1, \"s p\" = 'v', e: {}, arr: [], }",
            'c: [ "a" , \'b\' , bare words , ]',
            'd: {url: "http://h:1/x", t: a = b}',
            'e: [1]',
          ),
        ),
      ).to.deep.equal({
        a: [[1, [2, [3, [4]]]], { k: [{ x: 'y,z' }] }],
        b: { 'q-k': 1, 's p': 'v', e: {}, arr: [] },
        c: ['a', 'b', 'bare words'],
        d: { url: 'http://h:1/x', t: 'a = b' },
        e: [1],
      });
    });

    it('splits an inline-object entry at its first : or = outside quotes', () => {
      expect(data('o: { a = "x:y", b: c=d, "k:1": 2, e = f:g }')).to.deep.equal({
        o: { a: 'x:y', b: 'c=d', 'k:1': 2, e: 'f:g' },
      });
    });

    it('reports empty elements and bad entries, and skips them', () => {
      const r = parse('a: [1,,2]\nb: { x: , y: 2, z, : 3 }');
      expect(r.data).to.deep.equal({ a: [1, 2], b: { y: 2 } });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [1, 7, 'TSK_BAD_ELEMENT'],
        [2, 6, 'TSK_EMPTY_VALUE'],
        [2, 17, 'TSK_BAD_ELEMENT'],
        [2, 20, 'TSK_BAD_ELEMENT'],
      ]);
    });

    it('keeps unbalanced or mismatched brackets as text with an error at the culprit', () => {
      const r = parse(lines('a: [1, 2}', 'b: {x: [1}', 'c: [1] ]', 'd: x (y'));
      expect(r.data).to.deep.equal({ a: '[1, 2}', b: '{x: [1}', c: '[1] ]', d: 'x (y' });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code, d.severity])).to.deep.equal([
        [1, 9, 'TSK_UNBALANCED_BRACKETS', 'error'],
        [2, 10, 'TSK_UNBALANCED_BRACKETS', 'error'],
        [3, 8, 'TSK_UNBALANCED_BRACKETS', 'error'],
      ]);
    });

    it('resolves elements as values: globals, operators, expressions', () => {
      expect(
        data(lines('$g: [1, 2]', '$h: "x"', 'a: [$g, @env("NOPE", 3), $h + "y", 1 > 0 ? "t" : "f", @int("4")]')),
      ).to.deep.equal({
        $g: [1, 2],
        $h: 'x',
        a: [[1, 2], '3', 'xy', 't', 4],
      });
    });

    it('caps nesting depth inside one value (no stack overflow on 20k brackets)', () => {
      const n = 20_000;
      const r = parse('a: ' + '['.repeat(n) + ']'.repeat(n));
      expect(r.diagnostics.map((d) => d.code)).to.deep.equal(['TSK_DEPTH_LIMIT']);
      expect(() => JSON.stringify(r.data)).to.not.throw();
    });
  });

  describe('multi-line values (bracket continuation)', () => {
    it('joins lines while [ { ( are open, allowing comments, blank lines and trailing commas', () => {
      const r = parse(
        lines(
          'servers: [',
          '  # first server',
          '  { name: "a",   # inline',
          '    port: 1 },',
          '',
          '  // second',
          '  { name: "b", port: 2 },',
          '];',
          'after: 1',
        ),
      );
      expect(r.data).to.deep.equal({
        servers: [
          { name: 'a', port: 1 },
          { name: 'b', port: 2 },
        ],
        after: 1,
      });
      expect(r.diagnostics).to.deep.equal([]);
      expect(pos(r, 'servers[0].port')).to.equal('4:5');
      expect(pos(r, 'servers[1]')).to.equal('7:3');
      expect(pos(r, 'after')).to.equal('9:1');
    });

    it('supports multi-line objects (key: {) and multi-line operator calls', () => {
      expect(
        data(
          lines(
            '$env: "prod"',
            'cfg: {',
            '  host: "h"',
            '  , port: 5',
            '}',
            'w: @if($env == "prod",',
            '  8,',
            '  2)',
            'x: "a" + @env("NOPE",',
            '  "d")',
          ),
        ),
      ).to.deep.equal({
        $env: 'prod',
        cfg: { host: 'h', port: 5 },
        w: 8,
        x: 'ad',
      });
    });

    it('does not continue bare text that merely contains an unclosed bracket', () => {
      expect(data(lines('smile: :(', 'note: see [below', 'x: 1'))).to.deep.equal({
        smile: ':(',
        note: 'see [below',
        x: 1,
      });
    });

    it('when the brackets never close, keeps the first line as text and parses the rest normally', () => {
      const r = parse(lines('[s]', 'list: [', '  "a",', '[t]', 'k: 1'));
      expect(r.data).to.deep.equal({ s: { list: '[' }, t: { k: 1 } });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [2, 7, 'TSK_UNBALANCED_BRACKETS'],
        [3, 3, 'TSK_IGNORED_LINE'],
      ]);
    });

    it('stops at a mismatched closer on a later line', () => {
      const r = parse(lines('a: [', '  1', '}', 'b: 2'));
      expect(r.data).to.deep.equal({ a: '[', b: 2 });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [3, 1, 'TSK_UNBALANCED_BRACKETS'],
        [2, 3, 'TSK_IGNORED_LINE'],
        [3, 1, 'TSK_UNEXPECTED_CLOSER'],
      ]);
    });
  });

  describe('globals and section-local references', () => {
    it('keeps types and falsy values, copies values, and is global across sections and blocks', () => {
      const r = parse(
        lines(
          '$zero: 0',
          '$empty: ""',
          '$list: [1, {a: 2}]',
          '[s]',
          '$inner: "i"',
          'b {',
          '  $blk: "B"',
          '}',
          '[t]',
          'z: $zero',
          'e: $empty',
          'l: $list',
          'm: $list',
          'i: $inner',
          'k: $blk',
        ),
      );
      expect(r.data.t).to.deep.equal({ z: 0, e: '', l: [1, { a: 2 }], m: [1, { a: 2 }], i: 'i', k: 'B' });
      const t = r.data.t as Record<string, TskValue[]>;
      expect(t.l).to.not.equal(t.m);
      expect(r.data.s).to.deep.equal({ $inner: 'i', b: { $blk: 'B' } });
    });

    it('bounds what references may copy (no exponential output from $b: [$a, $a] chains)', () => {
      const src = Array.from({ length: 40 }, (_, i) =>
        i === 0 ? '$a0: "x"' : `$a${i}: [$a${i - 1}, $a${i - 1}]`,
      ).join('\n');
      const r = parse(src);
      expect(r.diagnostics.length).to.be.greaterThan(0);
      expect(r.diagnostics.every((d) => d.code === 'TSK_SIZE_LIMIT' && d.severity === 'error')).to.equal(true);
      expect(JSON.stringify(r.data).length).to.be.below(50_000_000);
      expect(data(lines('$a: [1]', '$b: [$a, $a]', 'c: $b'))).to.deep.equal({ $a: [1], $b: [[1], [1]], c: [[1], [1]] });
    });

    it('accepts hyphenated global names in references (they are valid key names)', () => {
      expect(data(lines('$my-var: 5', 'a: $my-var'))).to.deep.equal({ '$my-var': 5, a: 5 });
    });

    it('resolves bare words only against keys written earlier directly in the same section', () => {
      expect(
        data(
          lines(
            'top: 1',
            'x: top',
            '[s]',
            'host: "h"',
            'port: 80',
            'b {',
            '  inner: 1',
            '  bind: host',
            '}',
            'p: port',
            'q: inner',
            'r: later',
            'later: 2',
            'c: b',
            '[t]',
            'h: host',
            '[s]',
            'again: host',
          ),
        ),
      ).to.deep.equal({
        top: 1,
        x: 'top',
        s: {
          host: 'h',
          port: 80,
          b: { inner: 1, bind: 'h' },
          p: 80,
          q: 'inner',
          r: 'later',
          later: 2,
          c: 'b',
          again: 'h',
        },
        t: { h: 'host' },
      });
    });

    it('reports undefined variables with their column and uses ""', () => {
      expect(diags('a: ["x", $nope]')).to.deep.equal([[1, 10, 'TSK_UNDEFINED_VARIABLE']]);
      expect(data('a: $nope')).to.deep.equal({ a: '' });
    });
  });

  describe('expressions', () => {
    const cond = (c: string, vars = ''): TskValue => data(`${vars}\nr: ${c} ? "yes" : "no"`).r;

    it('evaluates == != > < >= <= numerically when both sides are numbers', () => {
      expect([
        cond('10 > 9'),
        cond('10 < 9'),
        cond('2 >= 2'),
        cond('2 <= 1'),
        cond('1.0 == 1'),
        cond('3 != 3'),
        cond('"10" > 9'),
      ]).to.deep.equal(['yes', 'no', 'yes', 'no', 'yes', 'no', 'yes']);
      expect(cond('$p >= 8080', '$p: @env("NOPE", 8080)')).to.equal('yes');
    });

    it('compares text otherwise (including true/null text forms)', () => {
      expect([
        cond('"b" > "a"'),
        cond('"B" > "a"'),
        cond('abc == abc'),
        cond('"x" != "y"'),
        cond('$t == true', '$t: true'),
        cond('$n == null', '$n: null'),
        cond('"10" > "9x"'),
      ]).to.deep.equal(['yes', 'no', 'yes', 'yes', 'yes', 'yes', 'no']);
    });

    it('tests truthiness without an operator', () => {
      const vals = ['false', 'null', '0', '""', '"0"', '"false"', '"null"', '1', '"x"', '[]', 'true'];
      expect(vals.map((v) => cond(`$v`, `$v: ${v}`))).to.deep.equal([
        'no',
        'no',
        'no',
        'no',
        'no',
        'no',
        'no',
        'yes',
        'yes',
        'yes',
        'yes',
      ]);
    });

    it('gives branches their type and evaluates only the chosen one', () => {
      const r = parse(
        lines('a: 1 == 1 ? 8 : $undefined', 'b: 1 == 2 ? $undefined : [1, 2]', 'c: 1 == 1 ? "x" + "y" : "z"'),
      );
      expect(r.data).to.deep.equal({ a: 8, b: [1, 2], c: 'xy' });
      expect(r.diagnostics).to.deep.equal([]);
      expect(pos(r, 'b[1]')).to.equal('2:30');
    });

    it('concatenates text exactly; + is never arithmetic; quotes protect + ? :', () => {
      expect(
        data(
          lines(
            '$a: "Tusk"',
            '$n: 2',
            'a: $a + 1',
            'b: $n + $n',
            'c: "a + b" + "?:"',
            'd: "x"+"y"',
            'e: "  sp  " + "x"',
            'f: [1] + {a: 1} + null + true',
            'g: "q? a: b"',
          ),
        ),
      ).to.deep.equal({
        $a: 'Tusk',
        $n: 2,
        a: 'Tusk1',
        b: '22',
        c: 'a + b?:',
        d: '"x"+"y"',
        e: '  sp  x',
        f: '[1]{"a":1}nulltrue',
        g: 'q? a: b',
      });
    });

    it('warns about && || ! which are not implemented', () => {
      expect(codes('a: 1 && 0 ? 1 : 2')).to.deep.equal(['TSK_UNSUPPORTED_EXPRESSION']);
      expect(codes('a: !x ? 1 : 2')).to.deep.equal(['TSK_UNSUPPORTED_EXPRESSION']);
      expect(codes('a: x != y ? 1 : 2')).to.deep.equal([]);
    });
  });

  describe('operators', () => {
    it('@env: quoted name, default as raw text, empty uses the default, always a string', () => {
      const env = { SET: 'v', EMPTY: '', N: '5' };
      expect(
        data(
          lines(
            'a: @env("SET")',
            "b: @env('SET', 'd')",
            'c: @env("EMPTY", 0.10)',
            'd: @env("NO")',
            'e: @env("NO", true)',
            'f: @env("NO", "q\\"x")',
            '$g: "G"',
            'g: @env("NO", $g)',
            'h: @env("NO", @env("N"))',
            'i: @env("NO", a b)',
          ),
          { env },
        ),
      ).to.deep.equal({ a: 'v', b: 'v', c: '0.10', d: '', e: 'true', f: 'q"x', $g: 'G', g: 'G', h: '5', i: 'a b' });
    });

    it('@env with an unquoted name or wrong arity stays literal with TSK_BAD_ARGUMENTS', () => {
      const r = parse(lines('a: @env(HOME)', 'b: @env()', 'c: @env("A", 1, 2)'), { env: { HOME: '/h' } });
      expect(r.data).to.deep.equal({ a: '@env(HOME)', b: '@env()', c: '@env("A", 1, 2)' });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [1, 4, 'TSK_BAD_ARGUMENTS'],
        [2, 4, 'TSK_BAD_ARGUMENTS'],
        [3, 4, 'TSK_BAD_ARGUMENTS'],
      ]);
    });

    it('@int @float @bool @string convert, nest, and report what they cannot convert', () => {
      const env = { X: '42', F: '2.5', B: 'Yes', BAD: 'abc' };
      const r = parse(
        lines(
          'a: @int(@env("X", 3))',
          'b: @int(@env("NONE", 3))',
          'c: @int("3.9")',
          'd: @float(@env("F"))',
          'e: @bool(@env("B"))',
          'f: @bool("off")',
          'g: @bool(1)',
          'h: @string(8080)',
          'i: @string([1, "a"])',
          'j: @int(@env("BAD"))',
          'k: @bool("maybe")',
          'l: @int(true)',
          'm: @float("1e3")',
        ),
        { env },
      );
      expect(r.data).to.deep.equal({
        a: 42,
        b: 3,
        c: 3,
        d: 2.5,
        e: true,
        f: false,
        g: true,
        h: '8080',
        i: '[1,"a"]',
        j: 'abc',
        k: false,
        l: 1,
        m: 1000,
      });
      expect(r.diagnostics.map((d) => [d.line, d.code])).to.deep.equal([
        [10, 'TSK_BAD_CONVERSION'],
        [11, 'TSK_BAD_CONVERSION'],
      ]);
    });

    it('@if accepts the ?: and comma forms with any condition operator', () => {
      expect(
        data(
          lines(
            '$e: "prod"',
            'a: @if($e == "prod" ? 8 : 2)',
            'b: @if($e != "prod", 8, 2)',
            'c: @if(3 >= 2, [1], {})',
            'd: @if($e, "t", "f")',
            'e: @if(1 < 0 ? "x" + "y" : "z" + "w")',
          ),
        ),
      ).to.deep.equal({
        $e: 'prod',
        a: 8,
        b: 2,
        c: [1],
        d: 't',
        e: 'zw',
      });
      expect(codes('a: @if(1, 2)')).to.deep.equal(['TSK_BAD_ARGUMENTS']);
    });

    it('@date formats PHP letters in one pass (letters inside day names are not re-replaced)', () => {
      const now = () => new Date(2024, 1, 29, 7, 5, 9, 45); // local time: Thursday 29 Feb 2024 07:05:09.045
      const r = data(
        lines(
          'a: @date("Y-m-d")',
          'b: @date("l jS \\\\o\\\\f F Y h:i:s A")',
          'c: @date("D, d M y H:i:s.v")',
          'd: @date("N w z t L W o n j G g a")',
          'e: @date("c")',
          'f: @date("U")',
          'g: @date("u B I")',
        ),
        { now },
      );
      expect(r.a).to.equal('2024-02-29');
      expect(r.b).to.equal('Thursday 29th of February 2024 07:05:09 AM');
      expect(r.c).to.equal('Thu, 29 Feb 24 07:05:09.045');
      expect(r.d).to.equal('4 4 59 29 1 09 2024 2 29 7 7 am');
      expect(r.e).to.match(/^2024-02-29T07:05:09[+-]\d{2}:\d{2}$/);
      expect(r.f).to.equal(String(Math.floor(now().getTime() / 1000)));
      expect(r.g).to.match(/^045000 \d{3} [01]$/);
    });

    it('@date: ISO week/year at year boundaries, offsets, and the real clock', () => {
      const at = (y: number, m: number, d: number) => data('w: @date("W o")', { now: () => new Date(y, m, d, 12) }).w;
      expect([at(2021, 0, 3), at(2021, 0, 4), at(2020, 11, 31), at(2024, 11, 30), at(2026, 0, 1)]).to.deep.equal([
        '53 2020',
        '01 2021',
        '53 2020',
        '01 2025',
        '01 2026',
      ]);
      const r = data(lines('o: @date("O|P|Z|T|e|r")', 'now: @date("Y-m-d H:i:s")', 'ts: @date("Y-m-d", 86400)'));
      expect(r.o).to.match(
        /^[+-]\d{4}\|[+-]\d{2}:\d{2}\|-?\d+\|\S+\|\S+\|\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
      );
      expect(r.now).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(r.ts).to.match(/^1970-01-0[12]$/);
    });

    it('@cache returns its value (typed, recursive) and checks the ttl', () => {
      const r = parse(
        lines(
          'a: @cache("5m", 42)',
          'b: @cache("30", [1, {x: 2}])',
          'c: @cache(300, "s")',
          'd: @cache("1d", $nope)',
          'e: @cache("soon", 1)',
          'f: @cache("5m")',
        ),
      );
      expect(r.data).to.deep.equal({ a: 42, b: [1, { x: 2 }], c: 's', d: '', e: 1, f: '@cache("5m")' });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([
        [4, 17, 'TSK_UNDEFINED_VARIABLE'],
        [5, 11, 'TSK_BAD_ARGUMENTS'],
        [6, 4, 'TSK_BAD_ARGUMENTS'],
      ]);
      expect(pos(r, 'b[1].x')).to.equal('2:22');
    });

    it('@metrics/@learn/@optimize return the 2nd argument, or what the hook returns', () => {
      expect(
        data(lines('a: @metrics("m", 0)', 'b: @learn("k", "d")', 'c: @optimize("p", 1.5)', 'd: @metrics("only")')),
      ).to.deep.equal({ a: 0, b: 'd', c: 1.5, d: null });
      const seen: unknown[] = [];
      const hooks = {
        metrics: (n: string, v: TskValue) => {
          seen.push([n, v]);
          return 7;
        },
        learn: () => {
          throw new Error('boom');
        },
        optimize: () => Promise.resolve(1) as unknown as TskValue,
      };
      const r = parse(lines('a: @metrics("m", 0)', 'b: @learn("k", "d")', 'c: @optimize("p", 1.5)'), { hooks });
      expect(r.data).to.deep.equal({ a: 7, b: 'd', c: 1.5 });
      expect(data('a: @metrics("m", 3)', { hooks: { metrics: () => undefined as unknown as TskValue } })).to.deep.equal(
        { a: 3 },
      );
      expect(seen).to.deep.equal([['m', 0]]);
      expect(r.diagnostics.map((d) => [d.line, d.code])).to.deep.equal([
        [2, 'TSK_HOOK_FAILED'],
        [3, 'TSK_HOOK_FAILED'],
      ]);
      expect(r.diagnostics[0].message).to.include('boom');
    });

    it('keeps IO, exotic and unknown operators as literal text with TSK_UNKNOWN_OPERATOR (no IO)', () => {
      const r = parse(
        lines(
          'q: @query("SELECT 1")',
          'f: @file("read", "/etc/passwd")',
          'j: @json({a: 1})',
          'g: @go("x.Y")',
          'd: @date.now()',
          'i: @include("x.tsk")',
          'p: @php("time()")',
        ),
      );
      expect(r.data).to.deep.equal({
        q: '@query("SELECT 1")',
        f: '@file("read", "/etc/passwd")',
        j: '@json({a: 1})',
        g: '@go("x.Y")',
        d: '@date.now()',
        i: '@include("x.tsk")',
        p: '@php("time()")',
      });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal(
        [1, 2, 3, 4, 5, 6, 7].map((l) => [l, 4, 'TSK_UNKNOWN_OPERATOR']),
      );
    });

    it('leaves @words without parentheses and non-whole calls alone', () => {
      const r = parse(lines('a: @admin', 'b: @request.method', 'c: @env("X") tail', 'd: mail@host(x)'));
      expect(r.data).to.deep.equal({ a: '@admin', b: '@request.method', c: '@env("X") tail', d: 'mail@host(x)' });
      expect(r.diagnostics).to.deep.equal([]);
    });

    it('nests operators inside operators, arrays and concatenations', () => {
      expect(
        data(
          lines(
            'a: @int(@cache("1m", @env("N", 7)))',
            'b: [@bool(@env("Y", "on"))]',
            'c: "p" + @string(@int("5")) + "s"',
          ),
        ),
      ).to.deep.equal({ a: 7, b: [true], c: 'p5s' });
    });
  });

  describe('positions', () => {
    it('records keys, sections, blocks, array elements and inline-object keys', () => {
      const r = parse(
        lines(
          '$kafka: @env("KAFKA_BROKERS", "127.0.0.1:9092")',
          '[processors.tail_sampling]',
          'decision_wait: "10s"',
          'policies: [',
          '  { name: "errors", type: "status_code", codes: ["ERROR"] },',
          '  { name: "slow", type: "latency", above: "p95" },',
          ']',
          '[exporters.spans]',
          'brokers: [$kafka]',
          '  cache {',
          '    ttl: 3',
          '  }',
        ),
      );
      expect(r.data).to.deep.equal({
        $kafka: '127.0.0.1:9092',
        processors: {
          tail_sampling: {
            decision_wait: '10s',
            policies: [
              { name: 'errors', type: 'status_code', codes: ['ERROR'] },
              { name: 'slow', type: 'latency', above: 'p95' },
            ],
          },
        },
        exporters: { spans: { brokers: ['127.0.0.1:9092'], cache: { ttl: 3 } } },
      });
      const expected: Record<string, string> = {
        $kafka: '1:1',
        processors: '2:1',
        'processors.tail_sampling': '2:1',
        'processors.tail_sampling.decision_wait': '3:1',
        'processors.tail_sampling.policies': '4:1',
        'processors.tail_sampling.policies[0]': '5:3',
        'processors.tail_sampling.policies[0].name': '5:5',
        'processors.tail_sampling.policies[0].codes[0]': '5:50',
        'processors.tail_sampling.policies[1]': '6:3',
        'processors.tail_sampling.policies[1].type': '6:19',
        'processors.tail_sampling.policies[1].above': '6:36',
        'exporters.spans': '8:1',
        'exporters.spans.brokers': '9:1',
        'exporters.spans.brokers[0]': '9:11',
        'exporters.spans.cache': '10:3',
        'exporters.spans.cache.ttl': '11:5',
      };
      for (const [path, at] of Object.entries(expected)) expect(pos(r, path), path).to.equal(at);
      expect(r.positions.get('processors.tail_sampling.policies[1].type')).to.deep.equal({
        file: 't.tsk',
        line: 6,
        column: 19,
      });
    });

    it('keeps the first header of a re-opened section and records nothing for values copied from globals', () => {
      const r = parse(lines('$l: [1, 2]', '[a]', 'x: $l', '[b]', '[a]', 'y: 1'));
      expect(pos(r, 'a')).to.equal('2:1');
      expect(pos(r, 'a.y')).to.equal('6:1');
      expect(r.positions.has('a.x[0]')).to.equal(false);
      expect(lookupPosition(r.positions, 'a.x[0]')).to.deep.equal({ file: 't.tsk', line: 3, column: 1 });
      expect(lookupPosition(r.positions, 'nope.x')).to.equal(undefined);
    });
  });

  describe('modes', () => {
    it('strict: throws TskParseError with every diagnostic as an error', () => {
      let err: unknown;
      try {
        parse(lines('a: 1', 'bad line', 'b: $x'), { strict: true });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(TskParseError);
      const e = err as TskParseError;
      expect(e.diagnostics.map((d) => [d.line, d.code, d.severity])).to.deep.equal([
        [2, 'TSK_IGNORED_LINE', 'error'],
        [3, 'TSK_UNDEFINED_VARIABLE', 'error'],
      ]);
      expect(e.message).to.match(/^t\.tsk:2:1: .*\[TSK_IGNORED_LINE\] \(and 1 more\)$/);
      expect(parse(lines('a: 1', '[s]', 'b: [1,', '2]'), { strict: true }).data).to.deep.equal({
        a: 1,
        s: { b: [1, 2] },
      });
    });

    it('lenient: severity is error for structural problems and warning for the rest', () => {
      const r = parse(lines('x {', 'a: $u', 'b: @nope()'));
      expect(r.diagnostics.map((d) => [d.code, d.severity])).to.deep.equal([
        ['TSK_UNDEFINED_VARIABLE', 'warning'],
        ['TSK_UNKNOWN_OPERATOR', 'warning'],
        ['TSK_UNCLOSED_BLOCK', 'error'],
      ]);
    });

    it('compat: reference behaviour for inline comments, quotes/escapes, dotted sections, """ and continuation', () => {
      const r = parse(
        lines('a: 1 # c', 'b: "x\\ty"', 'c: "a" + "b"', '[s]', '[x.y]', 'd: 1', 'l: [', ' 1]', 'm: """'),
        { compat: true },
      );
      expect(r.data).to.deep.equal({ a: '1 # c', b: 'x\\ty', c: 'a" + "b', s: { d: 1, l: '[', m: '"' } });
      expect(r.diagnostics.map((d) => d.code)).to.deep.equal([
        'TSK_BAD_SECTION',
        'TSK_UNBALANCED_BRACKETS',
        'TSK_IGNORED_LINE',
      ]);
    });

    it('interpolate: ${name} from globals in double-quoted and bare strings only', () => {
      const r = parse(
        lines(
          '$app: "tusk"',
          '$n: 3',
          'a: "${app}/logs ${n}"',
          'b: ${app}-x',
          "c: '${app}'",
          'd: """',
          '${app}',
          '"""',
          'e: "\\${app} ${nope}"',
          'f: [${app}]',
        ),
        { interpolate: true },
      );
      expect(r.data).to.deep.equal({
        $app: 'tusk',
        $n: 3,
        a: 'tusk/logs 3',
        b: 'tusk-x',
        c: '${app}',
        d: '${app}',
        e: '${app} ',
        f: ['tusk'],
      });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code])).to.deep.equal([[9, 13, 'TSK_UNDEFINED_VARIABLE']]);
      expect(data('a: "${app}"')).to.deep.equal({ a: '${app}' });
    });
  });

  describe('@include and cross-file @name.tsk.get', () => {
    let dir: string;
    const write = (rel: string, text: string): string => {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    };

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsk-inc-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('merges the included file at that point, sharing globals, relative to the includer', () => {
      write('common.tsk', lines('$kafka: "k:9092"', 'top_from_common: true', '[shared]', 'x: 1'));
      write('sub/part.tsk', lines('in_app: $name', '@include("../common2.tsk")', 'local: kafka_ref'));
      write('common2.tsk', 'deep: 2');
      const main = write(
        'main.tsk',
        lines(
          '$name: "main"',
          '@include("common.tsk")',
          '[app]',
          'kafka_ref: $kafka',
          '@include("sub/part.tsk")',
          'after: 1',
        ),
      );
      const r = parseTskFile(main);
      expect(JSON.stringify(r.data)).to.equal(
        JSON.stringify({
          $name: 'main',
          $kafka: 'k:9092',
          top_from_common: true,
          shared: { x: 1 },
          app: { kafka_ref: 'k:9092', in_app: 'main', deep: 2, local: 'k:9092', after: 1 },
        }),
      );
      expect(r.diagnostics).to.deep.equal([]);
      expect(r.positions.get('app.in_app')).to.deep.equal({
        file: path.join(dir, 'sub', 'part.tsk'),
        line: 1,
        column: 1,
      });
      expect(r.positions.get('app.deep')).to.deep.equal({ file: path.join(dir, 'common2.tsk'), line: 1, column: 1 });
      expect(r.positions.get('shared.x')?.file).to.equal(path.join(dir, 'common.tsk'));
      expect(r.positions.get('app.after')).to.deep.equal({ file: main, line: 6, column: 1 });
    });

    it('includes into the current block, accepts a $global path, and uses baseDir for text input', () => {
      write('inc/x.tsk', lines('k: 1', 'open {', 'z: 2'));
      const r = parseTsk(lines('$p: "inc/x.tsk"', 'b {', '  @include($p)', '  after: 3', '}'), { baseDir: dir });
      expect(r.data).to.deep.equal({ $p: 'inc/x.tsk', b: { k: 1, open: { z: 2 }, after: 3 } });
      expect(r.diagnostics.map((d) => [d.file, d.line, d.code])).to.deep.equal([
        [path.join(dir, 'inc', 'x.tsk'), 2, 'TSK_UNCLOSED_BLOCK'],
      ]);
      expect(codes('@include()', { baseDir: dir })).to.deep.equal(['TSK_BAD_ARGUMENTS']);
    });

    it('detects include cycles (including a file including itself)', () => {
      write('a.tsk', lines('ca: 1', '@include("b.tsk")'));
      write('b.tsk', lines('cb: 1', '  @include("a.tsk")'));
      const self = write('self.tsk', lines('s: 1', '@include("self.tsk")'));
      const r = parseTskFile(path.join(dir, 'a.tsk'));
      expect(r.data).to.deep.equal({ ca: 1, cb: 1 });
      expect(r.diagnostics.map((d) => [d.file, d.line, d.column, d.code, d.severity])).to.deep.equal([
        [path.join(dir, 'b.tsk'), 2, 3, 'TSK_INCLUDE_CYCLE', 'error'],
      ]);
      expect(parseTskFile(self).diagnostics.map((d) => d.code)).to.deep.equal(['TSK_INCLUDE_CYCLE']);
    });

    it('reports missing files, directories and devices without blocking, and caps include depth', () => {
      fs.mkdirSync(path.join(dir, 'adir'));
      const src = ['@include("missing.tsk")', '@include("adir")'];
      if (fs.existsSync('/dev/zero')) src.push('@include("/dev/zero")');
      const r = parseTsk(src.join('\n'), { baseDir: dir, file: 'm.tsk' });
      expect(r.diagnostics.map((d) => [d.line, d.code, d.severity])).to.deep.equal([
        [1, 'TSK_INCLUDE_NOT_FOUND', 'error'],
        [2, 'TSK_INCLUDE_FAILED', 'error'],
        ...(src.length > 2 ? [[3, 'TSK_INCLUDE_FAILED', 'error']] : []),
      ]);
      for (let i = 0; i < 30; i++) write(`chain${i}.tsk`, lines(`k${i}: ${i}`, `@include("chain${i + 1}.tsk")`));
      const deep = parseTskFile(path.join(dir, 'chain0.tsk'));
      expect(deep.diagnostics.map((d) => d.code)).to.deep.equal(['TSK_INCLUDE_DEPTH']);
      expect(Object.keys(deep.data)).to.have.length(16);
    });

    it('@name.tsk.get walks dotted keys (and array indexes) in NAME.tsk next to the includer', () => {
      write(
        'db.tsk',
        lines('[database]', 'host: "db.local"', 'ports: [5432, 5433]', 'oops', 'opts {', '  tls: true', '}'),
      );
      const main = write(
        'main.tsk',
        lines(
          'h: @db.tsk.get("database.host")',
          'p: @db.tsk.get("database.ports.1")',
          'o: @db.tsk.get("database.opts")',
          'n: @int(@db.tsk.get("database.ports.0"))',
          'missing: @db.tsk.get("database.nope")',
          'nofile: @nofile.tsk.get("x")',
        ),
      );
      const r = parseTskFile(main);
      expect(r.data).to.deep.equal({ h: 'db.local', p: 5433, o: { tls: true }, n: 5432, missing: '', nofile: '' });
      expect(r.diagnostics.map((d) => [d.file, d.line, d.column, d.code, d.severity])).to.deep.equal([
        [path.join(dir, 'db.tsk'), 4, 1, 'TSK_IGNORED_LINE', 'warning'],
        [main, 5, 10, 'TSK_KEY_NOT_FOUND', 'warning'],
        [main, 6, 9, 'TSK_INCLUDE_NOT_FOUND', 'warning'],
      ]);
    });

    it('@name.tsk.get searches ./config under the working directory, detects cycles, and .set stays in memory', () => {
      write('config/peanut.tsk', lines('[app]', 'name: "from-config"', 'back: @main.tsk.get("x")'));
      const main = write(
        'main.tsk',
        lines(
          'x: 1',
          'a: @peanut.tsk.get("app.name")',
          'b: @peanut.tsk.get("app.back")',
          'c: @peanut.tsk.set("app.name", "changed")',
          'd: @peanut.tsk.get("app.name")',
        ),
      );
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const r = parseTskFile(main);
        expect(r.data).to.deep.equal({ x: 1, a: 'from-config', b: '', c: 'changed', d: 'changed' });
        expect(r.diagnostics.map((d) => [d.file, d.code])).to.deep.equal([
          [path.join('config', 'peanut.tsk'), 'TSK_INCLUDE_CYCLE'],
        ]);
      } finally {
        process.chdir(cwd);
      }
      expect(fs.readFileSync(path.join(dir, 'config', 'peanut.tsk'), 'utf8')).to.include('from-config');
    });

    it('parseTskFile throws TskParseError for an unreadable file', () => {
      let err: unknown;
      try {
        parseTskFile(path.join(dir, 'nope.tsk'));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(TskParseError);
      expect((err as TskParseError).diagnostics.map((d) => [d.code, d.severity])).to.deep.equal([
        ['TSK_FILE_UNREADABLE', 'error'],
      ]);
    });
  });

  describe('helpers', () => {
    it('flatten joins object paths with dots; arrays, ranges and empty objects stay whole', () => {
      const r = data(lines('[server]', 'tls {', 'enabled: true', '}', 'ports: 1-2', 'list: [{a: 1}]', '[empty]'));
      expect(flatten(r)).to.deep.equal({
        'server.tls.enabled': true,
        'server.ports': { min: 1, max: 2, type: 'range' },
        'server.list': [{ a: 1 }],
        empty: {},
      });
    });

    it('formatDiagnostic renders file:line:col: message [code]', () => {
      const [d] = parse('oops').diagnostics;
      expect(formatDiagnostic(d)).to.equal(`t.tsk:1:1: ${d.message} [TSK_IGNORED_LINE]`);
      expect(parseTsk('oops').diagnostics[0].file).to.equal('<input>');
    });

    it('never throws on non-string input or odd options', () => {
      expect(() => parseTsk(undefined as unknown as string)).to.not.throw();
      expect(() => parseTsk('a: @date("Y")', { now: () => new Date(NaN) })).to.not.throw();
      expect(parseTsk('a: @date("Y")', { now: () => new Date(NaN) }).diagnostics.map((d) => d.code)).to.deep.equal([
        'TSK_BAD_ARGUMENTS',
      ]);
    });
  });
});
