// span_count: samples traces whose number of buffered spans is within [min_spans, max_spans].

import type { SpanCountConfig } from './config';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** SpanCount samples a trace when min_spans <= spans <= max_spans (max optional). */
export class SpanCount implements PolicyEvaluator {
  constructor(private readonly _cfg: SpanCountConfig) {}

  evaluate(trace: TraceView): Decision {
    const n = trace.spans.length;
    const { min_spans: min, max_spans: max } = this._cfg;
    const inputs: Record<string, number> = { spans: n, min_spans: min };
    if (max !== undefined) inputs.max_spans = max;
    if (n >= min && (max === undefined || n <= max))
      return sampled(`${n} spans within [${min}, ${max ?? '∞'}]`, inputs);
    return notSampled(`${n} spans outside [${min}, ${max ?? '∞'}]`, inputs);
  }
}
