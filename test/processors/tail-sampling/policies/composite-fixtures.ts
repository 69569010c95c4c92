// Shared fixtures of the composite policy tests (and, not, drop).

import type { PolicyConfig } from '../../../../processors/tail-sampling/policies/config';
import type { PolicyContext, PolicyEvaluator } from '../../../../processors/tail-sampling/policies/types';
import { FakeSamplingState } from '../helpers/fake-state';
import { summary, view } from '../helpers/fixtures';

export const ctx = { state: new FakeSamplingState(), now: () => 0 };
export const errorTrace = view([summary({ statusCode: 2, attributes: { 'http.route': '/health' } })]);
export const okTrace = view([summary({ statusCode: 1, attributes: { 'http.route': '/api' } })]);
export const errors: PolicyConfig = { type: 'status_code', codes: ['ERROR'] };
export const health: PolicyConfig = {
  type: 'string_attribute',
  key: 'http.route',
  values: ['/health'],
  regex: false,
  scope: 'any',
  invert_match: false,
};

/** asyncCtx builds every sub-policy as one that answers "sampled" asynchronously. */
export const asyncYes: PolicyEvaluator = { evaluate: async () => ({ verdict: 'sampled', reason: 'async yes' }) };
export const asyncCtx: PolicyContext = { ...ctx, build: () => asyncYes };
