// Control of the rehearsal cluster (scripts/cluster/up.sh, down.sh) for the drills: where its brokers,
// Redis nodes and collector "hosts" are (read from $TUSK_CLUSTER_STATE/cluster.env), kill -9 and restart of
// one broker or Redis node by its pid file, partition leaders and group state read with kafkajs, and the
// collector processes (`node bin/tusk-collector.js run scripts/cluster/drills.tsk --pipeline ...`) started
// inside their own network namespace. Every wait is bounded.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs';
import { REPO_ROOT, startCollector, type CollectorProcess } from '../helpers/collector-process';

const SCRIPTS = path.join(REPO_ROOT, 'scripts', 'cluster');
export const CLUSTER_STATE = process.env.TUSK_CLUSTER_STATE ?? path.join(REPO_ROOT, '.cluster');
export const PIPELINE_FILE = path.join(SCRIPTS, 'drills.tsk');

/** What cluster.env says. */
export interface ClusterEnv {
  readonly mode: 'netns' | 'loopback';
  /** Address of the root namespace on the bridge (the drill's Jaeger proxy listens there). */
  readonly hostIp: string;
  readonly nsPrefix: string;
  readonly kafkaBrokers: string[];
  /** Broker node id -> address. */
  readonly brokerIps: Map<number, string>;
  readonly redisNodes: string[];
  /** Collector host name (i1, s1, ...) -> address. */
  readonly hosts: Map<string, string>;
}

/** A script's outcome. */
export interface ScriptResult {
  code: number;
  output: string;
}

/** runScript runs scripts/cluster/NAME with args, bounded by timeoutMs; never throws. */
export function runScript(name: string, args: string[], timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [path.join(SCRIPTS, name), ...args],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** readClusterEnv parses cluster.env; throws when the cluster was never brought up. */
export function readClusterEnv(): ClusterEnv {
  const text = fs.readFileSync(path.join(CLUSTER_STATE, 'cluster.env'), 'utf8');
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) kv.set(m[1], m[2]);
  }
  const pairs = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .filter((x) => x)
      .map((x) => x.split('=') as [string, string]);
  return {
    mode: kv.get('CLUSTER_MODE') === 'netns' ? 'netns' : 'loopback',
    hostIp: kv.get('CLUSTER_HOST_IP') ?? '127.0.0.1',
    nsPrefix: kv.get('CLUSTER_NS_PREFIX') ?? 'tkc',
    kafkaBrokers: (kv.get('KAFKA_BROKERS') ?? '').split(','),
    brokerIps: new Map(pairs(kv.get('KAFKA_BROKER_HOSTS')).map(([k, v]) => [Number(k.slice(1)), v])),
    redisNodes: (kv.get('REDIS_CLUSTER_NODES') ?? '').split(','),
    hosts: new Map(pairs(kv.get('COLLECTOR_HOSTS'))),
  };
}

/** readPid reads .cluster/pids/NAME.pid (undefined when absent or dead). */
export function readPid(name: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(CLUSTER_STATE, 'pids', `${name}.pid`), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** killPid sends SIGKILL and waits (bounded) until the process is gone. */
export async function killPid(pid: number, timeoutMs = 10_000): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`pid ${pid} still alive ${timeoutMs} ms after SIGKILL`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** withAdmin runs fn with a connected kafkajs admin on the rehearsal brokers. */
export async function withAdmin<T>(env: ClusterEnv, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    clientId: 'tusk-drills',
    brokers: env.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 8000,
    retry: { retries: 2, initialRetryTime: 200 },
  }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** One partition's placement. */
export interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/** topicPartitions reads leaders, replicas and ISR of a topic. */
export function topicPartitions(env: ClusterEnv, topic: string): Promise<PartitionView[]> {
  return withAdmin(env, async (admin) => {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return (md.topics[0]?.partitions ?? [])
      .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** waitGroupStable waits until the group is Stable with `members` members covering all `partitions`. */
export async function waitGroupStable(
  env: ClusterEnv,
  group: string,
  topic: string,
  members: number,
  partitions: number,
  timeoutMs: number,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const view = await withAdmin(env, async (admin) => {
      const g = (await admin.describeGroups([group])).groups[0];
      const assigned: number[] = [];
      for (const m of g?.members ?? []) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        assigned.push(...(a?.assignment[topic] ?? []));
      }
      return {
        state: g?.state ?? 'Unknown',
        members: g?.members.length ?? 0,
        assigned: assigned.sort((x, y) => x - y),
      };
    }).catch((err: unknown) => ({ state: `error ${String(err)}`, members: 0, assigned: [] as number[] }));
    last = JSON.stringify(view);
    if (view.state === 'Stable' && view.members === members && new Set(view.assigned).size === partitions) {
      return view.assigned;
    }
    await sleep(300);
  }
  throw new Error(`group ${group} not stable with ${members} members over ${partitions} partitions: ${last}`);
}

/** clusterBrokersUp: a metadata request lists `n` brokers. */
export async function clusterBrokersUp(env: ClusterEnv, n: number): Promise<boolean> {
  return withAdmin(env, async (admin) => (await admin.describeCluster()).brokers.length === n).catch(() => false);
}

/** redisCli runs redis-cli against host:port with args; resolves with its stdout ('' on failure). */
export function redisCli(node: string, args: string[], timeoutMs = 5000): Promise<string> {
  const i = node.lastIndexOf(':');
  return new Promise((resolve) => {
    execFile(
      'redis-cli',
      ['-h', node.slice(0, i), '-p', node.slice(i + 1), ...args],
      { timeout: timeoutMs },
      (err, stdout) => resolve(err ? '' : stdout.replace(/\r/g, '')),
    );
  });
}

/** One line of CLUSTER NODES. */
export interface RedisNodeView {
  id: string;
  addr: string;
  master: boolean;
  failed: boolean;
  masterId: string;
  slots: string[];
}

/** redisNodes reads CLUSTER NODES from the first answering node. */
export async function redisNodes(env: ClusterEnv, skip: ReadonlySet<string> = new Set()): Promise<RedisNodeView[]> {
  for (const n of env.redisNodes) {
    if (skip.has(n)) continue;
    const out = await redisCli(n, ['cluster', 'nodes']);
    if (out === '') continue;
    return out
      .trim()
      .split('\n')
      .map((line) => {
        const f = line.split(' ');
        return {
          id: f[0],
          addr: f[1].split('@')[0],
          master: f[2].includes('master'),
          failed: /fail(?!\?)/.test(f[2]),
          masterId: f[3],
          slots: f.slice(8),
        };
      });
  }
  return [];
}

/** A collector process on one rehearsal host. */
export interface HostProcess {
  readonly name: string;
  readonly host: string;
  readonly ip: string;
  readonly proc: CollectorProcess;
  /** host:port of its admin endpoint. */
  readonly admin: string;
  /** OTLP/HTTP traces URL (ingest only). */
  readonly url: string;
  /** OTLP/HTTP logs URL (ingest only). */
  readonly logsUrl: string;
}

const OTLP_HTTP_PORT = 24318;
const OTLP_GRPC_PORT = 24317;
const ADMIN_PORT = 23133;

/**
 * startOnHost runs the collector with `--pipeline pipeline` in host's namespace (or on its loopback address);
 * `sample_logs` is the sampler that also reads the logs topic and exports logs (drills.tsk).
 */
export async function startOnHost(
  env: ClusterEnv,
  host: string,
  pipeline: 'ingest' | 'sample' | 'sample_logs',
  vars: Record<string, string>,
): Promise<HostProcess> {
  const ip = env.hosts.get(host);
  if (ip === undefined) throw new Error(`unknown rehearsal host ${host}`);
  const wrapper = env.mode === 'netns' ? ['ip', 'netns', 'exec', `${env.nsPrefix}-${host}`] : [];
  const proc = await startCollector(
    PIPELINE_FILE,
    ['--pipeline', pipeline],
    {
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      REDIS_CLUSTER_NODES: env.redisNodes.join(','),
      OTLP_HTTP_ENDPOINT: `${ip}:${OTLP_HTTP_PORT}`,
      OTLP_GRPC_ENDPOINT: `${ip}:${OTLP_GRPC_PORT}`,
      TUSK_ADMIN_ENDPOINT: `${ip}:${ADMIN_PORT}`,
      ...vars,
    },
    90_000,
    wrapper,
  );
  const pidFile = path.join(CLUSTER_STATE, 'pids', `collector-${host}.pid`);
  if (proc.child.pid !== undefined) fs.writeFileSync(pidFile, `${proc.child.pid}\n`);
  proc.child.once('exit', () => fs.rmSync(pidFile, { force: true }));
  return {
    name: `${pipeline}@${host}`,
    host,
    ip,
    proc,
    admin: `${ip}:${ADMIN_PORT}`,
    url: `http://${ip}:${OTLP_HTTP_PORT}/v1/traces`,
    logsUrl: `http://${ip}:${OTLP_HTTP_PORT}/v1/logs`,
  };
}
