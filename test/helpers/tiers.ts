// Runs cluster tiers of the real `tusk-collector` binary for fault tests: an ingest process
// (`--pipeline ingest`) and sampler processes (`--pipeline sample`), each with its own admin (and OTLP)
// ports and the run's unique topic / consumer group / Redis prefix, plus a check that the sampler group
// is stable with every partition assigned (read from the broker with kafkajs describeGroups).

import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { startCollector, type CollectorProcess } from './collector-process';
import { freePort } from './ports';
import { KAFKA_BROKERS } from './kafka-topic';

/** The unique names of one test run. */
export interface RunNames {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  readonly redisPrefix: string;
  readonly service: string;
}

/** runNames makes names no other run uses (pid + time + random). */
export function runNames(test: string): RunNames {
  const id = `${test}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  return { id, topic: `faults-${id}`, group: `faults-${id}`, redisPrefix: `faults:${id}:`, service: `faults-${id}` };
}

/** A running tier process with its ports. */
export interface Tier {
  readonly name: string;
  readonly proc: CollectorProcess;
  readonly admin: number;
  /** OTLP/HTTP port (ingest only). */
  readonly http: number;
  /** OTLP/HTTP traces URL (ingest only). */
  readonly url: string;
}

/** startTier starts `node bin/tusk-collector.js run FILE --pipeline PIPELINE` with the run's env. */
export async function startTier(
  name: string,
  file: string,
  pipeline: string,
  run: RunNames,
  env: Record<string, string> = {},
): Promise<Tier> {
  const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
  const proc = await startCollector(file, ['--pipeline', pipeline], {
    OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    TUSK_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
    TUSK_SPANS_TOPIC: run.topic,
    TUSK_SAMPLER_GROUP: run.group,
    TUSK_REDIS_PREFIX: run.redisPrefix,
    ...env,
  });
  return { name, proc, admin, http, url: `http://127.0.0.1:${http}/v1/traces` };
}

/** stopAll stops every still-running tier (SIGKILL after `timeoutMs`), for after hooks; never throws. */
export async function stopAll(
  tiers: ReadonlyArray<Tier | undefined>,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<void> {
  await Promise.all(tiers.map(async (t) => t?.proc.stop(signal, timeoutMs).catch(() => undefined)));
}

/** The sampler group as the broker sees it. */
export interface GroupView {
  state: string;
  members: number;
  /** Partitions of the topic assigned to some member. */
  assigned: number[];
}

/** describeGroup reads the group's state and assignments from the broker. */
export async function describeGroup(group: string, topic: string): Promise<GroupView> {
  const admin = new Kafka({
    clientId: 'tusk-faults-describe',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
  }).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    const g = groups[0];
    const assigned: number[] = [];
    for (const m of g?.members ?? []) {
      const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      assigned.push(...(a?.assignment[topic] ?? []));
    }
    return { state: g?.state ?? 'Unknown', members: g?.members.length ?? 0, assigned: assigned.sort((x, y) => x - y) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** waitGroupStable waits until the group is Stable with `members` members covering all `partitions`. */
export async function waitGroupStable(
  group: string,
  topic: string,
  members: number,
  partitions: number,
  timeoutMs = 60_000,
): Promise<GroupView> {
  const deadline = Date.now() + timeoutMs;
  let last: GroupView | undefined;
  while (Date.now() < deadline) {
    last = await describeGroup(group, topic).catch(() => undefined);
    if (last && last.state === 'Stable' && last.members === members && new Set(last.assigned).size === partitions)
      return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(
    `group ${group} not stable with ${members} members over ${partitions} partitions after ${timeoutMs} ms: ${JSON.stringify(last)}`,
  );
}
