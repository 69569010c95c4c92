// What a run observes while it goes: /proc of every process under test every 250 ms (CPU, RSS), and the
// systems' own /metrics turned into the same few figures for both (traces consumed and decided, spans
// buffered, heap, export backlog). Each system speaks its own metric names; the adapters map them.

import { Metrics } from './prom';
import { readProc } from './proc';
import type { RunningSystem, SystemName } from './systems';

/** Figures both systems report, from their own metrics. */
export interface Figures {
  /** Trace messages the sampling tier has read from Kafka. */
  consumedTraces: number;
  /** Traces the tail sampler has decided. */
  decidedTraces: number;
  /** Spans buffered awaiting a decision (peer: traces on memory x mean spans per trace). */
  bufferedSpans: number;
  bufferedTraces: number;
  /** Heap in use: ours nodejs heap used (sampling process), peer Go runtime HeapAlloc. */
  heapBytes: number;
  /** Kept data not yet delivered downstream (bytes or queued batches; 0 = idle). */
  exportBacklog: number;
  /** Spans the OTLP receiver accepted. */
  receivedSpans: number;
  /** Traces dropped before their decision (peer: dropped too early; ours: evictions). */
  droppedEarly: number;
}

/** One scrape of every process of a system, with each process's role. */
export type Scrape = Array<{ role: string; m: Metrics }>;

/** Roles of the processes that sample: `sample` (one or more sampler processes) or `all` (both tiers in one). */
export const SAMPLING_ROLES: readonly string[] = ['sample', 'all'];
/** Roles of the processes that ingest. */
export const INGEST_ROLES: readonly string[] = ['ingest', 'all'];

/**
 * combine merges the scrapes of the processes with one of `roles` (default all) into one Metrics: sums
 * and histogram buckets then add up over those processes. Undefined when no process has such a role.
 */
export function combine(list: Scrape, roles?: readonly string[]): Metrics | undefined {
  const picked = list.filter((x) => !roles || roles.includes(x.role));
  return picked.length === 0 ? undefined : new Metrics(picked.flatMap((x) => x.m.series));
}

function oursFigures(list: Scrape): Figures {
  // role `all` = both tiers in one process (the e2e-1proc case): its metrics serve as both.
  const s = combine(list, SAMPLING_ROLES);
  const i = combine(list, INGEST_ROLES);
  return {
    consumedTraces: s?.sum('tusk_kafka_consumed_messages_total') ?? 0,
    decidedTraces: s?.sum('tusk_sampler_decisions_total') ?? 0,
    bufferedSpans: s?.sum('tusk_sampler_spans_buffered') ?? 0,
    bufferedTraces: s?.sum('tusk_sampler_traces_buffered') ?? 0,
    heapBytes: (s ?? i)?.sum('tusk_nodejs_heap_size_used_bytes') ?? 0,
    exportBacklog: (s?.sum('tusk_sampler_bytes_exporting') ?? 0) + (s?.sum('tusk_exporter_queue_size') ?? 0),
    receivedSpans: i?.sum('tusk_receiver_spans_total', { outcome: 'accepted' }) ?? 0,
    droppedEarly: s?.sum('tusk_sampler_evictions_total') ?? 0,
  };
}

function peerFigures(list: Scrape, spansPerTrace: number): Figures {
  // One process holding both pipelines, or one ingest collector and sampling collectors (heap: the samplers').
  const m = combine(list);
  const onMemory = m?.sum('otelcol_processor_tail_sampling_sampling_traces_on_memory') ?? 0;
  return {
    consumedTraces: m?.sum('otelcol_processor_tail_sampling_new_trace_id_received_total') ?? 0,
    decidedTraces: m?.sum('otelcol_processor_tail_sampling_global_count_traces_sampled_total') ?? 0,
    bufferedSpans: Math.round(onMemory * spansPerTrace),
    bufferedTraces: onMemory,
    heapBytes: combine(list, SAMPLING_ROLES)?.sum('otelcol_process_runtime_heap_alloc_bytes') ?? 0,
    exportBacklog: m?.sum('otelcol_exporter_queue_size') ?? 0,
    receivedSpans: m?.sum('otelcol_receiver_accepted_spans_total', { receiver: 'otlp' }) ?? 0,
    droppedEarly: m?.sum('otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total') ?? 0,
  };
}

/** figuresOf maps a scrape of `system` to Figures. */
export function figuresOf(system: SystemName, list: Scrape, spansPerTrace: number): Figures {
  return system === 'ours' ? oursFigures(list) : peerFigures(list, spansPerTrace);
}

/** One observation. */
export interface Sample {
  t: number;
  /** utime+stime of all processes under test (ours: plus its private Redis), seconds. */
  cpuS: number;
  /** RSS of the system's processes (Redis excluded), bytes. */
  rssBytes: number;
  /** RSS of the sampling processes alone (for memory per buffered span). */
  samplerRssBytes: number;
  /** RSS of the extra processes (ours: its Redis), bytes. */
  extraRssBytes: number;
  /** utime+stime of each process (system and extra pids), seconds. */
  cpuByPid: ReadonlyMap<number, number>;
  fig?: Figures;
}

/**
 * cpuByRoleBetween is the CPU-seconds each role used from sample `a` to sample `b`: the processes' CPU
 * differences summed by the role `roleOf` gives their pid (pids without a role are left out).
 */
export function cpuByRoleBetween(
  a: Pick<Sample, 'cpuByPid'>,
  b: Pick<Sample, 'cpuByPid'>,
  roleOf: ReadonlyMap<number, string>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, role] of roleOf) {
    const d = (b.cpuByPid.get(pid) ?? 0) - (a.cpuByPid.get(pid) ?? 0);
    out[role] = (out[role] ?? 0) + d;
  }
  return out;
}

/** Monitor samples a running system until stopped. */
export class Monitor {
  readonly samples: Sample[] = [];
  private _timer?: NodeJS.Timeout;
  private _scraping = false;
  private readonly _lastCpu = new Map<number, number>();
  private readonly _lastHwm = new Map<number, number>();
  private _extraPeakRss = 0;
  last?: Sample;
  lastFig?: Figures;

  constructor(
    private readonly _sys: RunningSystem,
    private readonly _extraCpuPids: number[],
    private readonly _spansPerTrace: number,
    private readonly _periodMs = 250,
    /** How often the systems' /metrics are scraped (a scrape costs the system under test some CPU). */
    private readonly _scrapeMs = 250,
  ) {}
  private _lastScrape = 0;

  async start(): Promise<Sample> {
    this._timer = setInterval(() => void this.tick(), this._periodMs);
    return this.tick(true);
  }

  stop(): void {
    if (this._timer) clearInterval(this._timer);
  }

  /** tick takes one sample now; with `scrape` it waits for the metrics (else it skips them when busy). */
  async tick(scrape = false): Promise<Sample> {
    const t = Date.now();
    let cpuS = 0;
    let rss = 0;
    let samplerRss = 0;
    let extraRss = 0;
    const samplerPids = this._sys.procs.filter((p) => SAMPLING_ROLES.includes(p.role)).map((p) => p.child.pid);
    for (const pid of this._sys.pids()) {
      const p = readProc(pid);
      if (p) {
        this._lastCpu.set(pid, p.cpuS);
        this._lastHwm.set(pid, p.hwmBytes);
        rss += p.rssBytes;
        if (samplerPids.includes(pid)) samplerRss += p.rssBytes;
      }
      cpuS += this._lastCpu.get(pid) ?? 0;
    }
    for (const pid of this._extraCpuPids) {
      const p = readProc(pid);
      if (p) {
        this._lastCpu.set(pid, p.cpuS);
        extraRss += p.rssBytes;
      }
      cpuS += this._lastCpu.get(pid) ?? 0;
    }
    this._extraPeakRss = Math.max(this._extraPeakRss, extraRss);
    const sample: Sample = {
      t,
      cpuS,
      rssBytes: rss,
      samplerRssBytes: samplerRss,
      extraRssBytes: extraRss,
      cpuByPid: new Map(this._lastCpu),
    };
    if (scrape || (!this._scraping && t - this._lastScrape >= this._scrapeMs - 20)) {
      this._scraping = true;
      this._lastScrape = t;
      try {
        sample.fig = figuresOf(this._sys.name, await this._sys.metrics(), this._spansPerTrace);
        this.lastFig = sample.fig;
      } finally {
        this._scraping = false;
      }
    }
    this.samples.push(sample);
    this.last = sample;
    return sample;
  }

  /** cpuByPid is the last utime+stime read of every process (system and extra pids). */
  cpuByPid(): Map<number, number> {
    return new Map(this._lastCpu);
  }

  /** peakRssBytes sums VmHWM (peak RSS) over the system's processes, as last read. */
  peakRssBytes(): number {
    let s = 0;
    for (const pid of this._sys.pids()) s += this._lastHwm.get(pid) ?? 0;
    return s;
  }

  /** extraPeakRssBytes is the highest RSS of the extra processes (ours: Redis) sampled since start. */
  extraPeakRssBytes(): number {
    return this._extraPeakRss;
  }

  /** crossing returns the interpolated time at which `value(fig)` first reached `target` (midpoint of the two samples around it). */
  crossing(value: (f: Figures) => number, target: number): number | undefined {
    let prev: Sample | undefined;
    for (const s of this.samples) {
      if (!s.fig) continue;
      if (value(s.fig) >= target) return prev ? (prev.t + s.t) / 2 : s.t;
      prev = s;
    }
    return undefined;
  }
}
