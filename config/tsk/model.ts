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
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** cloneValue deep-copies a value so references to globals never share mutable objects. */
export function cloneValue(v: TskValue): TskValue {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (isObject(v)) {
    const out: TskObject = {};
    for (const k of Object.keys(v)) setOwn(out, k, cloneValue(v[k]));
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
