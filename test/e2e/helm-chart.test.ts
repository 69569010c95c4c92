// The Helm chart (deploy/helm/tusk-collector): `helm lint` and `helm template` for the default values and each
// documented variant (ci/*-values.yaml: embedded, cluster with SASL, ServiceMonitor), every manifest validated
// strictly against the Kubernetes API types (scripts/k8s-validate), the chart's promises checked on the
// rendered objects, and the Dockerfile linted. Then the rendered ingest and sampler workloads run as local
// processes, with exactly the command line, environment, config file, ports and probes they declare, against
// the real stack: the probes answer, a trace sent to the ingest Service's port reaches Jaeger, and SIGTERM
// drains within the grace period while a replacement sampler (a rolling restart) loses no trace.

import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/collector-process';
import { freePort } from '../helpers/ports';
import { createProtoClient, sendTrace, type SdkClient } from '../helpers/sdk-client';
import { waitForTrace } from '../helpers/jaeger';
import { portOpen } from '../helpers/stack';
import { deleteGroups, deleteTopics } from '../helpers/kafka-topic';
import { deletePrefix } from '../helpers/redis-keys';
import {
  CHART_DIR,
  find,
  helm,
  imageSpec,
  localProcess,
  probeUrl,
  render,
  run,
  tool,
  validate,
  type HttpProbe,
  type K8sObject,
  type LocalProcess,
  type PodSpec,
} from '../helpers/helm-chart';

const VARIANTS = fs
  .readdirSync(path.join(CHART_DIR, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const BIN = path.join(REPO_ROOT, 'bin', 'tusk-collector.js');

function renderValid(valuesFiles: string[] = []): K8sObject[] {
  const v = validate(render(valuesFiles));
  expect(v.status, v.stdout + v.stderr).to.equal(0);
  return v.objects;
}

function podOf(o: K8sObject): PodSpec {
  return o.spec.template.spec as PodSpec;
}

function writeValues(dir: string, name: string, values: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(values, null, 2)); // JSON is YAML
  return file;
}

describe('helm chart: lint, render, validate', function () {
  this.timeout(120_000);
  let tmp: string;

  before(function () {
    this.timeout(30 * 60_000); // a cold machine builds helm and the validator first (cached afterwards)
    tool('scripts/stack/helm.sh');
    tool('scripts/k8s-validate/build.sh');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-helm-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('documents the embedded, SASL and ServiceMonitor variants in ci/', () => {
    expect(VARIANTS).to.include.members(['embedded-values.yaml', 'sasl-values.yaml', 'servicemonitor-values.yaml']);
  });

  for (const variant of ['(default values)', ...VARIANTS]) {
    const files = variant.startsWith('(') ? [] : [`ci/${variant}`];
    it(`${variant}: helm lint --strict, strict API validation, and its pipeline file validates`, () => {
      const lintArgs = ['lint', '--strict', CHART_DIR, ...files.flatMap((f) => ['-f', path.join(CHART_DIR, f)])];
      const lint = helm(lintArgs);
      expect(lint.status, lint.stdout + lint.stderr).to.equal(0);
      expect(lint.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      const objects = renderValid(files);
      expect(objects.length).to.be.greaterThan(3);
      const file = path.join(tmp, `${variant}.tsk`);
      fs.writeFileSync(file, find(objects, 'ConfigMap').data!['pipeline.tsk']);
      const check = run(process.execPath, [BIN, 'validate', '--strict', file]);
      expect(check.status, check.stderr).to.equal(0);
    });
  }

  it('the validator is strict: an unknown field, a wrong type, a bad quantity and an unknown kind fail', () => {
    const yaml = render();
    expect(validate(yaml).status).to.equal(0);
    const broken: Array<[string, string]> = [
      [
        yaml.replace(
          'automountServiceAccountToken: false',
          'automountServiceAccountToken: false\nautomountToken: true',
        ),
        'unknown field',
      ],
      [yaml.replace('containerPort: 4317', 'containerPort: "4317"'), 'of type int32'],
      [yaml.replace('cpu: 500m', 'cpu: 5 cores'), 'quantities must match'],
      [yaml.replace('kind: PodDisruptionBudget', 'kind: PodDisruptionBudgetX'), 'unknown kind'],
    ];
    for (const [text, message] of broken) {
      const v = validate(text);
      expect(v.status, message).to.equal(1);
      expect(v.stderr).to.include(message);
    }
  });

  it('ingest: Service on 4317 (grpc) and 4318 (http) with appProtocol, a CPU HPA on its Deployment, a PDB', () => {
    const objects = renderValid();
    const svc = find(objects, 'Service', 'ingest');
    const ports = svc.spec.ports as Array<{ name: string; port: number; targetPort: string; appProtocol: string }>;
    expect(ports.map((p) => [p.port, p.targetPort, p.appProtocol])).to.deep.equal([
      [4317, 'otlp-grpc', 'grpc'],
      [4318, 'otlp-http', 'http'],
    ]);
    const deploy = find(objects, 'Deployment', 'ingest');
    expect(svc.spec.selector).to.deep.equal(deploy.spec.selector.matchLabels);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'ingest');
    expect(hpa.spec.scaleTargetRef).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deploy.metadata.name,
    });
    expect(hpa.spec.metrics[0].resource.name).to.equal('cpu');
    expect(deploy.spec.replicas, 'the HPA owns the replica count').to.equal(undefined);
    find(objects, 'PodDisruptionBudget', 'ingest');
  });

  it('sampler: replicas capped at the partition count, PDB, soft anti-affinity by default', () => {
    const objects = renderValid();
    expect(find(objects, 'Deployment', 'sampler').spec.replicas).to.equal(2);
    expect(podOf(find(objects, 'Deployment', 'sampler')).affinity?.podAntiAffinity).to.have.property(
      'preferredDuringSchedulingIgnoredDuringExecution',
    );
    expect(find(objects, 'PodDisruptionBudget', 'sampler').spec.maxUnavailable).to.equal(1);
    const capped = renderValid([writeValues(tmp, 'cap.yaml', { sampler: { replicas: 20 }, kafka: { partitions: 6 } })]);
    expect(find(capped, 'Deployment', 'sampler').spec.replicas).to.equal(6);
    expect(find(capped, 'ConfigMap').data!['pipeline.tsk']).to.include('partitions: 6');
  });

  it('pods: non-root, no privilege escalation, read-only root fs; grace period > preStop + drain', () => {
    const objects = renderValid();
    const tsk = find(objects, 'ConfigMap').data!['pipeline.tsk'];
    const drain = Number(/shutdown_timeout: "(\d+)s"/.exec(tsk)![1]);
    for (const tier of ['ingest', 'sampler']) {
      const pod = podOf(find(objects, 'Deployment', tier));
      const c = pod.containers[0];
      expect(pod.securityContext?.runAsNonRoot, tier).to.equal(true);
      expect(c.securityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      const preStop = Number(c.lifecycle!.preStop!.exec!.command[1]);
      expect(preStop, tier).to.be.greaterThan(0);
      expect(pod.terminationGracePeriodSeconds!, tier).to.be.greaterThan(preStop + drain);
      expect(c.livenessProbe!.httpGet.path).to.equal('/healthz');
      expect(c.readinessProbe!.httpGet.path).to.equal('/readyz');
      expect(c.env!.find((e) => e.name === 'TUSK_ADMIN_ENDPOINT')!.value).to.equal('0.0.0.0:13133');
    }
  });

  it('a config change changes the checksum annotation (pods roll); a replica change does not', () => {
    const sum = (objects: K8sObject[]) =>
      find(objects, 'Deployment', 'sampler').spec.template.metadata.annotations['checksum/config'] as string;
    const base = sum(renderValid());
    const policies = [{ name: 'all', type: 'probabilistic', percentage: 100 }];
    expect(sum(renderValid([writeValues(tmp, 'p.yaml', { sampling: { policies } })]))).to.not.equal(base);
    expect(sum(renderValid([writeValues(tmp, 'r.yaml', { sampler: { replicas: 3 } })]))).to.equal(base);
  });

  it('cluster with SASL: passwords come from Secrets by reference, never inlined', () => {
    const objects = renderValid(['ci/sasl-values.yaml']);
    const tsk = find(objects, 'ConfigMap').data!['pipeline.tsk'];
    expect(tsk).to.include('password: @env("KAFKA_SASL_PASSWORD")');
    expect(tsk).to.include('ca_file: "/etc/tusk-collector/kafka-tls/ca.crt"');
    const sampler = podOf(find(objects, 'Deployment', 'sampler'));
    const env = sampler.containers[0].env!;
    expect(env.find((e) => e.name === 'KAFKA_SASL_PASSWORD')!.valueFrom).to.deep.equal({
      secretKeyRef: { name: 'tusk-kafka-sasl', key: 'password' },
    });
    expect(env.find((e) => e.name === 'REDIS_PASSWORD')!.valueFrom).to.deep.equal({
      secretKeyRef: { name: 'tusk-redis', key: 'redis-password' },
    });
    expect(env.find((e) => e.name === 'REDIS_URL')!.value).to.equal('redis://:$(REDIS_PASSWORD)@redis-master:6379');
    expect(sampler.volumes!.find((v) => v.name === 'kafka-tls')!.secret).to.deep.equal({
      secretName: 'tusk-kafka-tls',
    });
    expect(
      objects.filter((o) => o.kind === 'Secret'),
      'the chart creates no Secret',
    ).to.have.length(0);
    expect(find(objects, 'Deployment', 'sampler').spec.replicas).to.equal(4);
  });

  it('embedded: one pod, no Kafka and no Redis in its pipeline, OTLP Service', () => {
    const objects = renderValid(['ci/embedded-values.yaml']);
    const deploy = find(objects, 'Deployment', 'embedded');
    expect(deploy.spec.replicas).to.equal(1);
    expect(objects.filter((o) => o.kind === 'Deployment')).to.have.length(1);
    const tsk = find(objects, 'ConfigMap').data!['pipeline.tsk'];
    expect(tsk)
      .to.include('state: "memory"')
      .and.not.match(/kafka|redis/i);
    // Crash-safe: the write-ahead log first, on the pod's state volume.
    expect(tsk).to.include('processors: ["wal", "spanmetrics", "tail_sampling"]');
    expect(tsk).to.include('dir: "/var/lib/tusk-collector/wal"');
    const mounts = podOf(deploy).containers[0].volumeMounts as Array<{ name: string; mountPath: string }>;
    expect(mounts).to.deep.include({ name: 'state', mountPath: '/var/lib/tusk-collector' });
    expect(deploy.spec.strategy.type).to.equal('RollingUpdate');
    const claimValues = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-chart-')), 'claim.yaml');
    fs.writeFileSync(claimValues, 'embedded:\n  wal:\n    persistence:\n      existingClaim: wal\n');
    const claimed = find(renderValid(['ci/embedded-values.yaml', claimValues]), 'Deployment', 'embedded');
    expect(claimed.spec.strategy.type).to.equal('Recreate');
    expect(podOf(claimed).volumes).to.deep.include({ name: 'state', persistentVolumeClaim: { claimName: 'wal' } });
    expect(podOf(deploy).containers[0].args).to.not.include('--pipeline');
    expect(find(objects, 'Service', 'embedded').spec.ports.map((p: { port: number }) => p.port)).to.deep.equal([
      4317, 4318,
    ]);
  });

  it('ServiceMonitor: selects the metrics Service by its labels and scrapes its admin port', () => {
    const objects = renderValid(['ci/servicemonitor-values.yaml']);
    const sm = find(objects, 'ServiceMonitor');
    const metrics = find(objects, 'Service', 'metrics');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>))
      expect(metrics.metadata.labels![k], k).to.equal(v);
    expect(sm.spec.endpoints[0]).to.include({ port: 'admin', path: '/metrics' });
    expect(metrics.spec.ports[0]).to.include({ name: 'admin', targetPort: 'admin' });
    expect(podOf(find(objects, 'Deployment', 'ingest')).containers[0].ports!.map((p) => p.name)).to.include('admin');
  });

  it('Dockerfile: hadolint finds nothing, and does flag a bad Dockerfile', () => {
    const hadolint = tool('scripts/stack/hadolint.sh');
    const ok = run(hadolint, [path.join(REPO_ROOT, 'Dockerfile')]);
    expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
    const bad = path.join(tmp, 'Dockerfile.bad');
    fs.writeFileSync(bad, 'FROM node:latest\nRUN apt-get update && apt-get install -y curl\nCMD node app.js\n');
    const flagged = run(hadolint, [bad]);
    expect(flagged.status).to.not.equal(0);
    expect(flagged.stdout).to.match(/DL3007/);
    const image = imageSpec();
    expect(image.entrypoint).to.deep.equal(['/usr/bin/tini', '--', 'tusk-collector']);
    expect(fs.existsSync(path.join(REPO_ROOT, image.cmd[1])), `CMD's config ${image.cmd[1]}`).to.equal(true);
  });
});

/** A rendered workload running as a local process. */
interface Running {
  name: string;
  spec: LocalProcess;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
}

function start(name: string, spec: LocalProcess): Running {
  const child = spawn(spec.argv[0], spec.argv.slice(1), {
    cwd: REPO_ROOT,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  return { name, spec, child, output: () => out, exited };
}

async function get(url: string, timeoutSeconds: number): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000) })).status;
  } catch {
    return 0;
  }
}

/** waitProbe polls a probe at its declared period until it answers 200; resolves with the ms it took. */
async function waitProbe(p: Running, probe: HttpProbe, budgetMs: number): Promise<number> {
  const url = probeUrl(probe, p.spec.ports);
  const t0 = Date.now();
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}):\n${p.output()}`);
    if ((await get(url, probe.timeoutSeconds ?? 1)) === 200) return Date.now() - t0;
    if (Date.now() - t0 > budgetMs) throw new Error(`${p.name}: ${url} not 200 after ${budgetMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** stop sends SIGTERM (as the kubelet does after preStop) and resolves with the exit code and the drain time. */
async function stop(p: Running, killAfterMs: number): Promise<{ code: number | string; ms: number }> {
  const t0 = Date.now();
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), killAfterMs);
  try {
    return { code: await p.exited, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

describe('helm chart on the real stack: the rendered tiers as local processes', function () {
  this.timeout(180_000);
  const id = `${process.pid}-${Date.now().toString(36)}`;
  const names = {
    topic: `helm-e2e-${id}`,
    group: `helm-e2e-${id}`,
    prefix: `helm-e2e:${id}:`,
    service: `helm-e2e-${id}`,
  };
  let tmp: string;
  let objects: K8sObject[];
  let ingest: Running | undefined;
  const samplers: Running[] = [];
  let client: SdkClient | undefined;
  let drainBudgetMs = 0;
  let unusedPort = 0;

  before(async function () {
    this.timeout(30 * 60_000);
    for (const [svc, port] of [
      ['Kafka', 9092],
      ['Redis', 6379],
      ['Jaeger thrift', 14268],
      ['Jaeger query', 16686],
    ] as const) {
      expect(await portOpen(port), `${svc} on 127.0.0.1:${port} (start the stack: npm run stack:up)`).to.equal(true);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-helm-run-'));
    unusedPort = await freePort();
    const [grpc, http, ingestAdmin, samplerAdmin] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    // Only what differs from a cluster: loopback listeners and free ports (two pods share this host), the
    // local stack's addresses, this run's topic/group/prefix, single-broker replication.
    const values = writeValues(tmp, 'local.yaml', {
      listenAddress: '127.0.0.1',
      logLevel: 'warn',
      kafka: {
        brokers: ['127.0.0.1:9092'],
        topic: names.topic,
        samplerGroup: names.group,
        partitions: 2,
        replicationFactor: 1,
      },
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: names.prefix },
      exporter: { type: 'jaeger', jaeger: { endpoint: 'http://127.0.0.1:14268/api/traces' } },
      ingest: { ports: { otlpGrpc: grpc, otlpHttp: http, admin: ingestAdmin } },
      sampler: { ports: { admin: samplerAdmin } },
    });
    objects = renderValid([values]);
    const spec = (tier: string) => localProcess(find(objects, 'Deployment', tier), objects, path.join(tmp, tier));
    const pod = podOf(find(objects, 'Deployment', 'sampler'));
    drainBudgetMs =
      (pod.terminationGracePeriodSeconds! - Number(pod.containers[0].lifecycle!.preStop!.exec!.command[1])) * 1000;
    ingest = start('ingest', spec('ingest'));
    samplers.push(start('sampler-0', spec('sampler')));
  });

  after(async () => {
    await client?.shutdown().catch(() => undefined);
    for (const p of [ingest, ...samplers]) if (p) await stop(p, 5_000);
    await deleteGroups([names.group]);
    await deleteTopics([names.topic]);
    await deletePrefix(names.prefix).catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs exactly the declared command line: the image entrypoint with the container args and env', () => {
    const spec = ingest!.spec;
    expect(spec.argv.slice(2, 3)).to.deep.equal(['run']);
    expect(spec.argv[3]).to.equal(path.join(tmp, 'ingest', 'config', 'pipeline.tsk'));
    expect(spec.argv.slice(4)).to.deep.equal(['--pipeline', 'ingest', '--watch']);
    expect(samplers[0].spec.argv.slice(4)).to.deep.equal(['--pipeline', 'sample', '--watch']);
    expect(spec.env.TUSK_ADMIN_ENDPOINT).to.equal(`127.0.0.1:${spec.ports.get('admin')}`);
    expect(spec.env).to.not.have.property('KAFKA_BROKERS'); // everything else comes from the rendered file
  });

  it('liveness and readiness answer as declared, and the scrape annotations point at /metrics', async () => {
    for (const p of [ingest!, samplers[0]]) {
      const { livenessProbe, readinessProbe } = p.spec.container;
      // The kubelet restarts a pod whose liveness fails failureThreshold times after initialDelaySeconds.
      const live = livenessProbe!;
      const liveBudget =
        ((live.initialDelaySeconds ?? 0) + (live.periodSeconds ?? 10) * (live.failureThreshold ?? 3)) * 1000;
      await waitProbe(p, live, liveBudget);
      await waitProbe(p, readinessProbe!, 60_000);
      const ann = find(objects, 'Deployment', p === ingest ? 'ingest' : 'sampler').spec.template.metadata
        .annotations as Record<string, string>;
      const res = await fetch(`http://127.0.0.1:${ann['prometheus.io/port']}${ann['prometheus.io/path']}`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.include('tusk_process_');
    }
  });

  it("the image's HEALTHCHECK command passes against a running tier", () => {
    const [exe, ...args] = imageSpec().healthcheck;
    expect(exe).to.equal('node');
    const res = spawnSync(process.execPath, args, { env: ingest!.spec.env, encoding: 'utf8', timeout: 10_000 });
    expect(res.status, res.stderr).to.equal(0);
    const down = spawnSync(process.execPath, args, {
      env: { ...ingest!.spec.env, TUSK_ADMIN_ENDPOINT: `127.0.0.1:${unusedPort}` },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(down.status, 'nothing listens there').to.equal(1);
  });

  it('a trace sent to the ingest Service port reaches Jaeger through Kafka and the sampler', async () => {
    const svcPort = (find(objects, 'Service', 'ingest').spec.ports as Array<{ name: string; targetPort: string }>).find(
      (p) => p.name === 'otlp-http',
    )!;
    const port = ingest!.spec.ports.get(svcPort.targetPort)!;
    client = createProtoClient(names.service, `http://127.0.0.1:${port}/v1/traces`);
    const traceId = sendTrace(client.tracer, { rootName: 'GET /helm', durationMs: 20, children: 2, errorChild: 1 });
    await client.flush();
    const t = await waitForTrace(traceId, 3, 45_000);
    expect(t, `trace ${traceId} in Jaeger\n${samplers[0].output()}`).to.not.equal(undefined);
    expect(t!.spans).to.have.length(3);
    expect(t!.processes[t!.spans[0].processID].serviceName).to.equal(names.service);
  });

  it('SIGTERM drains within the grace period; a replacement sampler (rolling restart) loses no trace', async () => {
    // A trace in flight: acknowledged by the ingest tier, not yet decided (root_settle_delay) when the sampler stops.
    const inflight = sendTrace(client!.tracer, {
      rootName: 'GET /helm/rolling',
      durationMs: 15,
      children: 1,
      errorChild: 0,
    });
    await client!.flush();
    const old = await stop(samplers[0], drainBudgetMs + 5_000);
    expect(old.code, samplers[0].output()).to.equal(0);
    expect(old.ms, 'sampler drain').to.be.lessThan(drainBudgetMs);
    const next = start(
      'sampler-1',
      localProcess(find(objects, 'Deployment', 'sampler'), objects, path.join(tmp, 'sampler-1')),
    );
    samplers.push(next);
    await waitProbe(next, next.spec.container.readinessProbe!, 60_000);
    const t = await waitForTrace(inflight, 2, 45_000);
    expect(
      t,
      `in-flight trace ${inflight} in Jaeger after the restart\n${samplers[0].output()}${next.output()}`,
    ).to.not.equal(undefined);
    for (const p of [ingest!, next]) {
      const r = await stop(p, drainBudgetMs + 5_000);
      expect(r.code, `${p.name}\n${p.output()}`).to.equal(0);
      expect(r.ms, `${p.name} drain`).to.be.lessThan(drainBudgetMs);
    }
  });
});
