// never_sample (alias: never): no trace is sampled by this policy. Other policies may still sample it;
// use a `drop` policy to veto.

import { notSampled, type Decision, type PolicyEvaluator, type TraceView } from './types';

/** NeverSample votes "not sampled" for every trace. */
export class NeverSample implements PolicyEvaluator {
  evaluate(_trace: TraceView): Decision {
    return notSampled('never_sample keeps no trace');
  }
}
