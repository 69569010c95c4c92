// Config of the spanmetrics processor: RED metrics (requests, errors, duration) from every span that
// passes, before any sampling, with bounded label cardinality.

import { z } from 'zod';
import { int, num } from '../../pipeline/sdk/config-types';

/** Default cap on distinct (service, operation, kind, status) series; extra ones fold into one overflow series. */
export const DEFAULT_MAX_SERIES = 2000;
/** Default histogram buckets for http_request_duration_seconds. */
export const DEFAULT_DURATION_BUCKETS_SECONDS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Default histogram buckets for trace_duration_ms (root spans). */
export const DEFAULT_TRACE_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** Schema of [processors.NAME] with type spanmetrics. */
export const configSchema = z
  .object({
    /** Most distinct label sets per metric; past it, new ones count under operation="__overflow__". */
    max_series: int({ min: 1, max: 1_000_000 }).default(DEFAULT_MAX_SERIES),
    /** Bucket bounds (seconds) of http_request_duration_seconds. */
    duration_buckets: z
      .array(num({ min: 0 }))
      .min(1)
      .default(() => [...DEFAULT_DURATION_BUCKETS_SECONDS]),
    /** Bucket bounds (milliseconds) of trace_duration_ms, observed for root spans. */
    trace_duration_buckets: z
      .array(num({ min: 0 }))
      .min(1)
      .default(() => [...DEFAULT_TRACE_BUCKETS_MS]),
  })
  .strict();

/** SpanMetricsConfig is the parsed config. */
export type SpanMetricsConfig = z.output<typeof configSchema>;
