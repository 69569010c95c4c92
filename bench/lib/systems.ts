// The two systems under test and how each is started for each scenario.
//
// ours: `node bin/tusk-collector.js run bench/configs/<file>.tsk` (dist/ must be built), one process per
//       tier: ingest (OTLP -> Kafka), sample (Kafka -> tail_sampling with Redis -> null sink | OTLP to Jaeger).
// peer: the OpenTelemetry Collector components compiled into the stack's Jaeger v2 binary (contrib
//       v0.140.1: otlp receiver, kafka exporter/receiver, tail_sampling, batch, nop, otlphttp), run with a
//       collector config generated here (JSON, which is YAML), one process holding the pipelines.
// With `samplers` (the cost model), both run one ingest process and that many sampler processes in one
// consumer group (ours: sharing one Redis state; the peer: collectors of kafka -> tail_sampling -> otlphttp).
// Both get the same topic layout, the same policies (status_code ERROR, latency threshold, probabilistic
// 10%), the same decision_wait and their own free ports.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, startCollector, stopProcess, waitFor } from './collector';
import { freePort, portOpen } from './ports';
import { scrape, type Metrics } from './prom';

export { REPO };
let BIN = path.join(REPO, 'bin', 'tusk-collector.js');
let DIST = path.join(REPO, 'dist');

/**
 * snapshotCollector copies bin/ and dist/ into `dir` and runs our collector from there for the whole
 * session, so a rebuild of dist/ by someone else mid-session cannot mix two builds in one comparison.
 * `from` is the checkout to copy (default this one; bench/floor.ts --app-b runs a second build); a
 * snapshot already in `dir` is reused. Returns the newest file time of the copied dist/.
 */
export function snapshotCollector(dir: string, from: string = REPO): Date {
  const app = path.join(dir, 'app');
  if (!fs.existsSync(path.join(app, 'dist'))) {
    fs.cpSync(path.join(from, 'dist'), path.join(app, 'dist'), { recursive: true, preserveTimestamps: true });
    fs.cpSync(path.join(from, 'bin'), path.join(app, 'bin'), { recursive: true });
  }
  BIN = path.join(app, 'bin', 'tusk-collector.js');
  DIST = path.join(app, 'dist');
  let newest = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else newest = Math.max(newest, fs.statSync(f).mtimeMs);
    }
  };
  walk(DIST);
  return new Date(newest);
}
const CONFIGS = path.join(REPO, 'bench', 'configs');

export type SystemName = 'ours' | 'peer';
export type Scenario = 'ingest' | 'sampling' | 'e2e';

/** RunParams are what one run of one system needs. */
export interface RunParams {
  scenario: Scenario;
  runId: string;
  dir: string;
  topic: string;
  group: string;
  redisUrl: string;
  redisPrefix: string;
  decisionWaitS: number;
  rootSettleS: number;
  slowMs: number;
  /** OTLP/HTTP base URL kept traces go to (e2e: the timing proxy). */
  exportEndpoint: string;
  /** Extra node flags for our processes (e.g. --cpu-prof). */
  nodeFlags: string[];
  /** Expected new traces per second (the peer's sizing hint). */
  tracesPerSec: number;
  /** e2e: ours runs both tiers in one process (role `all`, bench/configs/ours-e2e.tsk). */
  oneProcess?: boolean;
  /** e2e: one ingest process and this many sampler processes (role `sample`), for both systems. */
  samplers?: number;
}

/** A started process of a system. */
export interface Proc {
  /** ingest, sample (one or more processes) or all (both tiers). */
  role: string;
  child: ChildProcess;
  metricsUrl: string;
  logFile: string;
}

/** A running system: its processes and where to send OTLP. */
export interface RunningSystem {
  name: SystemName;
  procs: Proc[];
  httpUrl?: string;
  grpcTarget?: string;
  pids(): number[];
  /** scrape every process's /metrics (missing ones are skipped). */
  metrics(): Promise<Array<{ role: string; m: Metrics }>>;
  stop(): Promise<void>;
}

async function stopProc(p: Proc, timeoutMs = 30_000): Promise<void> {
  await stopProcess(p.child, timeoutMs);
}

function makeSystem(name: SystemName, procs: Proc[], extra: Partial<RunningSystem>): RunningSystem {
  return {
    name,
    procs,
    ...extra,
    pids: () => procs.map((p) => p.child.pid!).filter((x) => x !== undefined),
    async metrics() {
      const out: Array<{ role: string; m: Metrics }> = [];
      await Promise.all(
        procs.map(async (p) => {
          const m = await scrape(p.metricsUrl);
          if (m) out.push({ role: p.role, m });
        }),
      );
      return out;
    },
    async stop() {
      await Promise.all(procs.map((p) => stopProc(p)));
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// ours

async function startOurs(
  role: string,
  file: string,
  env: Record<string, string>,
  params: RunParams,
  name = role,
): Promise<Proc> {
  const admin = await freePort();
  const started = await startCollector({
    what: `ours ${name}`,
    bin: BIN,
    file: path.join(CONFIGS, file),
    logFile: path.join(params.dir, `ours-${name}.log`),
    nodeFlags: params.nodeFlags,
    env: { TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`, BENCH_DIST: DIST, ...env },
  });
  return { role, child: started.child, metricsUrl: `http://127.0.0.1:${admin}/metrics`, logFile: started.logFile };
}

/** startOursFor starts our processes for a scenario. */
export async function startOursFor(params: RunParams): Promise<RunningSystem> {
  const common = { BENCH_TOPIC: params.topic };
  const procs: Proc[] = [];
  const extra: Partial<RunningSystem> = {};
  try {
    const samplerEnv = {
      BENCH_GROUP: params.group,
      BENCH_REDIS_URL: params.redisUrl,
      BENCH_REDIS_PREFIX: params.redisPrefix,
      BENCH_DECISION_WAIT: `${params.decisionWaitS * 1000}ms`,
      BENCH_ROOT_SETTLE_DELAY: `${params.rootSettleS * 1000}ms`,
      BENCH_SLOW_MS: String(params.slowMs),
      BENCH_EXPORT_ENDPOINT: params.exportEndpoint,
    };
    if (params.scenario === 'e2e' && params.oneProcess) {
      const [h, g] = [await freePort(), await freePort()];
      procs.push(
        await startOurs(
          'all',
          'ours-e2e.tsk',
          { ...common, ...samplerEnv, OTLP_HTTP_ENDPOINT: `127.0.0.1:${h}`, OTLP_GRPC_ENDPOINT: `127.0.0.1:${g}` },
          params,
        ),
      );
      return makeSystem('ours', procs, { httpUrl: `http://127.0.0.1:${h}/v1/traces`, grpcTarget: `127.0.0.1:${g}` });
    }
    if (params.scenario === 'ingest' || params.scenario === 'e2e') {
      const [h, g] = [await freePort(), await freePort()];
      procs.push(
        await startOurs(
          'ingest',
          'ours-ingest.tsk',
          { ...common, OTLP_HTTP_ENDPOINT: `127.0.0.1:${h}`, OTLP_GRPC_ENDPOINT: `127.0.0.1:${g}` },
          params,
        ),
      );
      extra.httpUrl = `http://127.0.0.1:${h}/v1/traces`;
      extra.grpcTarget = `127.0.0.1:${g}`;
    }
    if (params.scenario === 'sampling' || params.scenario === 'e2e') {
      const file = params.scenario === 'sampling' ? 'ours-sample-null.tsk' : 'ours-sample.tsk';
      const n = params.samplers ?? 1;
      const names = Array.from({ length: n }, (_, k) => (n === 1 ? 'sample' : `sample-${k + 1}`));
      procs.push(
        ...(await startAll(
          names.map((name) => () => startOurs('sample', file, { ...common, ...samplerEnv }, params, name)),
        )),
      );
    }
  } catch (err) {
    await Promise.all(procs.map((p) => stopProc(p)));
    throw err;
  }
  return makeSystem('ours', procs, extra);
}

/** startAll starts processes side by side; when one fails, the started ones are stopped and the error thrown. */
async function startAll<P extends Proc>(starts: Array<() => Promise<P>>): Promise<P[]> {
  const settled = await Promise.allSettled(starts.map((f) => f()));
  const started = settled.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((p) => stopProc(p)));
    throw failed.reason;
  }
  return started;
}

// ---------------------------------------------------------------------------------------------------
// peer

/** peerBinary finds the Jaeger v2 binary the stack built (TUSK_STACK_HOME or ~/.cache/tusk-collector). */
export function peerBinary(): string {
  if (process.env.BENCH_PEER_BIN) return process.env.BENCH_PEER_BIN;
  const home = process.env.TUSK_STACK_HOME ?? path.join(os.homedir(), '.cache', 'tusk-collector');
  const dir = path.join(home, 'bin');
  const found = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /^jaeger-v\d/.test(f))
        .sort()
    : [];
  if (found.length === 0)
    throw new Error(
      `no Jaeger v2 binary in ${dir}: run \`bash scripts/stack/up.sh\` first (it builds it), or set BENCH_PEER_BIN`,
    );
  return path.join(dir, found[found.length - 1]);
}

/** peerPolicies are the same three policies as bench/configs/ours-*.tsk. */
function peerPolicies(slowMs: number): unknown[] {
  return [
    { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    { name: 'slow', type: 'latency', latency: { threshold_ms: slowMs } },
    { name: 'rest', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
  ];
}

/** The pipelines one peer process holds: the ingest tier, and the sampling tier with its exporter. */
export interface PeerTiers {
  ingest: boolean;
  sample?: 'nop' | 'otlphttp';
}

/** peerTiers are the pipelines of the single peer process of a scenario. */
function peerTiers(scenario: Scenario): PeerTiers {
  return {
    ingest: scenario !== 'sampling',
    sample: scenario === 'sampling' ? 'nop' : scenario === 'e2e' ? 'otlphttp' : undefined,
  };
}

/**
 * peerConfig builds the collector config of one peer process (written as JSON, which YAML accepts): by
 * default the pipelines of the scenario, or those of `tiers` (one tier of the split topology).
 */
export function peerConfig(
  params: RunParams,
  ports: { http: number; grpc: number; telemetry: number },
  tiers: PeerTiers = peerTiers(params.scenario),
): Record<string, unknown> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const receivers: Record<string, unknown> = {};
  const processors: Record<string, unknown> = {};
  const exporters: Record<string, unknown> = {};
  const pipelines: Record<string, unknown> = {};
  if (tiers.ingest) {
    receivers.otlp = {
      protocols: { http: { endpoint: `127.0.0.1:${ports.http}` }, grpc: { endpoint: `127.0.0.1:${ports.grpc}` } },
    };
    // Same contract as our kafka exporter: one message per trace keyed by trace id, acks=all.
    exporters.kafka = {
      brokers,
      client_id: `bench-peer-${params.runId}`,
      traces: { topic: params.topic, encoding: 'otlp_proto' },
      partition_traces_by_id: true,
      producer: { required_acks: -1, compression: 'none' },
    };
    pipelines['traces/ingest'] = { receivers: ['otlp'], exporters: ['kafka'] };
  }
  if (tiers.sample) {
    receivers.kafka = {
      brokers,
      client_id: `bench-peer-${params.runId}`,
      group_id: params.group,
      initial_offset: 'earliest',
      traces: { topic: params.topic, encoding: 'otlp_proto' },
    };
    processors.tail_sampling = {
      decision_wait: `${params.decisionWaitS}s`,
      // Room for every trace of a run: no "dropped too early"; block_on_overflow = backpressure, no loss.
      num_traces: 400_000,
      block_on_overflow: true,
      // Decided traces leave the buffer only when a decision cache holds their id (with the default
      // no-op caches they stay until num_traces evicts them, and block_on_overflow would then stall).
      // 50000 each, 100000 in all like our decision_cache_size: late spans follow the decision on both sides.
      decision_cache: { sampled_cache_size: 50_000, non_sampled_cache_size: 50_000 },
      expected_new_traces_per_sec: Math.max(1000, Math.round(params.tracesPerSec / (params.samplers ?? 1))),
      policies: peerPolicies(params.slowMs),
    };
    if (tiers.sample === 'nop') {
      exporters.nop = {};
      pipelines['traces/sample'] = { receivers: ['kafka'], processors: ['tail_sampling'], exporters: ['nop'] };
    } else {
      // The tail sampler releases traces one at a time: the batch processor after it is the documented setup.
      processors.batch = {};
      exporters.otlphttp = {
        traces_endpoint: `${params.exportEndpoint}/v1/traces`,
        compression: 'none',
        encoding: 'proto',
      };
      pipelines['traces/sample'] = {
        receivers: ['kafka'],
        processors: ['tail_sampling', 'batch'],
        exporters: ['otlphttp'],
      };
    }
  }
  return {
    receivers,
    processors,
    exporters,
    service: {
      telemetry: {
        logs: { level: 'warn' },
        metrics: {
          level: 'detailed',
          readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: ports.telemetry } } } }],
        },
      },
      pipelines,
    },
  };
}

/** startPeerProc starts one peer process holding `tiers`; resolves once it serves metrics (and OTLP). */
async function startPeerProc(params: RunParams, role: string, name: string, tiers: PeerTiers): Promise<PeerProc> {
  const ports = { http: await freePort(), grpc: await freePort(), telemetry: await freePort() };
  const cfgFile = path.join(params.dir, `${name}-config.yaml`);
  fs.writeFileSync(cfgFile, JSON.stringify(peerConfig(params, ports, tiers), null, 2));
  const logFile = path.join(params.dir, `${name}.log`);
  const out = fs.openSync(logFile, 'w');
  const child = spawn(peerBinary(), ['--config', cfgFile], {
    cwd: params.dir,
    stdio: ['ignore', out, out],
    env: { ...process.env },
  });
  fs.closeSync(out);
  const proc: Proc = { role, child, metricsUrl: `http://127.0.0.1:${ports.telemetry}/metrics`, logFile };
  try {
    await waitFor(name, async () => (await scrape(proc.metricsUrl)) !== undefined, child, logFile);
    if (tiers.ingest) await waitFor(`${name} otlp`, () => portOpen(ports.http), child, logFile);
  } catch (err) {
    await stopProc(proc);
    throw err;
  }
  return Object.assign(proc, { ports });
}

type PeerProc = Proc & { ports: { http: number; grpc: number } };

/**
 * startPeerFor starts the peer for a scenario: one process holding its pipelines, or with `samplers` one
 * ingest collector (otlp -> kafka) and that many sampling collectors (kafka -> tail_sampling -> otlphttp).
 */
export async function startPeerFor(params: RunParams): Promise<RunningSystem> {
  let procs: PeerProc[];
  if (params.scenario === 'e2e' && params.samplers !== undefined) {
    const n = params.samplers;
    procs = await startAll([
      () => startPeerProc(params, 'ingest', 'peer-ingest', { ingest: true }),
      ...Array.from(
        { length: n },
        (_, k) => () => startPeerProc(params, 'sample', `peer-sample-${k + 1}`, { ingest: false, sample: 'otlphttp' }),
      ),
    ]);
  } else {
    const role = params.scenario === 'e2e' ? 'all' : params.scenario === 'ingest' ? 'ingest' : 'sample';
    procs = [await startPeerProc(params, role, 'peer', peerTiers(params.scenario))];
  }
  const ingest = procs.find((p) => p.role !== 'sample');
  const extra: Partial<RunningSystem> = ingest
    ? { httpUrl: `http://127.0.0.1:${ingest.ports.http}/v1/traces`, grpcTarget: `127.0.0.1:${ingest.ports.grpc}` }
    : {};
  return makeSystem('peer', procs, extra);
}

/** startSystem starts ours or the peer. */
export function startSystem(name: SystemName, params: RunParams): Promise<RunningSystem> {
  return name === 'ours' ? startOursFor(params) : startPeerFor(params);
}
