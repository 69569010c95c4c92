// Every name the product code exports is defined in one file only, so a name says which thing it is
// wherever it is imported. Re-exports (`export { X } from`, as in index.ts / plugin-api.ts entry files)
// name a thing defined elsewhere and are not definitions. The only names every component defines for
// itself are its role names: `factory` in its factory.ts and `configSchema` in its config.ts.

import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { productFiles } from '../../helpers/import-graph';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** SourceFile is one product .ts file: its repo-relative path and its text. */
interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** ExportedName is a name a file exports: a definition (`export const X`), or a re-export of a binding. */
interface ExportedName {
  readonly name: string;
  /** True for `export { X } from '…'`, `export type { X } from '…'` and `export { x }` of an imported x. */
  readonly reexport: boolean;
}

const DECLARATION = new RegExp(
  '^export\\s+(?:declare\\s+)?(?:default\\s+)?(?:abstract\\s+)?(?:async\\s+)?' +
    '(?:const\\s+enum|interface|type|class|function\\*?|const|let|var|enum|namespace)\\s+([A-Za-z_$][\\w$]*)',
  'gm',
);
const LOCAL_DECLARATION = '\\b(?:const|let|var|function\\*?|class|enum|interface|type|namespace)\\s+';
const EXPORT_LIST = /^export\s+(?:type\s+)?\{([^}]*)\}\s*(from\s*['"][^'"]+['"])?/gm;

/**
 * exportedNames lists the top-level named exports of a file. A re-export that gives a binding a new name
 * (`export { a as b } from '…'`) defines that new name, so it counts as a definition of `b`.
 */
function exportedNames(text: string): ExportedName[] {
  const out: ExportedName[] = [];
  for (const m of text.matchAll(DECLARATION)) out.push({ name: m[1], reexport: false });
  for (const m of text.matchAll(EXPORT_LIST)) {
    const fromElsewhere = m[2] !== undefined;
    for (const item of m[1].split(',')) {
      const [local, alias] = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/);
      if (local === '') continue;
      const name = alias ?? local;
      const declaredHere = new RegExp(`${LOCAL_DECLARATION}${local}\\b`).test(text);
      out.push({ name, reexport: name === local && (fromElsewhere || !declaredHere) });
    }
  }
  return out;
}

/** ROLE_NAMES maps a name each component folder defines for itself to the file that must define it. */
const ROLE_NAMES: ReadonlyMap<string, string> = new Map([
  ['factory', 'factory.ts'],
  ['configSchema', 'config.ts'],
]);
const COMPONENT_FILE = /^(?:receivers|processors|exporters)\/[^/]+\/([^/]+\.ts)$/;

/** Clash is one name defined in several files. */
interface Clash {
  readonly name: string;
  readonly files: readonly string[];
}

/** clashes lists the names defined (not re-exported) in more than one file, role names of components aside. */
function clashes(files: readonly SourceFile[]): Clash[] {
  const definedIn = new Map<string, string[]>();
  for (const f of files) {
    for (const e of exportedNames(f.text)) {
      if (e.reexport) continue;
      const list = definedIn.get(e.name) ?? [];
      if (!list.includes(f.path)) list.push(f.path);
      definedIn.set(e.name, list);
    }
  }
  const out: Clash[] = [];
  for (const [name, paths] of definedIn) {
    if (paths.length < 2) continue;
    const role = ROLE_NAMES.get(name);
    if (role !== undefined && paths.every((p) => COMPONENT_FILE.exec(p)?.[1] === role)) continue;
    out.push({ name, files: paths });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe('exported names of the product code', () => {
  it('reads declarations, local export lists and renaming re-exports as definitions', () => {
    const text = [
      'export const A = 1;',
      'export declare const B: number;',
      'export abstract class C {}',
      'export async function D() {}',
      'export type E<T> = T;',
      'export const enum F { x }',
      '  export interface Indented {}',
      'function g() {}',
      "import { h } from './h';",
      'export { g, h };',
      "export { I, type J } from './i';",
      "export type { K } from './k';",
      "export { l as L } from './l';",
    ].join('\n');
    expect(exportedNames(text)).to.deep.equal([
      { name: 'A', reexport: false },
      { name: 'B', reexport: false },
      { name: 'C', reexport: false },
      { name: 'D', reexport: false },
      { name: 'E', reexport: false },
      { name: 'F', reexport: false },
      { name: 'g', reexport: false },
      { name: 'h', reexport: true },
      { name: 'I', reexport: true },
      { name: 'J', reexport: true },
      { name: 'K', reexport: true },
      { name: 'L', reexport: false },
    ]);
  });

  it('reports a name defined in two files, but neither re-exports nor component role names', () => {
    const files: SourceFile[] = [
      { path: 'receivers/otlp/http-server.ts', text: 'export class HttpTransport {}' },
      { path: 'exporters/otlp/http-transport.ts', text: 'export class HttpTransport {}' },
      { path: 'exporters/otlp/index.ts', text: "export { HttpTransport } from './http-transport';" },
      { path: 'receivers/otlp/factory.ts', text: 'export const factory = 1;' },
      { path: 'exporters/otlp/factory.ts', text: 'export const factory = 2;' },
      { path: 'receivers/otlp/config.ts', text: 'export const configSchema = 1;' },
      { path: 'pipeline/sdk/config.ts', text: 'export const configSchema = 2;' },
    ];
    expect(clashes(files)).to.deep.equal([
      { name: 'HttpTransport', files: ['receivers/otlp/http-server.ts', 'exporters/otlp/http-transport.ts'] },
      { name: 'configSchema', files: ['receivers/otlp/config.ts', 'pipeline/sdk/config.ts'] },
    ]);
  });

  it('defines every exported name in one file', () => {
    const files = productFiles(REPO).map((p) => ({ path: p, text: fs.readFileSync(path.join(REPO, p), 'utf8') }));
    expect(files.length).to.be.greaterThan(100);
    const found = clashes(files);
    const report = found.map((c) => `${c.name}: ${c.files.join(', ')}`).join('\n');
    expect(found, `names defined in more than one file:\n${report}`).to.deep.equal([]);
  });
});
