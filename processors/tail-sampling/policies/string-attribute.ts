// string_attribute: samples traces where a span (any, or the root) has a string attribute equal to one of
// `values`, or matching one of them as a regular expression when `regex` (the Collector's
// `enabled_regex_matching`) is true.

import type { StringAttributeConfig } from './config';
import { evaluateAttributeRule, type AttributeRule } from './attribute-match';
import type { AttributeValue, Decision, PolicyEvaluator, TraceView } from './types';

/** StringAttribute matches a string attribute against exact values or regular expressions. */
export class StringAttribute implements PolicyEvaluator {
  private readonly _rule: AttributeRule;

  constructor(cfg: StringAttributeConfig) {
    const regex = cfg.regex || cfg.enabled_regex_matching === true;
    // As in the Collector, an empty value never matches exactly (an empty attribute is not a match).
    const exact = new Set(cfg.values.filter((v) => v !== ''));
    const patterns = regex ? cfg.values.map((v) => new RegExp(v)) : [];
    this._rule = {
      key: cfg.key,
      scope: cfg.scope,
      invert: cfg.invert_match,
      describe: `${regex ? 'matching' : 'in'} [${cfg.values.join(', ')}]`,
      matches: (v: AttributeValue) =>
        typeof v === 'string' && v !== '' && (regex ? patterns.some((p) => p.test(v)) : exact.has(v)),
    };
  }

  evaluate(trace: TraceView): Decision {
    return evaluateAttributeRule(trace, this._rule);
  }
}
