// The single table of policy types: config `type` -> constructor. The config schema (./config.ts) rejects
// unknown types at startup; `buildPolicy` is only ever called with validated configs.

import type { PolicyConfig } from './config';
import type { PolicyContext, PolicyEvaluator } from './types';
import { Adaptive } from './adaptive';
import { AlwaysSample } from './always-sample';
import { And } from './and';
import { BooleanAttribute } from './boolean-attribute';
import { Drop } from './drop';
import { Latency } from './latency';
import { NeverSample } from './never-sample';
import { Not } from './not';
import { NumericAttribute } from './numeric-attribute';
import { Probabilistic } from './probabilistic';
import { ConsistentProbabilistic } from './consistent-probability';
import { RateLimiting } from './rate-limiting';
import { SpanCount } from './span-count';
import { StatusCode } from './status-code';
import { StringAttribute } from './string-attribute';
import { TraceState } from './trace-state';
import { TraceFlags } from './trace-flags';
import { BytesLimiting } from './bytes-limiting';
import { OttlCondition } from './ottl-condition';
import { Composite } from './composite';
import { attributeKeysOf, parseCondition } from './ottl/parser';

type Ctor<T extends PolicyConfig['type']> = (
  cfg: Extract<PolicyConfig, { type: T }>,
  name: string,
  ctx: PolicyContext,
) => PolicyEvaluator;

/** POLICY_REGISTRY maps each config type to its constructor. */
export const POLICY_REGISTRY: { readonly [T in PolicyConfig['type']]: Ctor<T> } = {
  always_sample: () => new AlwaysSample(),
  never_sample: () => new NeverSample(),
  never: () => new NeverSample(),
  probabilistic: (cfg, name, ctx) =>
    cfg.mode === undefined || cfg.mode === 'hash_salt'
      ? new Probabilistic(cfg)
      : new ConsistentProbabilistic(cfg, name, ctx.warn),
  status_code: (cfg) => new StatusCode(cfg),
  latency: (cfg, _name, ctx) => new Latency(cfg, ctx.state),
  string_attribute: (cfg) => new StringAttribute(cfg),
  numeric_attribute: (cfg) => new NumericAttribute(cfg),
  boolean_attribute: (cfg) => new BooleanAttribute(cfg),
  span_count: (cfg) => new SpanCount(cfg),
  trace_state: (cfg) => new TraceState(cfg),
  rate_limiting: (cfg, _name, ctx) => new RateLimiting(cfg, () => ctx.now()),
  adaptive: (cfg, _name, ctx) => new Adaptive(cfg, ctx.state),
  and: (cfg, name, ctx) => new And(cfg, name, ctx),
  not: (cfg, name, ctx) => new Not(cfg, name, ctx),
  drop: (cfg, name, ctx) => new Drop(cfg, name, ctx),
  trace_flags: () => new TraceFlags(),
  bytes_limiting: (cfg, _name, ctx) => new BytesLimiting(cfg, () => ctx.now()),
  ottl_condition: (cfg) => new OttlCondition(cfg),
  composite: (cfg, name, ctx) => new Composite(cfg, name, ctx),
};

/** buildPolicy constructs the evaluator of one validated policy config (nested ones included). */
export function buildPolicy(cfg: PolicyConfig, name: string, ctx: Omit<PolicyContext, 'build'>): PolicyEvaluator {
  const full: PolicyContext = { ...ctx, build: (sub, subName) => buildPolicy(sub, subName, ctx) };
  const ctor = POLICY_REGISTRY[cfg.type] as Ctor<PolicyConfig['type']>;
  return ctor(cfg, name, full);
}

/** attributeKeys lists every attribute key the policies read, so the indexer decodes only those. */
export function attributeKeys(policies: readonly PolicyConfig[]): Set<string> {
  const keys = new Set<string>();
  const visit = (p: PolicyConfig): void => {
    if (p.type === 'string_attribute' || p.type === 'numeric_attribute' || p.type === 'boolean_attribute')
      keys.add(p.key);
    else if (p.type === 'and' || p.type === 'drop' || p.type === 'composite') p.policies.forEach(visit);
    else if (p.type === 'not') visit(p.policy);
    else if (p.type === 'ottl_condition') {
      // Span and resource attribute keys the conditions read (span events are decoded from the span's bytes).
      for (const c of p.span) attributeKeysOf(parseCondition(c, 'span'), keys);
      for (const c of p.spanevent) attributeKeysOf(parseCondition(c, 'spanevent'), keys);
    }
  };
  policies.forEach(visit);
  return keys;
}
