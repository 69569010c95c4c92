// numeric_attribute: samples traces where a span (any, or the root) has a numeric attribute within
// [min, max] (inclusive; either bound optional).

import type { NumericAttributeConfig } from './config';
import { evaluateAttributeRule, type AttributeRule } from './attribute-match';
import type { AttributeValue, Decision, PolicyEvaluator, TraceView } from './types';

/** NumericAttribute matches a number attribute against an inclusive range. */
export class NumericAttribute implements PolicyEvaluator {
  private readonly _rule: AttributeRule;

  constructor(cfg: NumericAttributeConfig) {
    const min = cfg.min ?? -Infinity;
    const max = cfg.max ?? Infinity;
    this._rule = {
      key: cfg.key,
      scope: cfg.scope,
      invert: cfg.invert_match,
      describe: `in [${cfg.min ?? '-∞'}, ${cfg.max ?? '∞'}]`,
      matches: (v: AttributeValue) => typeof v === 'number' && v >= min && v <= max,
    };
  }

  evaluate(trace: TraceView): Decision {
    return evaluateAttributeRule(trace, this._rule);
  }
}
