// Where each value of a .tsk document was written: path -> SourcePos, with an index of each path's
// children so replacing a value forgets its nested positions in time proportional to their number.

import type { SourcePos } from './types';

/** PositionTable records positions by path (`a.b`, `a.list[2].name`). */
export class PositionTable {
  /** The public view: path -> position, in order of first recording. */
  readonly map = new Map<string, SourcePos>();
  private readonly _children = new Map<string, string[]>();

  /** set records `path` (a child of `parent`, or of the root when parent is '') at pos. */
  set(path: string, pos: SourcePos, parent: string): void {
    if (!this.map.has(path) && parent !== '') {
      const kids = this._children.get(parent);
      if (kids) kids.push(path);
      else this._children.set(parent, [path]);
    }
    this.map.set(path, pos);
  }

  /** has tells whether `path` was recorded. */
  has(path: string): boolean {
    return this.map.has(path);
  }

  /** clearBelow forgets every position nested under `path` (its value is being replaced). */
  clearBelow(path: string): void {
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop() as string;
      const kids = this._children.get(p);
      if (!kids) continue;
      this._children.delete(p);
      for (const k of kids) {
        this.map.delete(k);
        stack.push(k);
      }
    }
  }
}

/**
 * lookupPosition returns the position recorded for `path`, or for its nearest recorded ancestor
 * (e.g. a value copied from a $global has no positions for its elements).
 */
export function lookupPosition(positions: Map<string, SourcePos>, path: string): SourcePos | undefined {
  let cur = path;
  for (;;) {
    const hit = positions.get(cur);
    if (hit) return hit;
    const cut = Math.max(cur.lastIndexOf('.'), cur.lastIndexOf('['));
    if (cut <= 0) return undefined;
    cur = cur.slice(0, cut);
  }
}
