// The relative imports of the product's source files, read as text: which file imports which, and the
// import cycles among them. Used by the structure tests (layering, cycles, unique names). `import type`
// lines are kept and flagged, since a type import is still a dependency between folders even though it
// vanishes at run time.

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

const SPECIFIER =
  /(?:^|\s)(import\s+type\s|export\s+type\s)?[^'"\n]*?(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]*)['"]/;

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

/** productFiles lists the repo-relative .ts files of `folders` below `root`. */
export function productFiles(root: string, folders: readonly string[] = PRODUCT_FOLDERS): string[] {
  return folders.flatMap((folder) => listSources(root, folder));
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
        edges.push({
          from: file,
          to: resolveSpecifier(root, file, match[2]),
          line: index + 1,
          typeOnly: match[1] !== undefined,
        });
      });
    }
  }
  return edges;
}

/**
 * findCycles returns one cycle (a path whose last step leads back to its first file) per strongly connected
 * component of the graph with more than one file, or a file importing itself; [] when the graph is acyclic.
 */
export function findCycles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.to)) next.set(e.to, []);
    const list = next.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    next.set(e.from, list);
  }
  const cycles: string[][] = [];
  for (const component of stronglyConnected(next)) {
    const start = [...component].sort()[0];
    if (component.size > 1) cycles.push(shortestLoop(start, component, next));
    else if (next.get(start)?.includes(start) === true) cycles.push([start]);
  }
  return cycles;
}

/** stronglyConnected is Tarjan's algorithm, iterative so deep graphs cannot overflow the stack. */
function stronglyConnected(next: ReadonlyMap<string, readonly string[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: Set<string>[] = [];
  let counter = 0;
  for (const root of [...next.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const succ = next.get(top.node) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component = new Set<string>();
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.add(w);
        } while (w !== top.node);
        out.push(component);
      }
    }
  }
  return out;
}

/** shortestLoop finds, by breadth-first search inside `component`, a shortest path from `start` back to it. */
function shortestLoop(
  start: string,
  component: ReadonlySet<string>,
  next: ReadonlyMap<string, readonly string[]>,
): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const w of next.get(node) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const loop = [node];
        while (loop[0] !== start) loop.unshift(parent.get(loop[0])!);
        return loop;
      }
      if (!parent.has(w)) {
        parent.set(w, node);
        queue.push(w);
      }
    }
  }
  return [start];
}
