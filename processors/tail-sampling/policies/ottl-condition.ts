// ottl_condition: samples traces in which a span matches one of the `span` conditions, or a span event
// matches one of the `spanevent` conditions (OTTL, parsed once at config time by ottl/parser.ts), as the
// Collector's ottl_condition policy does: spans in arrival order, each span's conditions before its
// events', the first match decides. error_mode: "propagate" (default) makes a run-time failure a policy
// error (counted; the policy votes not sampled), "ignore" and "silent" treat the failing condition as false.

import type { OttlConditionConfig } from './config';
import { parseCondition, type BoolExpr } from './ottl/parser';
import { OttlEvalError, test, type OttlTarget } from './ottl/evaluate';
import { notSampled, sampled, type Decision, type PolicyEvaluator, type SpanSummary, type TraceView } from './types';

/** OttlCondition samples a trace when an OTTL span or span-event condition holds. */
export class OttlCondition implements PolicyEvaluator {
  private readonly _span: { text: string; expr: BoolExpr }[];
  private readonly _event: { text: string; expr: BoolExpr }[];
  private readonly _propagate: boolean;

  constructor(cfg: OttlConditionConfig) {
    // Validated by the config schema: parsing cannot fail here.
    this._span = cfg.span.map((text) => ({ text, expr: parseCondition(text, 'span') }));
    this._event = cfg.spanevent.map((text) => ({ text, expr: parseCondition(text, 'spanevent') }));
    this._propagate = cfg.error_mode === 'propagate';
  }

  evaluate(trace: TraceView): Decision {
    let errors = 0;
    const run = (expr: BoolExpr, target: OttlTarget): boolean => {
      try {
        return test(expr, target);
      } catch (err) {
        if (this._propagate || !(err instanceof OttlEvalError)) throw err;
        errors++;
        return false;
      }
    };
    for (const span of trace.spans) {
      for (const c of this._span) {
        if (run(c.expr, { span }))
          return sampled(`span ${span.spanId} matches ${c.text}`, { span_id: span.spanId, condition: c.text });
      }
      if (this._event.length === 0) continue;
      for (const event of events(span)) {
        for (const c of this._event) {
          if (run(c.expr, { span, event })) {
            return sampled(`event "${event.name}" of span ${span.spanId} matches ${c.text}`, {
              span_id: span.spanId,
              condition: c.text,
            });
          }
        }
      }
    }
    return notSampled('no span or span event matches a condition', errors > 0 ? { errors } : undefined);
  }
}

function events(span: SpanSummary): NonNullable<SpanSummary['details']>['events'] {
  return span.details?.events ?? [];
}
