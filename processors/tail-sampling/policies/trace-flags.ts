// trace_flags: samples traces in which any span has the W3C "sampled" trace flag (bit 0 of the span's
// flags field) set, as the OpenTelemetry Collector's trace_flags policy does.

import { notSampled, sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** SAMPLED_FLAG is the W3C trace-context "sampled" bit. */
const SAMPLED_FLAG = 0x01;

/** TraceFlags samples a trace when a span carries the sampled trace flag. */
export class TraceFlags implements PolicyEvaluator {
  evaluate(trace: TraceView): Decision {
    for (const s of trace.spans) {
      if (((s.flags ?? 0) & SAMPLED_FLAG) !== 0)
        return sampled(`span ${s.spanId} has the sampled trace flag`, { span_id: s.spanId });
    }
    return notSampled('no span has the sampled trace flag');
  }
}
