// The tail_sampling processor: buffers each trace's spans (as bytes) and logs, decides in batched ticks
// (root span + settle delay, decision_wait, per-trace caps, memory pressure), sends kept traces on with
// sampling.policy / sampling.adjusted_count and the tracestate sampling threshold (`ot=th:`) stamped on
// every span, and settles each incoming chunk only when its trace was decided and, if kept, accepted
// downstream (architecture.md, contracts 2-6).

import type { Logger } from 'pino';
import type {
  ComponentHealth,
  ComponentSettings,
  DecisionExplainer,
  DecisionRecord,
  Host,
  Processor,
  ProcessorNext,
} from '../../pipeline/sdk/component';
import { BackpressureError, PipelineError, ShutdownError } from '../../pipeline/sdk/errors';
import type { LogBatch, LogChunk, TraceBatch, TraceChunk } from '../../pipeline/sdk/trace-batch';
import { backoffPolicyFrom } from '../../pipeline/sdk/retry';
import { appendSpanAttributes, scanTraceChunk, type SpanIndexSink } from '../../pipeline/sdk/otlp/index';
import { parseThreshold, TraceStateThreshold } from '../../pipeline/sdk/otlp/index';
import { maxDecisionWaitMs, type TailSamplingConfig } from './config';
import { buildPolicies, Decider, policyWarner, type Decided } from './decider';
import { INPUT_THRESHOLD_RULE } from './evaluation';
import { explainRecord, type DecisionExplanation } from './explain';
import { traceIdHash } from './trace-view';
import { Forwarder, type ForwarderOptions, type Outgoing } from './forwarder';
import { createSamplerMetrics, type SamplerMetrics } from './metrics';
import type { DecisionSummary, InsightsProvider, SamplingInsights } from '../../pipeline/sdk/insights';
import { SamplerInsights } from './insights';
import type { AttributeValue, PolicyWarn } from './policies/types';
import { attributeKeys } from './policies/registry';
import {
  INPUT_ADJUSTED_COUNT,
  INPUT_SAMPLING_THRESHOLD,
  isFingerprintMatch,
  type LedgerRecord,
  type SamplingState,
} from './state/types';
import { BatchSettlement } from './settlement';
import { SlabAllocator } from './slab';
import { ChunkSpanScan } from './span-table';
import { TraceBuffer, type BufferedTrace, type Waiter } from './trace-buffer';

/** Codec is the part of pipeline/sdk/otlp the sampler uses (injectable for tests). */
export interface SamplerCodec {
  /** Reports every span of an encoded chunk to `sink`; returns the span count; throws OtlpDecodeError when malformed. */
  scanTraceChunk(data: Uint8Array, sink: SpanIndexSink, wantAttributes?: ReadonlySet<string>): number;
  appendSpanAttributes(
    data: Uint8Array,
    attrs: Readonly<Record<string, AttributeValue>>,
    threshold?: TraceStateThreshold,
  ): Uint8Array;
}

/** ProcessorDeps are the processor's collaborators; the factory fills them, tests may replace them. */
export interface ProcessorDeps {
  readonly state: SamplingState;
  /** Clock, unix ms. Default Date.now. */
  readonly now?: () => number;
  /** Run ticks on a timer (default true). Tests set false and call tick() with a fake clock. */
  readonly autoTick?: boolean;
  readonly codec?: SamplerCodec;
  /** Overrides the detach age (bench/detach.ts compares with Infinity = never detach). Default detachAgeMs(config). */
  readonly detachAgeMs?: number;
}

const NOT_STARTED = 'ERR_SAMPLER_NOT_STARTED';
/** Decisions by max_decision_wait are logged at most this often. */
const CAP_LOG_INTERVAL_MS = 10_000;

/** TailSamplingProcessor implements the tail_sampling processor. shutdown() is idempotent and safe without start(). */
export class TailSamplingProcessor implements Processor, DecisionExplainer, InsightsProvider {
  readonly capabilities = { mutatesData: false };
  private _cfg: TailSamplingConfig;
  private _attrKeys: ReadonlySet<string>;
  private readonly _state: SamplingState;
  private readonly _now: () => number;
  private readonly _autoTick: boolean;
  private readonly _codec: SamplerCodec;
  private readonly _logger: Logger;
  private readonly _warn: PolicyWarn;
  private readonly _metrics: SamplerMetrics;
  /** Memory of the buffered chunk copies and span rows (slab.ts). */
  private readonly _slabs = new SlabAllocator();
  /** Slabs of detached traces (long-lived): kept apart so they do not keep slabs of short-lived rows alive. */
  private readonly _tenured = new SlabAllocator();
  private readonly _detachAgeOverride: number | undefined;
  private readonly _buffer: TraceBuffer;
  /** Decisions by max_decision_wait not logged yet. */
  private _capped: { count: number; loggedAt: number; example?: string } = { count: 0, loggedAt: -Infinity };
  private readonly _deciding = new Map<string, BufferedTrace>();
  private readonly _lookups = new Set<string>();
  /** Each incoming chunk is scanned into this (reused; intake is synchronous per chunk). */
  private readonly _scan = new ChunkSpanScan();
  /** Late data of kept traces, sent in one batch at the next tick. */
  private _lateTraces: Outgoing<TraceChunk>[] = [];
  private _lateLogs: Outgoing<LogChunk>[] = [];
  private readonly _decider: Decider;
  private readonly _forwarder: Forwarder;
  private readonly _insights: SamplerInsights;
  private _timer?: NodeJS.Timeout;
  private _immediate?: NodeJS.Immediate;
  private _ticking?: Promise<void>;
  private _started = false;
  private _stopping = false;
  private _draining = false;
  private _shutdown?: Promise<void>;

  constructor(
    private readonly _settings: ComponentSettings,
    config: TailSamplingConfig,
    private readonly _next: ProcessorNext,
    deps: ProcessorDeps,
  ) {
    this._cfg = config;
    this._state = deps.state;
    this._insights = new SamplerInsights(
      this._state,
      () => this._cfg,
      () => this.stats(),
    );
    this._now = deps.now ?? Date.now;
    this._autoTick = deps.autoTick ?? true;
    this._detachAgeOverride = deps.detachAgeMs;
    this._codec = deps.codec ?? { scanTraceChunk, appendSpanAttributes };
    this._logger = _settings.logger;
    this._metrics = createSamplerMetrics(_settings.metrics, _settings.name);
    this._warn = policyWarner(this._metrics, this._logger, this._now);
    this._attrKeys = attributeKeys(config.policies);
    this._buffer = new TraceBuffer(config.tick_interval, this._now(), this._slabs);
    const policies = buildPolicies(config.policies, this._state, this._now, this._warn);
    this._decider = new Decider(policies, this._state, this._metrics, this._logger, {
      sampleOnFirstMatch: config.sample_on_first_match,
    });
    this._decider.onDecided((batch) => this._insights.observe(batch));
    this._forwarder = new Forwarder(_next, this._forwarderOptions(config));
  }

  async start(_host: Host): Promise<void> {
    if (this._started || this._stopping) return;
    await this._state.start();
    this._started = true;
    if (this._autoTick) this._startTimer();
  }

  health(): ComponentHealth {
    const s = this._state.health();
    // A degraded state store (Redis unreachable) makes the sampler unready on /readyz, as operators expect of an
    // unreachable dependency, while it goes on deciding from local state; `degraded` tells the two apart.
    return {
      ready: s.ready && !s.degraded && !this._stopping,
      degraded: s.degraded,
      detail: s.detail ?? `${this._buffer.traceCount} traces buffered`,
    };
  }

  /** consumeTraces buffers each chunk under its trace id; resolves when every chunk is settled (see README). */
  consumeTraces(batch: TraceBatch, signal?: AbortSignal): Promise<void> {
    const refused = this._refuse();
    if (refused) return Promise.reject(refused);
    const now = this._now();
    const settlement = new BatchSettlement(batch.onChunkSettled);
    const chunks = batch.chunks;
    for (let i = 0; i < chunks.length; i++) this._acceptSpans(chunks[i], i, now, settlement);
    this._afterIntake(batch.chunks, signal);
    return settlement.seal();
  }

  /** consumeLogs holds log chunks with their trace; records outside any trace pass straight through. */
  consumeLogs(batch: LogBatch, signal?: AbortSignal): Promise<void> {
    const refused = this._refuse();
    if (refused) return Promise.reject(refused);
    const now = this._now();
    const settlement = new BatchSettlement(batch.onChunkSettled);
    const loose: LogChunk[] = [];
    const chunks = batch.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      if (c.traceId === '') loose.push(c);
      else this._acceptLogs(c, i, now, settlement);
    }
    if (loose.length > 0) {
      if (this._next.consumeLogs) settlement.follow(this._next.consumeLogs({ chunks: loose }, signal));
      else this._metrics.exportFailures.inc({ kind: 'no_logs_consumer' }, loose.length);
    }
    this._afterIntake(batch.chunks, signal);
    return settlement.seal();
  }

  /**
   * explainDecision answers GET /v1/decisions/{traceId}: the decision with `decidedBy` (the replica that
   * decided, with a shared state) and, when this replica does not hold the reason and inputs, an
   * `explanation` saying where they are (see explain.ts).
   */
  async explainDecision(traceId: string): Promise<DecisionExplanation | undefined> {
    const id = traceId.toLowerCase();
    const record = this._decided(id) ?? (await this._state.lookupDecisions([id])).get(id);
    if (record === undefined) return undefined;
    const hash = record.fingerprintOnly === undefined ? undefined : traceIdHash(id);
    return explainRecord(record, this._state.replicaId, { traceIdHash: hash });
  }

  /**
   * reconfigure swaps the policies, trace limits, batching and retry settings without losing buffered traces
   * (SIGHUP reload). `config` is already parsed by configSchema; state/redis changes need a restart.
   */
  reconfigure(config: TailSamplingConfig): void {
    const policies = buildPolicies(config.policies, this._state, this._now, this._warn);
    if (config.state !== this._cfg.state || JSON.stringify(config.redis) !== JSON.stringify(this._cfg.redis)) {
      this._logger.warn('tail_sampling: state and redis settings change only on restart; kept the running ones');
    }
    const restartTimer = config.tick_interval !== this._cfg.tick_interval;
    this._cfg = { ...config, state: this._cfg.state, redis: this._cfg.redis };
    this._decider.setPolicies(policies, { sampleOnFirstMatch: config.sample_on_first_match });
    this._attrKeys = attributeKeys(config.policies);
    this._forwarder.updateOptions(this._forwarderOptions(config));
    if (restartTimer && this._timer) {
      clearInterval(this._timer);
      this._startTimer();
    }
    this._logger.info({ policies: policies.map((p) => p.name) }, 'tail_sampling policies reloaded');
  }

  /** flush decides every buffered trace now and waits (bounded) until their exports settled. */
  async flush(timeoutMs = this._cfg.shutdown_timeout): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    this._buffer.decideAllNow(this._stopping ? 'shutdown' : 'flush');
    while (
      (this._buffer.traceCount > 0 ||
        this._deciding.size > 0 ||
        this._lookups.size > 0 ||
        this._lateTraces.length + this._lateLogs.length > 0) &&
      Date.now() < deadline
    ) {
      this._buffer.decideAllNow(this._stopping ? 'shutdown' : 'flush');
      await this.tick();
    }
    return this._forwarder.drain(Math.max(0, deadline - Date.now()));
  }

  shutdown(): Promise<void> {
    return (this._shutdown ??= this._doShutdown());
  }

  /**
   * beginDrain is called before the receivers upstream stop. With ack "settled" the data can be replayed
   * from Kafka, so every trace not already being decided is handed over: its chunks reject with
   * ShutdownError (retriable), nothing is decided or written to the ledger, and the next owner of the
   * partition replays the messages and decides on the whole trace. (Deciding now would judge traces whose
   * remaining spans are still in Kafka, unfetched, and the ledger would make the next owner follow that
   * judgement.) New data is refused from here on. With ack "buffered" the data cannot be replayed, so
   * nothing changes and shutdown decides everything held.
   */
  beginDrain(): void {
    if (this._cfg.ack !== 'settled' || this._draining) return;
    this._draining = true;
    const err = new ShutdownError(this._settings.id);
    const handed = this._buffer.takeDue(Number.MAX_SAFE_INTEGER);
    let chunks = 0;
    for (const t of handed) {
      chunks += t.waiters.length + t.logWaiters.length;
      settleWaiters(t, err);
    }
    this._metrics.rejected.inc({ reason: 'handed_over' }, chunks);
    this._logger.info(
      { traces: handed.length, chunks },
      'tail_sampling draining: undecided traces handed over for replay by the next owner',
    );
  }

  /** tick decides the traces due now (runs on the timer; exposed for tests and flush). Ticks never overlap. */
  tick(): Promise<void> {
    if (this._ticking) return this._ticking.then(() => this.tick());
    const run = this._runTick().catch((err) => this._logger.error({ err }, 'tail_sampling tick failed'));
    this._ticking = run.finally(() => (this._ticking = undefined));
    return this._ticking;
  }

  /** insights is the console's snapshot of this sampler (pipeline/sdk/insights.ts). */
  insights(): SamplingInsights {
    return this._insights.snapshot();
  }

  /** recentDecisions lists this sampler's latest decisions, newest first. */
  recentDecisions(limit: number): DecisionSummary[] {
    return this._insights.recentDecisions(limit);
  }

  /** subscribeDecisions streams this sampler's decisions, one call per decided batch (the console's stream). */
  subscribeDecisions(listener: (batch: readonly DecisionSummary[]) => void): () => void {
    return this._insights.subscribe(listener);
  }

  /** Buffer figures, for tests and the debug endpoints. */
  stats(): { traces: number; spans: number; bytes: number; deciding: number; exportingBytes: number } {
    return {
      traces: this._buffer.traceCount,
      spans: this._buffer.spanCount,
      bytes: this._buffer.bytes,
      deciding: this._deciding.size,
      exportingBytes: this._forwarder.pendingBytes,
    };
  }

  private async _doShutdown(): Promise<void> {
    this.beginDrain();
    this._stopping = true;
    if (this._timer) clearInterval(this._timer);
    if (this._immediate) clearImmediate(this._immediate);
    if (this._cfg.drop_pending_traces_on_shutdown) {
      // Not decided on partial data: dropped (ack "settled" handed them over in beginDrain already).
      const dropped = this._buffer.takeDue(Number.MAX_SAFE_INTEGER);
      const err = new ShutdownError(this._settings.id);
      for (const t of dropped) settleWaiters(t, err);
      if (dropped.length > 0) {
        this._logger.info({ traces: dropped.length }, 'tail_sampling shutdown: pending traces dropped undecided');
      }
    }
    if (this._started) {
      const drained = await this.flush(this._cfg.shutdown_timeout);
      if (!drained)
        this._logger.warn(
          { inflight: this._forwarder.inflight },
          'tail_sampling shutdown: exports still pending after shutdown_timeout',
        );
    }
    const err = new ShutdownError(this._settings.id);
    this._forwarder.abort(err);
    for (const t of this._buffer.takeDue(Number.MAX_SAFE_INTEGER)) settleWaiters(t, err);
    // The aborted sends settle within a moment; what they drop (ack "buffered") is logged before we stop.
    await this._forwarder.drain(1000);
    this._forwarder.flushDropLog();
    await this._state.shutdown();
  }

  private _refuse(): Error | undefined {
    if (this._stopping || this._draining) {
      this._metrics.rejected.inc({ reason: 'shutdown' });
      return new ShutdownError(this._settings.id);
    }
    if (!this._started)
      return new PipelineError(NOT_STARTED, 'tail_sampling processor not started', { component: this._settings.id });
    if (this._forwarder.pendingBytes >= this._cfg.max_buffered_bytes) {
      this._metrics.rejected.inc({ reason: 'backpressure' });
      return new BackpressureError('tail_sampling: kept traces awaiting export exceed max_buffered_bytes', 1000, {
        component: this._settings.id,
      });
    }
    return undefined;
  }

  /**
   * _acceptSpans buffers one chunk, `index` in its batch (or sends it on as a late chunk of a decided trace);
   * `settlement` gets its waiter.
   */
  private _acceptSpans(chunk: TraceChunk, index: number, now: number, settlement: BatchSettlement): void {
    const scan = this._scan;
    scan.reset();
    try {
      this._codec.scanTraceChunk(chunk.data, scan, this._attrKeys);
    } catch (err) {
      scan.reset();
      this._metrics.rejected.inc({ reason: 'malformed' });
      settlement.fail(err);
      return;
    }
    const spanCount = scan.count;
    const traceId = (chunk.traceId || scan.firstTraceId(chunk.data)).toLowerCase();
    if (traceId === '' || spanCount === 0) return settlement.settledNow(index);
    let t = this._buffer.get(traceId) ?? this._deciding.get(traceId);
    if (!t) {
      const decided = this._decided(traceId);
      if (decided) {
        this._metrics.lateSpans.inc(spanCount);
        this._sendLate(
          decided,
          { traceId, chunks: [this._holdable(chunk.data)], spans: spanCount },
          undefined,
          settlement,
          index,
        );
        return;
      }
      t = this._buffer.create(traceId, now, now + this._cfg.decision_wait);
      // Asking the ledger early lets a trace decided elsewhere be followed at once instead of at its deadline.
      // A trace whose first chunk holds its root is due at root_settle_delay anyway: the decision's first-wins
      // write answers for it then (an earlier decision found there is followed), one ledger call instead of two.
      if (!scan.hasRoot) this._lookups.add(traceId);
    }
    t.eventTime ??= chunk.eventTime;
    const data = this._holdable(chunk.data, t);
    if (this._deciding.has(traceId)) {
      // Being decided this tick: the chunk joins the trace and follows its decision.
      t.spans.append(scan, t.chunks.length);
      t.chunks.push(data);
    } else {
      this._buffer.addSpans(t, data, scan);
      if (t.rootSeenMs === undefined && scan.hasRoot) {
        t.rootSeenMs = now;
        this._buffer.dueAt(t, now + this._cfg.root_settle_delay, 'root_settled');
      }
      if (t.spans.count >= this._cfg.max_spans_per_trace) this._buffer.decideNow(t, 'max_spans_per_trace');
      else if (t.bytes >= this._cfg.max_bytes_per_trace) this._buffer.decideNow(t, 'max_bytes_per_trace');
    }
    this._wait(t.waiters, settlement, index);
  }

  /** _acceptLogs holds one log chunk with its trace (or sends it on as late logs of a decided trace). */
  private _acceptLogs(chunk: LogChunk, index: number, now: number, settlement: BatchSettlement): void {
    const traceId = chunk.traceId.toLowerCase();
    let t = this._buffer.get(traceId) ?? this._deciding.get(traceId);
    if (!t) {
      const decided = this._decided(traceId);
      if (decided) {
        this._metrics.lateLogs.inc(chunk.recordCount);
        this._sendLate(decided, undefined, chunk, settlement, index);
        return;
      }
      t = this._buffer.create(traceId, now, now + this._cfg.decision_wait);
      this._lookups.add(traceId);
    }
    const data = this._holdable(chunk.data, t);
    const held = data === chunk.data ? chunk : { ...chunk, data };
    if (this._deciding.has(traceId)) t.logs.push(held);
    else this._buffer.addLogs(t, held);
    this._wait(t.logWaiters, settlement, index);
  }

  /**
   * _holdable returns the bytes of a chunk as the buffer may hold them. With ack "settled" the caller keeps
   * the buffer the chunk is a view of (a Kafka fetch response, an OTLP request body) while it is unsettled,
   * to redeliver it, so a copy would only add memory and CPU: the view is held, unless the chunk joins `t`,
   * a trace detached already (see _detachAged), whose chunks are copied into the tenured slabs. With ack
   * "buffered" the caller lets go at once, and a small view of a large buffer is copied (`compact`) so that
   * holding the trace does not pin the whole buffer.
   */
  private _holdable(data: Uint8Array, t?: BufferedTrace): Uint8Array {
    if (this._cfg.ack === 'buffered') return compact(data, this._slabs);
    return t?.detached ? compact(data, this._tenured) : data;
  }

  /**
   * _detachAged copies the chunks of traces buffered longer than the detach age out of the buffers they
   * arrived in. With ack "settled" a chunk is held as a view of its Kafka fetch (or request body), which is
   * cheap while the trace is decided within root_settle_delay, as most are; one that waits decision_wait
   * would keep the whole fetch in memory. The Kafka receiver copies its redelivery copy at `detach_after`
   * too, and then the fetch can be freed. The copies and the trace's span rows go to slabs of their own, so
   * a slow trace does not keep alive the slabs of the many short-lived rows either.
   */
  private _detachAged(now: number): void {
    if (this._cfg.ack === 'buffered') {
      this._buffer.takeAged(now); // copied on arrival already: just keep the age list short
      return;
    }
    for (const t of this._buffer.takeAged(now - (this._detachAgeOverride ?? detachAgeMs(this._cfg)))) {
      if (t.detached) continue;
      t.detached = true;
      const chunks = t.chunks;
      for (let i = 0; i < chunks.length; i++) chunks[i] = compact(chunks[i], this._tenured);
      t.spans.moveTo(this._tenured);
      const logs = t.logs;
      for (let i = 0; i < logs.length; i++) {
        const data = compact(logs[i].data, this._tenured);
        if (data !== logs[i].data) logs[i] = { ...logs[i], data };
      }
    }
  }

  /**
   * _decided is the decision already taken for a trace, known here without I/O: the state's local store of
   * recent decisions (bounded by decision_cache_size), which also holds the decisions not recorded in the
   * ledger (logs-only traces, a failed ledger call; see _apply).
   */
  private _decided(traceId: string): LedgerRecord | undefined {
    return this._state.recentDecision(traceId);
  }

  /**
   * _wait makes chunk `index` of `settlement` wait among `waiters` (with ack "buffered" it is settled as
   * buffered).
   */
  private _wait(waiters: Waiter[], settlement: BatchSettlement, index: number): void {
    if (this._cfg.ack !== 'buffered') waiters.push(settlement.waiter(index));
  }

  private _afterIntake(chunks: readonly { traceId: string }[], signal: AbortSignal | undefined): void {
    const marked = this._buffer.enforce({
      maxBufferedBytes: this._cfg.max_buffered_bytes,
      numTraces: this._cfg.num_traces,
    });
    if (marked.bytes > 0) this._metrics.evictions.inc({ reason: 'max_buffered_bytes' }, marked.bytes);
    if (marked.traces > 0) this._metrics.evictions.inc({ reason: 'num_traces' }, marked.traces);
    if (marked.bytes + marked.traces > 0) this._requestTick();
    if (signal) {
      // The caller gives up waiting (e.g. partition revoked): decide what it handed us now.
      signal.addEventListener(
        'abort',
        () => {
          for (const c of chunks) {
            const t = this._buffer.get(c.traceId.toLowerCase());
            if (t) this._buffer.decideNow(t, 'flush');
          }
          this._requestTick();
        },
        { once: true },
      );
    }
  }

  private _sendLate(
    record: DecisionRecord,
    spans: { traceId: string; chunks: Uint8Array[]; spans: number } | undefined,
    logs: LogChunk | undefined,
    settlement: BatchSettlement,
    index: number,
  ): void {
    if (record.decision !== 'sampled') return settlement.settledNow(index);
    const waiters: Waiter[] = [];
    this._wait(waiters, settlement, index);
    if (spans) this._lateTraces.push(this._outgoingTrace(record, spans.chunks, spans.spans, waiters));
    if (logs) this._lateLogs.push({ traceId: record.traceId, chunks: [logs], bytes: logs.data.byteLength, waiters });
  }

  private async _runTick(): Promise<void> {
    if (this._lateTraces.length > 0 || this._lateLogs.length > 0) {
      this._forwarder.sendTraces(this._lateTraces);
      this._forwarder.sendLogs(this._lateLogs);
      this._lateTraces = [];
      this._lateLogs = [];
    }
    if (this._lookups.size > 0) await this._resolveLookups([...this._lookups], false);
    const now = this._now();
    this._detachAged(now);
    const due = this._buffer.takeDue(now, {
      decisionWaitMs: this._cfg.decision_wait,
      maxDecisionWaitMs: maxDecisionWaitMs(this._cfg),
    });
    this._logCapped(due, now);
    if (due.length > 0) {
      for (const t of due) this._deciding.set(t.traceId, t);
      const orphans = due.filter((t) => t.spans.count === 0 && !t.ledger).map((t) => t.traceId);
      if (orphans.length > 0) await this._resolveLookups(orphans, true);
      let decided: Decided[];
      try {
        decided = await this._decider.decide(due, now);
      } catch (err) {
        // A bug, not a data problem: hand the chunks back (retriable) rather than leave callers waiting.
        this._logger.error(
          { err, traces: due.length },
          'tail_sampling could not decide a batch; chunks rejected for retry',
        );
        const failure = new PipelineError('ERR_SAMPLER_DECIDE', 'tail_sampling could not decide the trace', {
          cause: err,
          component: this._settings.id,
        });
        for (const t of due) settleWaiters(t, failure);
        return;
      } finally {
        for (const t of due) this._deciding.delete(t.traceId);
      }
      this._apply(decided, this._now());
    }
    this._updateGauges();
  }

  /**
   * _logCapped logs the traces decided by max_decision_wait (their partition's clock lagged): at most one
   * line per CAP_LOG_INTERVAL_MS, with the count since the last line (the metric counts each).
   */
  private _logCapped(due: readonly BufferedTrace[], now: number): void {
    for (const t of due) {
      if (t.trigger !== 'max_decision_wait') continue;
      this._capped.count++;
      this._capped.example ??= t.traceId;
    }
    if (this._capped.count === 0 || now - this._capped.loggedAt < CAP_LOG_INTERVAL_MS) return;
    this._logger.warn(
      {
        traces: this._capped.count,
        trace_id: this._capped.example,
        max_decision_wait_ms: maxDecisionWaitMs(this._cfg),
      },
      "traces decided at max_decision_wait: their Kafka partition's watermark lagged (stalled ingest writers)",
    );
    this._capped = { count: 0, loggedAt: now };
  }

  /** _resolveLookups asks the ledger, in one call, whether traces were decided elsewhere or before a restart. */
  private async _resolveLookups(ids: string[], deciding: boolean): Promise<void> {
    for (const id of ids) this._lookups.delete(id);
    let found: Map<string, DecisionRecord>;
    try {
      found = await this._state.lookupDecisions(ids);
    } catch (err) {
      this._metrics.stateErrors.inc({ op: 'lookup_decisions' });
      this._logger.warn({ err, traces: ids.length }, 'decision ledger lookup failed; deciding locally');
      return;
    }
    for (const [id, record] of found) {
      const t = deciding ? this._deciding.get(id) : this._buffer.get(id);
      if (!t || t.ledger) continue;
      t.ledger = record;
      // A "dropped" answer from a fingerprint only may (rarely) be another trace's: such a trace waits for its
      // own deadline, so that the must-keep policies see what arrived before it is followed (decider.ts).
      if (!deciding && !isFingerprintMatch(record)) this._buffer.decideNow(t, 'ledger');
    }
  }

  private _apply(decided: readonly Decided[], now: number): void {
    const keptTraces: Outgoing<TraceChunk>[] = [];
    const keptLogs: Outgoing<LogChunk>[] = [];
    // Counters are aggregated over the batch and incremented once per label set (a prom-client inc
    // hashes and validates its label object: per decision that was measurable on the hot path).
    const triggers = new Map<string, number>();
    const decisions = new Map<string, Map<string, number>>();
    let lateSpans = 0;
    let lateLogs = 0;
    for (const { trace: t, record, followed, recorded } of decided) {
      if (!recorded) this._state.rememberDecision(record);
      triggers.set(t.trigger, (triggers.get(t.trigger) ?? 0) + 1);
      let byDecision = decisions.get(record.policy);
      if (byDecision === undefined) decisions.set(record.policy, (byDecision = new Map()));
      byDecision.set(record.decision, (byDecision.get(record.decision) ?? 0) + 1);
      this._metrics.decisionLag.observe(Math.max(0, now - t.firstSeenMs) / 1000);
      if (followed && t.trigger === 'ledger') {
        lateSpans += t.spans.count;
        for (const l of t.logs) lateLogs += l.recordCount;
      }
      if (record.decision !== 'sampled') {
        settleWaiters(t);
        continue;
      }
      if (t.chunks.length > 0) keptTraces.push(this._outgoingTrace(record, t.chunks, t.spans.count, t.waiters));
      else for (const w of t.waiters) w.resolve();
      if (t.logs.length > 0) {
        keptLogs.push({
          traceId: t.traceId,
          chunks: t.logs,
          bytes: t.logs.reduce((n, l) => n + l.data.byteLength, 0),
          waiters: t.logWaiters,
        });
      } else for (const w of t.logWaiters) w.resolve();
    }
    for (const [trigger, n] of triggers) this._metrics.triggers.inc({ trigger }, n);
    for (const [policy, byDecision] of decisions)
      for (const [decision, n] of byDecision) this._metrics.decisions.inc({ policy, decision }, n);
    if (lateSpans > 0) this._metrics.lateSpans.inc(lateSpans);
    if (lateLogs > 0) this._metrics.lateLogs.inc(lateLogs);
    this._forwarder.sendTraces(keptTraces);
    this._forwarder.sendLogs(keptLogs);
  }

  /**
   * _outgoingTrace stamps sampling.policy (and sampling.adjusted_count) on every span, writes the sampling
   * threshold into every span's tracestate when a probability decided, and joins the chunks into one.
   */
  private _outgoingTrace(
    record: DecisionRecord,
    chunks: readonly Uint8Array[],
    spanCount: number,
    waiters: Waiter[],
  ): Outgoing<TraceChunk> {
    const attrs: Record<string, AttributeValue> = { 'sampling.policy': record.policy };
    const adjusted = record.inputs[INPUT_ADJUSTED_COUNT];
    if (typeof adjusted === 'number' && adjusted > 1) attrs['sampling.adjusted_count'] = adjusted;
    const threshold = thresholdOf(record);
    const parts = chunks.map((c) => {
      try {
        return this._codec.appendSpanAttributes(c, attrs, threshold);
      } catch (err) {
        this._logger.warn(
          { err, traceId: record.traceId },
          'could not stamp sampling attributes; sending the spans unchanged',
        );
        return c;
      }
    });
    if (threshold !== undefined) {
      const { malformed, full } = threshold.counts;
      if (malformed > 0) this._metrics.tracestateSkipped.inc({ reason: 'malformed' }, malformed);
      if (full > 0) this._metrics.tracestateSkipped.inc({ reason: 'full' }, full);
    }
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return {
      traceId: record.traceId,
      chunks: [{ traceId: record.traceId, data, spanCount }],
      bytes: data.byteLength,
      waiters,
    };
  }

  private _requestTick(): void {
    if (!this._autoTick || !this._started || this._immediate) return;
    this._immediate = setImmediate(() => {
      this._immediate = undefined;
      void this.tick();
    });
  }

  private _startTimer(): void {
    this._timer = setInterval(() => {
      if (!this._ticking) void this.tick();
    }, this._cfg.tick_interval);
    this._timer.unref();
  }

  private _updateGauges(): void {
    this._metrics.tracesBuffered.set(this._buffer.traceCount);
    this._metrics.spansBuffered.set(this._buffer.spanCount);
    this._metrics.bytesBuffered.set(this._buffer.bytes);
    this._metrics.bytesExporting.set(this._forwarder.pendingBytes);
  }

  private _forwarderOptions(c: TailSamplingConfig): ForwarderOptions {
    return {
      retry: backoffPolicyFrom(c.retry_on_failure),
      maxBatchBytes: c.send_batch_max_bytes,
      maxBatchTraces: c.send_batch_max_traces,
      logger: this._logger,
      metrics: this._metrics,
    };
  }
}

/** thresholdOf is the tracestate writer for a kept trace's sampling threshold; undefined when no probability below 1 decided. */
function thresholdOf(record: DecisionRecord): TraceStateThreshold | undefined {
  const value = record.inputs[INPUT_SAMPLING_THRESHOLD];
  const t = typeof value === 'string' ? parseThreshold(value) : undefined;
  if (t === undefined || t <= 0n) return undefined;
  const rule = record.inputs[INPUT_THRESHOLD_RULE] === 'consistent' ? 'consistent' : 'proportional';
  return new TraceStateThreshold(t, undefined, rule);
}

/** settleWaiters resolves (dropped on purpose) or rejects every chunk waiting on a trace. */
function settleWaiters(t: BufferedTrace, err?: Error): void {
  for (const w of [...t.waiters, ...t.logWaiters]) {
    if (err) w.reject(err);
    else w.resolve();
  }
}

/**
 * detachAgeMs is how long a trace is held as views of the buffers its chunks arrived in before they are
 * copied: twice root_settle_delay (at least 1 s), well past the time most traces are decided.
 */
export function detachAgeMs(cfg: Pick<TailSamplingConfig, 'root_settle_delay'>): number {
  return Math.max(1000, 2 * cfg.root_settle_delay);
}

/**
 * compact copies a chunk that is a small view of a large buffer (e.g. a Kafka fetch) so holding it does not
 * pin the whole buffer; the copy is a piece of `slabs` when small.
 */
export function compact(data: Uint8Array, slabs: SlabAllocator): Uint8Array {
  return data.buffer.byteLength > data.byteLength * 2 + 4096 ? slabs.copy(data) : data;
}
