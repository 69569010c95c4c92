// Command-line overrides (`--set path=value`) applied to a parsed pipeline document before it is checked.
// The path is a config path (`processors.tail_sampling.decision_wait`, `pipelines.traces.exporters[0]`);
// the value is read as a .tsk value, so `10s`, `42`, `true`, `["a", "b"]` and `@env("X", 1)` mean what
// they mean in a file. An override's errors point at `--set:N:1` (the Nth --set).

import { parseTsk, type SourcePos, type TskObject, type TskValue } from '../tsk/parser';
import type { ConfigIssue } from './config-error';

const SEGMENT = /^([A-Za-z_$][A-Za-z0-9_-]*)((?:\[\d+\])*)$/;

/** parseConfigPath splits `a.b[2].c` into ['a', 'b', 2, 'c'], or returns undefined when malformed. */
export function parseConfigPath(text: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  for (const part of text.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) return undefined;
    out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function pathText(segments: readonly (string | number)[]): string {
  return segments.reduce<string>(
    (acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc === '' ? s : `${acc}.${s}`),
    '',
  );
}

/**
 * applyOverrides sets each `path=value` in `doc` (creating sections on the way), records its position as
 * `--set:N:1`, and forgets the positions written under it. Malformed overrides become issues. Returns the
 * paths that were set.
 */
export function applyOverrides(
  doc: TskObject,
  positions: Map<string, SourcePos>,
  overrides: readonly string[],
  env: Record<string, string | undefined> | undefined,
  issues: ConfigIssue[],
): string[] {
  const done: string[] = [];
  overrides.forEach((text, i) => {
    const pos: SourcePos = { file: '--set', line: i + 1, column: 1 };
    const eq = text.indexOf('=');
    const segments = eq > 0 ? parseConfigPath(text.slice(0, eq).trim()) : undefined;
    if (!segments) {
      issues.push({
        code: 'ERR_CONFIG_OVERRIDE',
        path: '',
        pos,
        message: `--set needs path=value (e.g. service.log_level=debug), got "${text}"`,
      });
      return;
    }
    const parsed = parseTsk(`value: ${text.slice(eq + 1).trim()}`, { file: '--set', env });
    const problem = parsed.diagnostics[0];
    if (problem || !Object.hasOwn(parsed.data, 'value')) {
      const why = problem ? problem.message : 'the value is empty (write "" for an empty string)';
      issues.push({ code: 'ERR_CONFIG_OVERRIDE', path: pathText(segments), pos, message: `--set ${text}: ${why}` });
      return;
    }
    const value = parsed.data.value;
    let cur: TskValue[] | TskObject = doc;
    for (let k = 0; k < segments.length - 1; k++) {
      const seg = segments[k];
      const next: TskValue | undefined = (cur as Record<string | number, TskValue>)[seg];
      if (typeof next === 'object' && next !== null) {
        cur = next;
        continue;
      }
      if (typeof seg === 'number' || typeof segments[k + 1] === 'number') {
        issues.push({
          code: 'ERR_CONFIG_OVERRIDE',
          path: pathText(segments),
          pos,
          message: `--set ${text}: no list at ${pathText(segments.slice(0, k + 1))}`,
        });
        return;
      }
      const created: TskObject = {};
      (cur as TskObject)[seg] = created;
      cur = created;
    }
    const last = segments[segments.length - 1];
    if (Array.isArray(cur) !== (typeof last === 'number')) {
      issues.push({
        code: 'ERR_CONFIG_OVERRIDE',
        path: pathText(segments),
        pos,
        message: `--set ${text}: the parent is not ${typeof last === 'number' ? 'a list' : 'a section'}`,
      });
      return;
    }
    (cur as Record<string | number, TskValue>)[last] = value;
    const p = pathText(segments);
    for (const key of [...positions.keys()])
      if (key.startsWith(`${p}.`) || key.startsWith(`${p}[`)) positions.delete(key);
    positions.set(p, pos);
    done.push(p);
  });
  return done;
}
