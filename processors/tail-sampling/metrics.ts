// The tail sampler's Prometheus metrics, registered on the service registry (settings.metrics). Every
// series carries a `processor` label (the component name) so several samplers can share one registry.
// The Collector's tail_sampling metrics (otelcol_processor_tail_sampling_*) are derived from these at scrape time.

import type { Registry } from 'prom-client';
import { declareCollectorMetrics, type CollectorMetric, type SampleLabels } from '../../pipeline/sdk/collector-metrics';
import { componentMetrics } from '../../pipeline/sdk/metrics';

const PREFIX = 'otelcol_processor_tail_sampling_';

/** sampledLabels adds the Collector's `sampled` ("true"/"false") to a decision sample's labels. */
function sampledLabels(names: readonly string[]): (l: SampleLabels) => Record<string, string> {
  return (l) => {
    const out: Record<string, string> = {};
    for (const n of names) out[n] = String(l[n] ?? '');
    out.sampled = l.decision === 'sampled' ? 'true' : 'false';
    return out;
  };
}

/**
 * TAIL_SAMPLING_COLLECTOR_METRICS are the Collector's tail_sampling metrics this processor can fill. A trace is
 * counted once, under the policy that decided it ("(none)" when no policy sampled it), where the Collector
 * counts every policy that evaluated it; the global count is the same in both. Each series keeps `processor`.
 */
export const TAIL_SAMPLING_COLLECTOR_METRICS: readonly CollectorMetric[] = [
  {
    name: `${PREFIX}count_traces_sampled_total`,
    help: 'Count of traces that were sampled or not per sampling policy (the deciding policy).',
    type: 'counter',
    source: 'tusk_sampler_decisions_total',
    labelNames: ['processor', 'policy', 'sampled', 'decision'],
    labels: sampledLabels(['processor', 'policy', 'decision']),
  },
  {
    name: `${PREFIX}global_count_traces_sampled_total`,
    help: 'Global count of traces that were sampled or not by at least one policy',
    type: 'counter',
    source: 'tusk_sampler_decisions_total',
    labelNames: ['processor', 'sampled', 'decision'],
    labels: sampledLabels(['processor', 'decision']),
  },
  {
    name: `${PREFIX}sampling_traces_on_memory`,
    help: 'Tracks the number of traces current on memory',
    type: 'gauge',
    source: 'tusk_sampler_traces_buffered',
    labelNames: ['processor'],
  },
  {
    name: `${PREFIX}sampling_trace_dropped_too_early_total`,
    help: 'Count of traces that needed to be dropped before the configured wait time (here: decided early)',
    type: 'counter',
    source: 'tusk_sampler_evictions_total',
    labelNames: ['processor'],
  },
  {
    name: `${PREFIX}sampling_policy_evaluation_error_total`,
    help: 'Count of sampling policy evaluation errors',
    type: 'counter',
    source: 'tusk_sampler_policy_errors_total',
    labelNames: ['processor'],
  },
];

/** SamplerMetrics are the sampler's counters, gauges and histograms, already bound to this processor. */
export interface SamplerMetrics {
  tracesBuffered: { set(v: number): void };
  spansBuffered: { set(v: number): void };
  bytesBuffered: { set(v: number): void };
  bytesExporting: { set(v: number): void };
  decisions: { inc(labels: { policy: string; decision: string }, v?: number): void };
  lateSpans: { inc(v?: number): void };
  lateLogs: { inc(v?: number): void };
  evictions: { inc(labels: { reason: string }, v?: number): void };
  triggers: { inc(labels: { trigger: string }, v?: number): void };
  decisionLag: { observe(seconds: number): void };
  exportFailures: { inc(labels: { kind: string }, v?: number): void };
  /** Kept data given up after it was acknowledged upstream (nobody will redeliver it), by reason. */
  droppedTraces: { inc(labels: { reason: DropReason }, v?: number): void };
  droppedSpans: { inc(labels: { reason: DropReason }, v?: number): void };
  droppedLogRecords: { inc(labels: { reason: DropReason }, v?: number): void };
  policyErrors: { inc(labels: { policy: string }, v?: number): void };
  ledgerConflicts: { inc(v?: number): void };
  fingerprintFollows: { inc(labels: { result: 'followed' | 'overridden' }, v?: number): void };
  stateErrors: { inc(labels: { op: string }, v?: number): void };
  rejected: { inc(labels: { reason: string }, v?: number): void };
  tracestateSkipped: { inc(labels: { reason: 'malformed' | 'full' }, v?: number): void };
  /** Input a policy ignored (e.g. an invalid tracestate `ot` value), by policy and kind. */
  policyWarnings: { inc(labels: { policy: string; kind: string }, v?: number): void };
}

/**
 * DropReason labels the tusk_sampler_dropped_* counters: gave_up (retries ran out and the data was already
 * acknowledged, i.e. ack "buffered") or rejected (the next consumer refused it for good).
 */
export type DropReason = 'gave_up' | 'rejected';

/** createSamplerMetrics registers (or reuses) the metrics on `registry` and binds them to `processor`. */
export function createSamplerMetrics(registry: Registry, processor: string): SamplerMetrics {
  const { gauge, counter, histogram } = componentMetrics(registry, 'processor');
  const p = { processor };

  const traces = gauge('tusk_sampler_traces_buffered', 'Traces held in the buffer, waiting for a decision.');
  const spans = gauge('tusk_sampler_spans_buffered', 'Spans held in the buffer, waiting for a decision.');
  const bytes = gauge(
    'tusk_sampler_bytes_buffered',
    'Accounted bytes held in the buffer (encoded spans and logs plus index estimate).',
  );
  const exporting = gauge(
    'tusk_sampler_bytes_exporting',
    'Bytes of kept traces handed downstream and not yet settled.',
  );
  const decisions = counter('tusk_sampler_decisions_total', 'Traces decided, by deciding policy and outcome.', [
    'policy',
    'decision',
  ]);
  const late = counter(
    'tusk_sampler_late_spans_total',
    'Spans that arrived after their trace was decided (they follow the decision).',
    [],
  );
  const lateLogs = counter(
    'tusk_sampler_late_logs_total',
    'Log records that arrived after their trace was decided.',
    [],
  );
  const evictions = counter(
    'tusk_sampler_evictions_total',
    'Traces decided early because a buffer limit was exceeded, by limit.',
    ['reason'],
  );
  const triggers = counter('tusk_sampler_decision_triggers_total', 'Decisions by what triggered them.', ['trigger']);
  const exportFailures = counter(
    'tusk_sampler_export_failures_total',
    'Failed deliveries of kept data: retriable attempts, batches given up, permanent rejections.',
    ['kind'],
  );
  const droppedTraces = counter(
    'tusk_sampler_dropped_traces_total',
    'Kept traces lost after they were acknowledged: retries ran out with ack "buffered" (gave_up), or rejected for good downstream.',
    ['reason'],
  );
  const droppedSpans = counter('tusk_sampler_dropped_spans_total', 'Spans of tusk_sampler_dropped_traces_total.', [
    'reason',
  ]);
  const droppedLogs = counter(
    'tusk_sampler_dropped_log_records_total',
    'Log records of kept traces lost after they were acknowledged, by reason (as the traces).',
    ['reason'],
  );
  const policyErrors = counter(
    'tusk_sampler_policy_errors_total',
    'Policy evaluations that threw (counted as not sampled by that policy).',
    ['policy'],
  );
  const conflicts = counter(
    'tusk_sampler_ledger_conflicts_total',
    'Decisions replaced by an earlier one found in the ledger.',
    [],
  );
  const fingerprintFollows = counter(
    'tusk_sampler_ledger_fingerprint_follows_total',
    'Traces the ledger answered "dropped" from a fingerprint only: followed, or overridden because the drop and ' +
      'must-keep policies (status_code, latency) keep what arrived (a fingerprint false positive, or late ' +
      'error/slow spans of a dropped trace).',
    ['result'],
  );
  const stateErrors = counter(
    'tusk_sampler_state_errors_total',
    'Failed calls to the sampling state (ledger), by operation.',
    ['op'],
  );
  const rejected = counter(
    'tusk_sampler_rejected_chunks_total',
    'Chunks refused (backpressure, shutdown, malformed).',
    ['reason'],
  );
  const policyWarnings = counter(
    'tusk_sampler_policy_warnings_total',
    'Input a policy ignored and decided without, by policy and kind (tracestate_ignored: an invalid ot=th/rv value).',
    ['policy', 'kind'],
  );
  const tracestateSkipped = counter(
    'tusk_sampler_tracestate_skipped_total',
    'Kept spans whose tracestate did not get the sampling threshold and was left as it was: malformed, or full (32 members, or ot over 256 characters).',
    ['reason'],
  );
  const lag = histogram(
    'tusk_sampler_decision_lag_seconds',
    'Time from the first span of a trace to its decision.',
    [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60],
  );

  declareCollectorMetrics(registry, TAIL_SAMPLING_COLLECTOR_METRICS);

  return {
    tracesBuffered: { set: (v) => traces.set(p, v) },
    spansBuffered: { set: (v) => spans.set(p, v) },
    bytesBuffered: { set: (v) => bytes.set(p, v) },
    bytesExporting: { set: (v) => exporting.set(p, v) },
    decisions: { inc: (l, v = 1) => decisions.inc({ ...p, ...l }, v) },
    lateSpans: { inc: (v = 1) => late.inc(p, v) },
    lateLogs: { inc: (v = 1) => lateLogs.inc(p, v) },
    evictions: { inc: (l, v = 1) => evictions.inc({ ...p, ...l }, v) },
    triggers: { inc: (l, v = 1) => triggers.inc({ ...p, ...l }, v) },
    decisionLag: { observe: (s) => lag.observe(p, s) },
    exportFailures: { inc: (l, v = 1) => exportFailures.inc({ ...p, ...l }, v) },
    droppedTraces: { inc: (l, v = 1) => droppedTraces.inc({ ...p, ...l }, v) },
    droppedSpans: { inc: (l, v = 1) => droppedSpans.inc({ ...p, ...l }, v) },
    droppedLogRecords: { inc: (l, v = 1) => droppedLogs.inc({ ...p, ...l }, v) },
    policyErrors: { inc: (l, v = 1) => policyErrors.inc({ ...p, ...l }, v) },
    ledgerConflicts: { inc: (v = 1) => conflicts.inc(p, v) },
    fingerprintFollows: { inc: (l, v = 1) => fingerprintFollows.inc({ ...p, ...l }, v) },
    stateErrors: { inc: (l, v = 1) => stateErrors.inc({ ...p, ...l }, v) },
    rejected: { inc: (l, v = 1) => rejected.inc({ ...p, ...l }, v) },
    tracestateSkipped: { inc: (l, v = 1) => tracestateSkipped.inc({ ...p, ...l }, v) },
    policyWarnings: { inc: (l, v = 1) => policyWarnings.inc({ ...p, ...l }, v) },
  };
}
