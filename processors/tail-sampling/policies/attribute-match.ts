// Shared logic of the three attribute policies: look the key up on the spans in scope (every span, or the
// root only), apply the value test, and invert when asked.

import type { AttributeScope } from './config';
import { notSampled, sampled, type AttributeValue, type Decision, type TraceView } from './types';

/** AttributeRule is the part that differs between string, numeric and boolean matching. */
export interface AttributeRule {
  readonly key: string;
  readonly scope: AttributeScope;
  readonly invert: boolean;
  /** What the rule looks for, for reasons ("in [GET, POST]"). */
  readonly describe: string;
  /** True when a value matches. Values of another type never match. */
  matches(value: AttributeValue): boolean;
}

/** evaluateAttributeRule samples when a span in scope matches (or, inverted, when none does). */
export function evaluateAttributeRule(trace: TraceView, rule: AttributeRule): Decision {
  const spans = rule.scope === 'root' ? (trace.root ? [trace.root] : []) : trace.spans;
  let hit: { spanId: string; value: AttributeValue } | undefined;
  for (const s of spans) {
    const v = s.attributes?.[rule.key];
    if (v !== undefined && rule.matches(v)) {
      hit = { spanId: s.spanId, value: v };
      break;
    }
  }
  const inputs: Record<string, AttributeValue> = { key: rule.key, scope: rule.scope, invert_match: rule.invert };
  if (hit) {
    inputs.value = hit.value;
    inputs.span_id = hit.spanId;
  }
  const where = rule.scope === 'root' ? 'the root span' : 'a span';
  if (!rule.invert) {
    return hit
      ? sampled(`${where} has ${rule.key}=${String(hit.value)} ${rule.describe}`, inputs)
      : notSampled(`no span in scope has ${rule.key} ${rule.describe}`, inputs);
  }
  return hit
    ? notSampled(`${where} has ${rule.key}=${String(hit.value)} ${rule.describe} (invert_match)`, inputs)
    : sampled(`no span in scope has ${rule.key} ${rule.describe} (invert_match)`, inputs);
}
