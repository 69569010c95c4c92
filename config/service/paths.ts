// Config paths (`processors.tail_sampling.policies[2].name`) and their lookup in the parser's position map.

import type { SourcePos } from '../tsk/parser';

/** joinPath appends zod-style path segments to a dotted config path. */
export function joinPath(base: string, segments: readonly PropertyKey[]): string {
  let out = base;
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** parentPath drops the last segment of a config path ('' at the root). */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? '' : path.slice(0, cut);
}

/** positionOf finds where `path` (or its nearest written ancestor) stands in the file. */
export function positionOf(positions: ReadonlyMap<string, SourcePos>, path: string): SourcePos | undefined {
  for (let p = path; p !== ''; p = parentPath(p)) {
    const pos = positions.get(p);
    if (pos) return pos;
  }
  return undefined;
}
