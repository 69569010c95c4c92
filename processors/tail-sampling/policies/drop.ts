// drop: a veto. When every sub-policy samples the trace, the verdict is "dropped", which wins over every
// other policy's vote (the trace is not kept). Allowed at the top level only.

import type { DropConfig } from './config';
import { AllOf, combine, type AllResult } from './and';
import { notSampled, type Decision, type PolicyContext } from './types';

/** Drop vetoes traces that all its sub-policies match. */
export class Drop extends AllOf {
  constructor(cfg: DropConfig, name: string, ctx: PolicyContext) {
    super(cfg.policies, name, ctx, conclude);
  }
}

function conclude({ all, decisions }: AllResult): Decision {
  const { inputs, reason } = combine(decisions);
  return all
    ? { verdict: 'dropped', reason: `dropped: all sub-policies matched (${reason})`, inputs }
    : notSampled(`drop not applied (${reason})`, inputs);
}
