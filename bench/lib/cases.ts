// The benchmark's case definitions and the result of one run of one system, shared by the orchestrator
// (run.ts) and the report (report.ts).

import type { Scenario, SystemName } from './systems';
import type { Profile } from '../loadgen/model';

export interface CaseDef {
  id: string;
  scenario: Scenario;
  profile: Profile;
  transport: 'http' | 'grpc';
  /** ingest/e2e: most spans sent; sampling: spans pre-filled. e2e with rate: seconds x rate. */
  spans: number;
  /** Time bound of the load. */
  seconds: number;
  /** e2e offered rate, spans/s (0 = as fast as accepted); 'auto' = half the slowest saturation rate of the same profile. --e2e-rate overrides. */
  rate?: number | 'auto';
  concurrency: number;
  rounds: number;
  /** e2e: ours runs both tiers in one process (the peer's topology) instead of one process per tier. */
  oneProcess?: boolean;
  /**
   * e2e: sampler processes behind one ingest process, in one consumer group, for both systems (the peer then
   * runs one ingest collector and this many sampling collectors). Absent: one per tier for ours, the peer in
   * one process.
   */
  samplers?: number;
  /** Partitions of the run's topic (default PARTITIONS of lib/kafka.ts). */
  partitions?: number;
}

export interface RunResult {
  caseId: string;
  scenario: Scenario;
  profile: Profile;
  transport: string;
  system: SystemName;
  round: number;
  ok: boolean;
  error?: string;
  spans: number;
  traces: number;
  /** Seconds of the throughput window. */
  windowS: number;
  spansPerS: number;
  /** sampling: rate at which the pre-filled backlog was read (intake only, decisions may come later). */
  intakeSpansPerS?: number;
  cpuS: number;
  cpuSPerMSpans: number;
  /** e2e at a fixed rate: CPU per million spans over the whole run (start, load, drain); cpuSPerMSpans is the steady part. */
  cpuSPerMSpansWhole?: number;
  spansPerCpuS: number;
  /** CPU-seconds of each role over the whole run (ingest, sample, all, redis; sampler processes summed). */
  cpuByRole?: Record<string, number>;
  /** e2e at a fixed rate: CPU-s per million spans of each role in the steady part (as cpuSPerMSpans). */
  cpuSPerMSpansByRole?: Record<string, number>;
  /** Sampler processes of the run (CaseDef.samplers). */
  samplers?: number;
  /** Partitions each member of the sampling group held when the load started (CaseDef.samplers runs). */
  groupPartitions?: number[];
  peakRssMB: number;
  /** Ours: the highest RSS of its Redis sampled during the run (not in peakRssMB). */
  redisPeakRssMB?: number;
  bufferedPeakSpans?: number;
  rssBytesPerBufferedSpan?: number;
  heapBytesPerBufferedSpan?: number;
  redisCmds?: number;
  redisCmdsPerSpan?: number;
  redisRoundTripsPerSpan?: number;
  redisTop?: Record<string, number>;
  /** Redis server time per command over the run, microseconds (INFO commandstats) */
  redisCommandUsec?: Record<string, number>;
  /** Growth of Redis used_memory during the run per trace (the ledger keeps one entry per decided trace for ledger_ttl). */
  redisMemBytesPerTrace?: number;
  /** Decision lag from the sampler's own metrics (ours: decision_lag_seconds; peer: trace_removal_age, whole seconds). */
  lagP50S?: number;
  lagP99S?: number;
  /** Exact mean of the same histogram (_sum / _count). */
  lagMeanS?: number;
  /** Sent by the load generator -> arrived at the Jaeger proxy, kept traces (e2e only, same method for both). */
  e2eLagP50S?: number;
  e2eLagP99S?: number;
  keptTraces?: number;
  mustKeepSent?: number;
  mustKeepArrived?: number;
  offeredSpansPerS?: number;
  /** Seconds from the end of the load until the sampler had read everything (bounded backlog check). */
  drainS?: number;
  droppedEarly?: number;
  /** ingest: messages the run wrote to Kafka. */
  kafkaMessages?: number;
  loadgenCpuS?: number;
  loadAvg1: number;
  machineBusyCores: number;
  sutCores: number;
  notes: string[];
}
