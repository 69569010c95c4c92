// boolean_attribute: samples traces where a span (any, or the root) has a boolean attribute equal to `value`.

import type { BooleanAttributeConfig } from './config';
import { evaluateAttributeRule, type AttributeRule } from './attribute-match';
import type { AttributeValue, Decision, PolicyEvaluator, TraceView } from './types';

/** BooleanAttribute matches a boolean attribute against one value. */
export class BooleanAttribute implements PolicyEvaluator {
  private readonly _rule: AttributeRule;

  constructor(cfg: BooleanAttributeConfig) {
    this._rule = {
      key: cfg.key,
      scope: cfg.scope,
      invert: cfg.invert_match,
      describe: `= ${cfg.value}`,
      matches: (v: AttributeValue) => v === cfg.value,
    };
  }

  evaluate(trace: TraceView): Decision {
    return evaluateAttributeRule(trace, this._rule);
  }
}
