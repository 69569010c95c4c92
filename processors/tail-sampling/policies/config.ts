// Config schemas of every sampling policy type (zod, strict objects, snake_case keys as written in .tsk
// files). One discriminated union on `type`; composites (and, not, drop) nest it. Every field is documented
// here and in ../README.md.

import { z } from 'zod';
import { bool, int, num, withKeyHints, type KeyHint } from '../../../pipeline/sdk/config-types';
import { OttlParseError, parseCondition } from './ottl/parser';

/** Quantiles a latency-relative rule can compare against. */
export const QUANTILES = ['p50', 'p95', 'p99'] as const;
export type Quantile = (typeof QUANTILES)[number];

/**
 * Modes of the probabilistic policy: "hash_salt" hashes the trace id (hash_salt, hash_algorithm; the
 * Collector's decision with fnv1a64); "proportional" multiplies the incoming tracestate probability by the
 * rate (T = threshold(p x incoming p)); "equalizing" aims at the rate whatever came in (T = threshold(p),
 * never lowering an incoming threshold). Both consistent modes keep a trace iff its randomness R >= T.
 */
export const PROBABILISTIC_MODES = ['hash_salt', 'proportional', 'equalizing'] as const;

/** Where attribute rules look: every span of the trace, or its root span only. */
export const SCOPES = ['any', 'root'] as const;
export type AttributeScope = (typeof SCOPES)[number];

/** OTLP status codes by name. */
export const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;
export type StatusCodeName = (typeof STATUS_CODES)[number];

/** Fields every policy has. `name` is required at the top level (checked by the processor config); nested ones default to `<parent>.<index>`. */
const base = { name: z.string().min(1, 'must not be empty').optional() };

const always = z.object({ ...base, type: z.literal('always_sample') }).strict();
const never = z.object({ ...base, type: z.enum(['never_sample', 'never']) }).strict();

const probabilistic = z
  .object({
    ...base,
    type: z.literal('probabilistic'),
    /** Percentage of traces to keep, 0..100. Exactly one of percentage / rate. */
    percentage: num({ min: 0, max: 100 }).optional(),
    /** Fraction of traces to keep, 0..1. */
    rate: num({ min: 0, max: 1 }).optional(),
    /** Mixed into the trace-id hash; change it to get a decision independent of other tiers. Default "" (shared). */
    hash_salt: z.string().default(''),
    /**
     * The trace-id hash: "sha256" (default; shared with adaptive, so probability rules nest) or "fnv1a64", the
     * OpenTelemetry Collector's (FNV-1a 64 of salt + trace id, salt "default-hash-seed" when empty): the same
     * trace id and salt get the Collector's decision. Unset = "sha256".
     */
    hash_algorithm: z.enum(['sha256', 'fnv1a64']).optional(),
    /**
     * How the decision is made: "hash_salt" (default) hashes the trace id (hash_salt, hash_algorithm);
     * "proportional" and "equalizing" follow the OpenTelemetry consistent-probability rules (tracestate
     * `ot=th`/`rv`, randomness from `rv` or the trace id's 56 low bits): kept iff R >= T, never above an
     * incoming threshold's probability. See PROBABILISTIC_MODES. Unset = "hash_salt".
     */
    mode: z.enum(PROBABILISTIC_MODES).optional(),
    /** Significant hex digits of the threshold a consistent mode computes, 1..14. Default 4 (the spec's). */
    sampling_precision: int({ min: 1, max: 14 }).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string): void => ctx.addIssue({ code: 'custom', path: [path], message });
    if ((v.percentage === undefined) === (v.rate === undefined))
      issue('percentage', 'set exactly one of percentage (0..100) or rate (0..1)');
    if (v.mode === undefined || v.mode === 'hash_salt') {
      if (v.sampling_precision !== undefined)
        issue('sampling_precision', 'applies to mode "proportional" or "equalizing" only (mode is "hash_salt")');
      return;
    }
    const rule = `mode "${v.mode}" decides from the trace's tracestate randomness, not a hash`;
    if (v.hash_salt !== '') issue('hash_salt', `${rule}: remove hash_salt or use mode "hash_salt"`);
    if (v.hash_algorithm !== undefined)
      issue('hash_algorithm', `${rule}: remove hash_algorithm or use mode "hash_salt"`);
    const p = v.rate ?? (v.percentage ?? 0) / 100;
    if (p > 0 && p < 2 ** -56)
      issue(v.rate === undefined ? 'percentage' : 'rate', 'a consistent probability is 0 or at least 2^-56');
  });

const statusCode = z
  .object({
    ...base,
    type: z.literal('status_code'),
    /** Status codes that make the trace sampled when any span has one of them. */
    codes: z.array(z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(STATUS_CODES))).min(1),
  })
  .strict();

const latency = z
  .object({
    ...base,
    type: z.literal('latency'),
    /** Absolute threshold, milliseconds: sampled when the duration is at least this. */
    threshold_ms: num({ min: 0 }).optional(),
    /**
     * Optional upper bound, milliseconds. With it, the absolute rule is the Collector's:
     * threshold_ms < duration (whole ms) <= upper_threshold_ms; the relative rule needs duration < upper.
     */
    upper_threshold_ms: num({ min: 0 }).optional(),
    /** Relative rule: sampled when the root span is slower than this live quantile of its (service, operation). */
    above: z.enum(QUANTILES).optional(),
    /** Multiplier on the quantile (above: "p95", factor: 2 = twice the P95). Default 1. */
    factor: num({ min: 0 }).default(1),
    /** Observations the quantile needs before the relative rule applies. Default 100; 0 = always apply. */
    min_observations: int({ min: 0 }).default(100),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.threshold_ms === undefined && v.above === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold_ms'],
        message: 'set threshold_ms, above ("p50" | "p95" | "p99"), or both',
      });
    }
    if (v.upper_threshold_ms !== undefined && v.upper_threshold_ms <= (v.threshold_ms ?? 0)) {
      ctx.addIssue({ code: 'custom', path: ['upper_threshold_ms'], message: 'must be greater than threshold_ms' });
    }
  });

const attributeCommon = {
  ...base,
  /** Attribute key, e.g. "http.route". Span attributes; resource attributes where the codec exposes them. */
  key: z.string().min(1),
  /** Where to look: "any" span (default) or the "root" span only. */
  scope: z.enum(SCOPES).default('any'),
  /** Flip the result: sampled when NO span in scope matches. Default false. */
  invert_match: bool().default(false),
};

const stringAttribute = z
  .object({
    ...attributeCommon,
    type: z.literal('string_attribute'),
    /** Values to match (exact, or regular expressions when regex is true). */
    values: z.array(z.string()).min(1),
    /** Treat values as regular expressions (JavaScript syntax, unanchored unless you anchor them). Default false. */
    regex: bool().default(false),
    /** The Collector's name of `regex` (either turns regular expressions on). Default false. */
    enabled_regex_matching: bool().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.regex && !v.enabled_regex_matching) return;
    v.values.forEach((pattern, i) => {
      try {
        new RegExp(pattern);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['values', i],
          message: `invalid regular expression: ${(err as Error).message}`,
        });
      }
    });
  });

const numericAttribute = z
  .object({
    ...attributeCommon,
    type: z.literal('numeric_attribute'),
    /** Inclusive lower bound; unset = no lower bound. */
    min: num().optional(),
    /** Inclusive upper bound; unset = no upper bound. */
    max: num().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.min === undefined && v.max === undefined)
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'set min, max or both' });
    if (v.min !== undefined && v.max !== undefined && v.min > v.max)
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be at least min' });
  });

const booleanAttribute = z
  .object({
    ...attributeCommon,
    type: z.literal('boolean_attribute'),
    /** The value to match. */
    value: bool(),
  })
  .strict();

const spanCount = z
  .object({
    ...base,
    type: z.literal('span_count'),
    /** Sampled when the trace has at least this many spans. */
    min_spans: int({ min: 1 }),
    /** Optional inclusive upper bound. */
    max_spans: int({ min: 1 }).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.max_spans !== undefined && v.max_spans < v.min_spans)
      ctx.addIssue({ code: 'custom', path: ['max_spans'], message: 'must be at least min_spans' });
  });

const traceState = z
  .object({
    ...base,
    type: z.literal('trace_state'),
    /** W3C tracestate list-member key, e.g. "vendor". */
    key: z.string().min(1),
    /** Values that make the trace sampled when any span's tracestate has key=value. */
    values: z.array(z.string()).min(1),
  })
  .strict();

const rateLimiting = z
  .object({
    ...base,
    type: z.literal('rate_limiting'),
    /** Spans per second this replica lets through (token bucket, one second of burst). */
    spans_per_second: num({ min: 0 }).optional(),
    /** Traces per second this replica lets through. */
    traces_per_second: num({ min: 0 }).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.spans_per_second === undefined) === (v.traces_per_second === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spans_per_second'],
        message: 'set exactly one of spans_per_second or traces_per_second',
      });
    }
  });

const traceFlags = z.object({ ...base, type: z.literal('trace_flags') }).strict();

const bytesLimiting = z
  .object({
    ...base,
    type: z.literal('bytes_limiting'),
    /** Sustained rate, bytes per second (token bucket refill), of encoded traces this replica lets through. */
    bytes_per_second: int({ min: 1 }),
    /** Bucket size, bytes: the largest burst. Default twice bytes_per_second. */
    burst_capacity: int({ min: 1 }).optional(),
  })
  .strict();

const ottlCondition = z
  .object({
    ...base,
    type: z.literal('ottl_condition'),
    /** What a run-time failure of a condition does: "propagate" (policy error), "ignore" or "silent" (false). */
    error_mode: z.enum(['propagate', 'ignore', 'silent']).default('propagate'),
    /** OTTL conditions over a span (ORed). */
    span: z.array(z.string()).default([]),
    /** OTTL conditions over a span event (ORed). */
    spanevent: z.array(z.string()).default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.span.length + v.spanevent.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['span'], message: 'set at least one condition in span or spanevent' });
    }
    for (const context of ['span', 'spanevent'] as const) {
      v[context].forEach((text, i) => {
        try {
          parseCondition(text, context);
        } catch (err) {
          if (!(err instanceof OttlParseError)) throw err;
          ctx.addIssue({
            code: 'custom',
            path: [context, i],
            message: `invalid OTTL condition: ${err.message}: ${text}`,
            params: { offset: err.column - 1 },
          });
        }
      });
    }
  });

const adaptive = z
  .object({
    ...base,
    type: z.literal('adaptive'),
    /** Keep probability without target mode (and before the first cluster-rate sync in target mode). 0..1, default 0.1. */
    base_rate: num({ min: 0, max: 1 }).default(0.1),
    /** Multiplier on p for traces with an error span. Default 2; 1 disables. */
    error_multiplier: num({ min: 1 }).default(2),
    /** Multiplier on p for traces whose root is slower than slow_quantile. Default 1.5; 1 disables. */
    slow_multiplier: num({ min: 1 }).default(1.5),
    /** The quantile that defines "slow". Default "p95". */
    slow_quantile: z.enum(QUANTILES).default('p95'),
    /** Observations the quantile needs before the slow multiplier applies. Default 100. */
    min_observations: int({ min: 0 }).default(100),
    /** Target mode: kept traces per second per (service, operation), cluster-wide. Unset = fixed base_rate. */
    target_traces_per_sec: num({ min: 0 }).optional(),
    /** Floor of p in target mode, so no key is starved. 0..1, default 0.001. */
    min_rate: num({ min: 0, max: 1 }).default(0.001),
    /** Apply the service's error-state boost (state.serviceErrorState(service).boost). Default true. */
    use_error_boost: bool().default(true),
    /** Mixed into the trace-id hash (see probabilistic). Default "". */
    hash_salt: z.string().default(''),
  })
  .strict();

/** Leaf policy configs (parsed). */
export type AlwaysSampleConfig = z.output<typeof always>;
export type NeverSampleConfig = z.output<typeof never>;
export type ProbabilisticConfig = z.output<typeof probabilistic>;
export type StatusCodeConfig = z.output<typeof statusCode>;
export type LatencyConfig = z.output<typeof latency>;
export type StringAttributeConfig = z.output<typeof stringAttribute>;
export type NumericAttributeConfig = z.output<typeof numericAttribute>;
export type BooleanAttributeConfig = z.output<typeof booleanAttribute>;
export type SpanCountConfig = z.output<typeof spanCount>;
export type TraceStateConfig = z.output<typeof traceState>;
export type RateLimitingConfig = z.output<typeof rateLimiting>;
export type AdaptiveConfig = z.output<typeof adaptive>;
export type TraceFlagsConfig = z.output<typeof traceFlags>;
export type BytesLimitingConfig = z.output<typeof bytesLimiting>;
export type OttlConditionConfig = z.output<typeof ottlCondition>;

/** AndConfig samples when every sub-policy samples (evaluated in order, stops at the first that does not). */
export interface AndConfig {
  name?: string;
  type: 'and';
  policies: PolicyConfig[];
}
/** NotConfig inverts one sub-policy (sampled <-> not sampled). */
export interface NotConfig {
  name?: string;
  type: 'not';
  policy: PolicyConfig;
}
/** DropConfig drops the trace when every sub-policy samples; a matching drop wins over everything (top level only). */
export interface DropConfig {
  name?: string;
  type: 'drop';
  policies: PolicyConfig[];
}
/** CompositeConfig is the Collector's composite: the first sampling sub-policy decides, within span budgets. */
export interface CompositeConfig {
  name?: string;
  type: 'composite';
  /** Spans per second all sub-policies together may sample. */
  max_total_spans_per_second: number;
  /** Order in which sub-policies are asked (every sub-policy name once); default the order of `policies`. */
  policy_order?: string[];
  /** The sub-policies (the Collector's composite_sub_policy); each needs a unique name. */
  policies: PolicyConfig[];
  /** Budget shares: percent of max_total_spans_per_second per sub-policy name (0 = equal share). */
  rate_allocation: { policy: string; percent: number }[];
}

/** PolicyConfig is any policy, as parsed. */
export type PolicyConfig =
  | AlwaysSampleConfig
  | NeverSampleConfig
  | ProbabilisticConfig
  | StatusCodeConfig
  | LatencyConfig
  | StringAttributeConfig
  | NumericAttributeConfig
  | BooleanAttributeConfig
  | SpanCountConfig
  | TraceStateConfig
  | RateLimitingConfig
  | AdaptiveConfig
  | TraceFlagsConfig
  | BytesLimitingConfig
  | OttlConditionConfig
  | AndConfig
  | NotConfig
  | DropConfig
  | CompositeConfig;

/** The raw (input) shape is loose; the union below checks it. */
type AnySchema = z.ZodType<PolicyConfig, unknown>;

const and = z
  .object({
    ...base,
    type: z.literal('and'),
    get policies() {
      return z.array(policySchema).min(1);
    },
  })
  .strict();
const not = z
  .object({
    ...base,
    type: z.literal('not'),
    get policy() {
      return policySchema;
    },
  })
  .strict();
const drop = z
  .object({
    ...base,
    type: z.literal('drop'),
    get policies() {
      return z.array(policySchema).min(1);
    },
  })
  .strict();
const composite = z
  .object({
    ...base,
    type: z.literal('composite'),
    max_total_spans_per_second: int({ min: 1 }),
    policy_order: z.array(z.string().min(1)).optional(),
    get policies() {
      return z.array(policySchema).min(1);
    },
    rate_allocation: z
      .array(z.object({ policy: z.string().min(1), percent: int({ min: 0, max: 100 }) }).strict())
      .default([]),
  })
  .strict()
  .superRefine((v, ctx) => {
    const names = new Set<string>();
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    v.policies.forEach((p, i) => {
      if (p.name === undefined) issue(['policies', i, 'name'], 'a composite sub-policy needs a name');
      else if (names.has(p.name)) issue(['policies', i, 'name'], `duplicate sub-policy name "${p.name}"`);
      else names.add(p.name);
      if (p.type === 'composite' || p.type === 'drop')
        issue(['policies', i, 'type'], `${p.type} is not allowed inside composite`);
    });
    if (v.policy_order !== undefined) {
      const order = v.policy_order;
      const same =
        order.length === names.size && new Set(order).size === order.length && order.every((n) => names.has(n));
      if (!same) issue(['policy_order'], `must list every sub-policy name once: ${[...names].join(', ')}`);
    }
    v.rate_allocation.forEach((a, i) => {
      if (!names.has(a.policy)) issue(['rate_allocation', i, 'policy'], `no sub-policy named "${a.policy}"`);
    });
    const total = v.rate_allocation.reduce((sum, a) => sum + a.percent, 0);
    if (total > 100) issue(['rate_allocation'], `percents add up to ${total} > 100`);
  });

/** policySchema validates one policy of any type; an unknown `type` is an error at `<path>.type` listing the known ones. */
export const policySchema: AnySchema = z.discriminatedUnion('type', [
  always,
  never,
  probabilistic,
  statusCode,
  latency,
  stringAttribute,
  numericAttribute,
  booleanAttribute,
  spanCount,
  traceState,
  rateLimiting,
  adaptive,
  traceFlags,
  bytesLimiting,
  ottlCondition,
  and,
  not,
  drop,
  composite,
]) as unknown as AnySchema;

const NESTED: KeyHint = {
  note:
    "the OpenTelemetry Collector nests a policy's settings in a block named after its type; here they sit " +
    'directly in the policy, e.g. { name: "errors", type: "status_code", codes: ["ERROR"] }',
};

/**
 * COLLECTOR_KEY_HINTS maps the OpenTelemetry Collector's tail-sampling keys to ours, for the config loader's
 * "unknown key" errors (a policy copied from a Collector config gets told what to write instead).
 */
export const COLLECTOR_KEY_HINTS: Readonly<Record<string, KeyHint>> = {
  sampling_percentage: 'percentage',
  status_codes: 'codes',
  min_value: 'min',
  max_value: 'max',
  and_sub_policy: 'policies',
  drop_sub_policy: 'policies',
  composite_sub_policy: 'policies',
  ...Object.fromEntries(
    [
      'probabilistic',
      'status_code',
      'latency',
      'string_attribute',
      'numeric_attribute',
      'boolean_attribute',
      'span_count',
      'trace_state',
      'rate_limiting',
      'and',
      'drop',
      'composite',
      'trace_flags',
      'bytes_limiting',
      'ottl_condition',
    ].map((t) => [t, NESTED]),
  ),
};
withKeyHints(policySchema, COLLECTOR_KEY_HINTS);

/** POLICY_TYPES lists every config `type` value. */
export const POLICY_TYPES = [
  'always_sample',
  'never_sample',
  'never',
  'probabilistic',
  'status_code',
  'latency',
  'string_attribute',
  'numeric_attribute',
  'boolean_attribute',
  'span_count',
  'trace_state',
  'rate_limiting',
  'adaptive',
  'trace_flags',
  'bytes_limiting',
  'ottl_condition',
  'and',
  'not',
  'drop',
  'composite',
] as const;
