// always_sample: every trace is sampled. Useful as a catch-all last policy or inside `and`.

import { sampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** AlwaysSample samples every trace. */
export class AlwaysSample implements PolicyEvaluator {
  evaluate(_trace: TraceView): Decision {
    return sampled('always_sample keeps every trace');
  }
}
