// The Helm chart as tests see it: renders deploy/helm/tusk-collector with the helm that scripts/stack/helm.sh
// builds, validates and decodes the manifests with scripts/k8s-validate, and turns a rendered workload's
// container into the local process the image would run: the Dockerfile's ENTRYPOINT and ENV, the
// container's args and env, its ConfigMap volumes written to a directory, its named ports and probes.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './collector-process';

export const CHART_DIR = path.join(REPO_ROOT, 'deploy', 'helm', 'tusk-collector');
const BIN = path.join(REPO_ROOT, 'bin', 'tusk-collector.js');

const tools = new Map<string, string>();

/** tool runs an installer script of the project (cached after the first build) and returns the binary's path. */
export function tool(script: string): string {
  let bin = tools.get(script);
  if (!bin) {
    const out = execFileSync('bash', [path.join(REPO_ROOT, script)], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    bin = out.trim().split('\n').pop()!;
    tools.set(script, bin);
  }
  return bin;
}

/** Result of running a command. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** run executes a binary with arguments (and stdin) and captures its output. */
export function run(bin: string, args: string[], input?: string): Run {
  const res = spawnSync(bin, args, { encoding: 'utf8', input, maxBuffer: 32 << 20 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** helm runs the project's helm. */
export function helm(args: string[]): Run {
  return run(tool('scripts/stack/helm.sh'), args);
}

/** render runs `helm template` with values files (relative to the chart) and returns the YAML; throws on error. */
export function render(valuesFiles: string[] = [], release = 't'): string {
  const args = ['template', release, CHART_DIR];
  for (const f of valuesFiles) args.push('-f', path.isAbsolute(f) ? f : path.join(CHART_DIR, f));
  const res = helm(args);
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** The parts of Kubernetes objects the tests read (as decoded by the API types). */
export interface HttpProbe {
  httpGet: { path: string; port: number | string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
export interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  emptyDir?: object;
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  affinity?: { podAntiAffinity?: object };
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the spec of its own kind
  spec?: any;
  data?: Record<string, string>;
}

/** Outcome of the validator on one manifest stream. */
export interface Validation extends Run {
  objects: K8sObject[];
}

/** validate checks a YAML stream strictly against the API types and returns the decoded objects. */
export function validate(yaml: string): Validation {
  const res = run(tool('scripts/k8s-validate/build.sh'), ['-json'], yaml);
  const objects = res.status === 0 ? (JSON.parse(res.stdout) as K8sObject[]) : [];
  return { ...res, objects };
}

/** find returns the one object of `kind` whose component label is `component` (or named `name`). */
export function find(objects: K8sObject[], kind: string, component?: string): K8sObject {
  const hits = objects.filter(
    (o) =>
      o.kind === kind && (component === undefined || o.metadata.labels?.['app.kubernetes.io/component'] === component),
  );
  if (hits.length !== 1)
    throw new Error(`expected one ${kind}${component ? ` (${component})` : ''}, found ${hits.length}`);
  return hits[0];
}

/** The image's runtime stage as the Dockerfile declares it. */
export interface ImageSpec {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  /** The HEALTHCHECK's CMD (exec form). */
  healthcheck: string[];
}

/** imageSpec reads ENTRYPOINT, CMD, ENV and HEALTHCHECK of the Dockerfile's last stage. */
export function imageSpec(dockerfile = path.join(REPO_ROOT, 'Dockerfile')): ImageSpec {
  // Line continuations are removed as Docker's parser removes them (backslash and newline, nothing added).
  const lines = fs.readFileSync(dockerfile, 'utf8').replace(/\\\n/g, '').split('\n');
  const last =
    lines
      .map((l, i) => (/^FROM\s/i.test(l) ? i : -1))
      .filter((i) => i >= 0)
      .pop() ?? 0;
  const spec: ImageSpec = { entrypoint: [], cmd: [], env: {}, healthcheck: [] };
  for (const line of lines.slice(last)) {
    const hc = /^HEALTHCHECK\s.*?\bCMD\s+(\[.*\])\s*$/.exec(line.trim());
    if (hc) spec.healthcheck = JSON.parse(hc[1]) as string[];
    const m = /^(ENTRYPOINT|CMD|ENV)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'ENV') {
      for (const kv of m[2].trim().split(/\s+/)) {
        const eq = kv.indexOf('=');
        if (eq > 0) spec.env[kv.slice(0, eq)] = kv.slice(eq + 1).replace(/^"|"$/g, '');
      }
    } else {
      const argv = JSON.parse(m[2]) as string[];
      if (m[1] === 'ENTRYPOINT') spec.entrypoint = argv;
      else spec.cmd = argv;
    }
  }
  return spec;
}

/** A workload's container turned into a local process. */
export interface LocalProcess {
  argv: string[];
  env: Record<string, string>;
  /** containerPort by port name. */
  ports: Map<string, number>;
  container: Container;
  pod: PodSpec;
}

/** expandEnv expands $(VAR) references to earlier variables, as the kubelet does. */
function expandEnv(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

/**
 * localProcess maps the pod of a Deployment to the command the image would run, with nothing added: the
 * ENTRYPOINT (tini dropped: it only forwards signals; `tusk-collector` is this checkout's bin), the
 * container's args, the image ENV overlaid with the container env, and each ConfigMap volume written
 * to `dir/<volume>` with mount paths in the arguments rewritten to it. Secret volumes and secret env
 * references are refused (the local run uses the variant without secrets).
 */
export function localProcess(
  deployment: K8sObject,
  objects: K8sObject[],
  dir: string,
  image = imageSpec(),
): LocalProcess {
  const pod = deployment.spec.template.spec as PodSpec;
  const c = pod.containers[0];
  let entry = c.command ?? image.entrypoint;
  if (entry[0]?.endsWith('/tini')) entry = entry.slice(entry[1] === '--' ? 2 : 1);
  if (entry[0] !== 'tusk-collector') throw new Error(`unexpected entrypoint ${JSON.stringify(entry)}`);
  const args = [...entry.slice(1), ...(c.args ?? image.cmd)];
  const mounted: Array<[string, string]> = [];
  for (const mount of c.volumeMounts ?? []) {
    const vol = pod.volumes?.find((v) => v.name === mount.name);
    if (!vol) throw new Error(`volumeMount ${mount.name} has no volume`);
    if (vol.secret) throw new Error(`secret volume ${vol.name} is not supported in a local run`);
    const local = path.join(dir, vol.name);
    fs.mkdirSync(local, { recursive: true });
    if (vol.configMap) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === vol.configMap!.name);
      if (!cm) throw new Error(`ConfigMap ${vol.configMap.name} is not in the rendered manifests`);
      for (const [file, text] of Object.entries(cm.data ?? {})) fs.writeFileSync(path.join(local, file), text);
    }
    mounted.push([mount.mountPath, local]);
  }
  // Each argument is rewritten once, by the longest mount path it lies under.
  mounted.sort((a, b) => b[0].length - a[0].length);
  const localArgs = args.map((a) => {
    const hit = mounted.find(([mp]) => a === mp || a.startsWith(mp + '/'));
    return hit ? hit[1] + a.slice(hit[0].length) : a;
  });
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image.env };
  for (const e of c.env ?? []) {
    if (e.valueFrom)
      throw new Error(`env ${e.name} comes from ${JSON.stringify(e.valueFrom)}: not supported in a local run`);
    env[e.name] = expandEnv(e.value ?? '', env);
  }
  const ports = new Map<string, number>();
  for (const p of c.ports ?? []) if (p.name) ports.set(p.name, p.containerPort);
  return { argv: [process.execPath, BIN, ...localArgs], env, ports, container: c, pod };
}

/** probeUrl resolves a probe's (possibly named) port to a loopback URL. */
export function probeUrl(probe: HttpProbe, ports: Map<string, number>): string {
  const port = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : ports.get(probe.httpGet.port);
  if (port === undefined) throw new Error(`probe port ${String(probe.httpGet.port)} is not a declared port`);
  return `http://127.0.0.1:${port}${probe.httpGet.path}`;
}
