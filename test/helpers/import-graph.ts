// The relative imports of the product's source files, read as text: which file imports which. Used by
// the structure tests (layering, cycles). `import type` lines are kept and flagged, since a type import
// is still a dependency between folders even though it vanishes at run time.

import fs from 'node:fs';
import path from 'node:path';

/** The product folders: what ships, without tests, benchmarks and examples. */
export const PRODUCT_FOLDERS = ['pipeline', 'config', 'receivers', 'processors', 'exporters', 'instrument'];

/** One import of one file: the repo-relative file it resolves to. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly typeOnly: boolean;
}

const SPECIFIER = /(?:^|\s)(import\s+type\s|export\s+type\s)?[^'"\n]*?(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]*)['"]/;

function listSources(root: string, folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path.relative(root, full));
    }
  };
  const start = path.join(root, folder);
  if (fs.existsSync(start)) walk(start);
  return out;
}

function resolveSpecifier(root: string, fromFile: string, specifier: string): string {
  const base = path.normalize(path.join(path.dirname(fromFile), specifier));
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(path.join(root, candidate)) && fs.statSync(path.join(root, candidate)).isFile()) return candidate;
  }
  return base;
}

/** importEdges reads every product source file below `root` and returns its relative imports. */
export function importEdges(root: string, folders: readonly string[] = PRODUCT_FOLDERS): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const folder of folders) {
    for (const file of listSources(root, folder)) {
      const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
      lines.forEach((text, index) => {
        const match = SPECIFIER.exec(text);
        if (!match) return;
        edges.push({ from: file, to: resolveSpecifier(root, file, match[2]), line: index + 1, typeOnly: match[1] !== undefined });
      });
    }
  }
  return edges;
}
