// Helpers on the output model (plain JSON-like values): own-property access that is safe for keys
// such as `__proto__` or `constructor`, deep copy, text form and truthiness used by expressions.

import type { TskObject, TskValue } from './types';

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** isObject tells whether v is an object value (not an array, not null). */
export function isObject(v: TskValue | undefined): v is TskObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** getOwn reads an own property (never the prototype chain). */
export function getOwn(o: TskObject, k: string): TskValue | undefined {
  return hasOwn(o, k) ? o[k] : undefined;
}

/** hasKey tells whether o has own property k. */
export function hasKey(o: TskObject, k: string): boolean {
  return hasOwn(o, k);
}

/** setOwn writes an own, enumerable property, also for `__proto__` (never changes the prototype). */
export function setOwn(o: TskObject, k: string, v: TskValue): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * CopyBudget bounds the values a parse may copy through references ($global, section-local words,
 * @name.tsk.get): without it `$b: [$a, $a]`, `$c: [$b, $b]`, ... doubles the output on every line.
 */
export interface CopyBudget {
  /** Values (scalars, arrays, objects) that may still be copied in this parse. */
  nodes: number;
}

/** MAX_COPY_NODES is the initial CopyBudget of a parse; MAX_COPY_DEPTH caps the nesting of one copy. */
export const MAX_COPY_NODES = 1_000_000;
export const MAX_COPY_DEPTH = 256;

/** cloneLimited deep-copies v within the budget and depth, or returns undefined when either runs out. */
export function cloneLimited(v: TskValue, budget: CopyBudget, depthLeft = MAX_COPY_DEPTH): TskValue | undefined {
  if (--budget.nodes < 0 || depthLeft < 0) return undefined;
  if (Array.isArray(v)) {
    const out: TskValue[] = [];
    for (const x of v) {
      const c = cloneLimited(x, budget, depthLeft - 1);
      if (c === undefined) return undefined;
      out.push(c);
    }
    return out;
  }
  if (isObject(v)) {
    const out: TskObject = {};
    for (const k of Object.keys(v)) {
      const c = cloneLimited(v[k], budget, depthLeft - 1);
      if (c === undefined) return undefined;
      setOwn(out, k, c);
    }
    return out;
  }
  return v;
}

/** textOf is the text form used by concatenation, comparisons and @string: arrays/objects as JSON. */
export function textOf(v: TskValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** isTruthy: false, null, 0, "", "0", "false" and "null" are false; everything else is true. */
export function isTruthy(v: TskValue): boolean {
  if (v === false || v === null || v === 0) return false;
  if (typeof v === 'string') return !(v === '' || v === '0' || v === 'false' || v === 'null');
  return true;
}

/** isRange tells whether v is a range value `{min, max, type: "range"}`. */
export function isRange(v: TskValue): boolean {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 3 && v.type === 'range' && typeof v.min === 'number' && typeof v.max === 'number';
}

/** flatten turns nested objects into dotted keys; arrays, ranges and empty objects stay whole values. */
export function flatten(data: TskObject): Record<string, TskValue> {
  const out: Record<string, TskValue> = {};
  const walk = (o: TskObject, prefix: string): void => {
    for (const k of Object.keys(o)) {
      const v = o[k];
      const path = prefix === '' ? k : `${prefix}.${k}`;
      if (isObject(v) && Object.keys(v).length > 0 && !isRange(v)) walk(v, path);
      else setOwn(out, path, v);
    }
  };
  walk(data, '');
  return out;
}
