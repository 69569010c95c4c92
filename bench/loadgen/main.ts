// The benchmark load generator, run as its own process (so its CPU is never counted as the system's):
//
//   npx tsx bench/loadgen/main.ts --http http://127.0.0.1:4318/v1/traces [options]
//   npx tsx bench/loadgen/main.ts --grpc 127.0.0.1:4317 [options]
//
//   --profile small|prod     span profile (default small: ~260 B/span; prod: ~1.7 KB/span)
//   --rate N                 offered spans/s; 0 = as fast as the target accepts (default 0)
//   --max-spans N            stop after N spans were claimed for sending (default 100000)
//   --max-seconds S          stop claiming new requests after S seconds (default 60)
//   --concurrency C          requests in flight at most (default 8)
//   --seed N                 workload seed: same seed, same requests and trace ids (default 1)
//   --spans-per-request N    request size, about (default 256)
//
// Loopback targets only. Refused requests (HTTP 429/502/503/504, gRPC UNAVAILABLE/RESOURCE_EXHAUSTED,
// connection errors) are retried after Retry-After or a short backoff, like an SDK would, until the run's
// time bound plus 30 s. The summary is one JSON line on stdout. With an IPC channel (spawned by
// bench/run.ts) it also reports every accepted request: { g0, n, at, keep } (see templates.ts).

import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { quantile } from '../lib/sink';
import { buildPool, materialize, type MaterializedRequest } from './templates';
import type { Profile } from './model';

interface Args {
  http?: string;
  grpc?: string;
  profile: Profile;
  rate: number;
  maxSpans: number;
  maxSeconds: number;
  concurrency: number;
  seed: number;
  spansPerRequest: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    profile: 'small',
    rate: 0,
    maxSpans: 100_000,
    maxSeconds: 60,
    concurrency: 8,
    seed: 1,
    spansPerRequest: 256,
  };
  for (let k = 0; k < argv.length; k++) {
    const v = argv[k + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${argv[k]}: expected a number, got ${v}`);
      k++;
      return n;
    };
    switch (argv[k]) {
      case '--http':
        a.http = v;
        k++;
        break;
      case '--grpc':
        a.grpc = v;
        k++;
        break;
      case '--profile':
        if (v !== 'small' && v !== 'prod') throw new Error('--profile small|prod');
        a.profile = v;
        k++;
        break;
      case '--rate':
        a.rate = num();
        break;
      case '--max-spans':
        a.maxSpans = num();
        break;
      case '--max-seconds':
        a.maxSeconds = num();
        break;
      case '--concurrency':
        a.concurrency = Math.max(1, Math.floor(num()));
        break;
      case '--seed':
        a.seed = Math.floor(num());
        break;
      case '--spans-per-request':
        a.spansPerRequest = Math.max(1, Math.floor(num()));
        break;
      default:
        throw new Error(`unknown argument ${argv[k]}`);
    }
  }
  if ((a.http === undefined) === (a.grpc === undefined))
    throw new Error('give exactly one of --http URL or --grpc HOST:PORT');
  const host = a.http ? new URL(a.http).hostname : a.grpc!.split(':')[0];
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`loopback targets only, got ${host}`);
  return a;
}

type Outcome = { ok: true } | { ok: false; retry: boolean; retryAfterMs: number; why: string };

interface Transport {
  send(body: Buffer): Promise<Outcome>;
  close(): void;
}

const RETRIABLE_HTTP = new Set([429, 502, 503, 504]);

function httpTransport(url: string, concurrency: number): Transport {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  return {
    send: (body) =>
      new Promise<Outcome>((resolve) => {
        const req = http.request(
          {
            agent,
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: 'POST',
            timeout: 60_000,
            headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              const code = res.statusCode ?? 0;
              if (code === 200) return resolve({ ok: true });
              const ra = Number(res.headers['retry-after']);
              resolve({
                ok: false,
                retry: RETRIABLE_HTTP.has(code),
                retryAfterMs: Number.isFinite(ra) ? Math.min(ra * 1000, 1000) : 100,
                why: `http ${code}`,
              });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', (err) => resolve({ ok: false, retry: true, retryAfterMs: 200, why: err.message }));
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function grpcTransport(target: string): Transport {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 << 20,
    'grpc.max_receive_message_length': 64 << 20,
  });
  const identity = (b: Buffer) => b;
  return {
    send: (body) =>
      new Promise<Outcome>((resolve) => {
        client.makeUnaryRequest(
          EXPORT_PATH,
          identity,
          identity,
          body,
          new grpc.Metadata(),
          { deadline: Date.now() + 60_000 },
          (err) => {
            if (!err) return resolve({ ok: true });
            const retry =
              err.code === grpc.status.UNAVAILABLE ||
              err.code === grpc.status.RESOURCE_EXHAUSTED ||
              err.code === grpc.status.DEADLINE_EXCEEDED;
            resolve({ ok: false, retry, retryAfterMs: 200, why: `grpc ${grpc.status[err.code] ?? err.code}` });
          },
        );
      }),
    close: () => client.close(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tBuild = Date.now();
  const pool = buildPool({ seed: args.seed, profile: args.profile, spansPerRequest: args.spansPerRequest });
  const buildMs = Date.now() - tBuild;
  const transport = args.http ? httpTransport(args.http, args.concurrency) : grpcTransport(args.grpc!);
  const ipc = typeof process.send === 'function';
  let ipcQueue: Array<[number, number, number, number[]]> = [];
  const flushIpc = () => {
    if (ipc && ipcQueue.length > 0) {
      process.send!({ type: 'accepted', requests: ipcQueue });
      ipcQueue = [];
    }
  };
  const ipcTimer = ipc ? setInterval(flushIpc, 100) : undefined;

  const stats = {
    requests: 0,
    acceptedRequests: 0,
    acceptedSpans: 0,
    acceptedTraces: 0,
    acceptedTraceResources: 0,
    acceptedBytes: 0,
    mustKeepTraces: 0,
    retries: 0,
    failedRequests: 0,
    failedSpans: 0,
    lateClaims: 0,
    reasons: {} as Record<string, number>,
  };
  const start = Date.now();
  const stopClaimingAt = start + args.maxSeconds * 1000;
  const giveUpAt = stopClaimingAt + 30_000;
  let k = 0;
  let g = 0;
  let claimedSpans = 0;
  let nextDue = start;
  let firstAcceptAt = 0;
  let lastAcceptAt = 0;
  /** Milliseconds from sending an accepted request to its answer (bounded: one per accepted request). */
  const latenciesMs: number[] = [];

  const claim = async (): Promise<MaterializedRequest | undefined> => {
    if (claimedSpans >= args.maxSpans || Date.now() >= stopClaimingAt) return undefined;
    const tpl = pool.templates[k % pool.templates.length];
    const req = materialize(pool, k, g, args.seed);
    k++;
    g += tpl.traces.length;
    claimedSpans += tpl.spans;
    if (args.rate > 0) {
      const due = nextDue;
      nextDue += (tpl.spans / args.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -100) stats.lateClaims++;
    }
    return req;
  };

  const worker = async (): Promise<void> => {
    for (let req = await claim(); req; req = await claim()) {
      stats.requests++;
      for (;;) {
        const at = Date.now();
        const out = await transport.send(req.body);
        if (out.ok) {
          const now = Date.now();
          if (firstAcceptAt === 0) firstAcceptAt = at;
          lastAcceptAt = now;
          latenciesMs.push(now - at);
          stats.acceptedRequests++;
          stats.acceptedSpans += req.spans;
          stats.acceptedTraces += req.traces;
          stats.acceptedTraceResources += req.traceResources;
          stats.acceptedBytes += req.body.length;
          stats.mustKeepTraces += req.mustKeep.length;
          if (ipc) ipcQueue.push([req.g0, req.traces, at, req.mustKeep]);
          break;
        }
        stats.reasons[out.why] = (stats.reasons[out.why] ?? 0) + 1;
        if (!out.retry || Date.now() + out.retryAfterMs > giveUpAt) {
          stats.failedRequests++;
          stats.failedSpans += req.spans;
          break;
        }
        stats.retries++;
        await sleep(out.retryAfterMs);
      }
    }
  };

  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const end = Date.now();
  transport.close();
  if (ipcTimer) clearInterval(ipcTimer);
  flushIpc();
  const elapsedS = (end - start) / 1000;
  const summary = {
    type: 'summary',
    transport: args.http ? 'http' : 'grpc',
    profile: args.profile,
    seed: args.seed,
    rate: args.rate,
    concurrency: args.concurrency,
    bytesPerSpan: Math.round(pool.bytesPerSpan),
    spansPerTrace: Number(pool.spansPerTrace.toFixed(2)),
    poolBuildMs: buildMs,
    startMs: start,
    endMs: end,
    firstAcceptMs: firstAcceptAt,
    lastAcceptMs: lastAcceptAt,
    elapsedS,
    acceptedSpansPerS: Math.round(stats.acceptedSpans / Math.max(1e-3, (lastAcceptAt - start) / 1000)),
    offeredSpansPerS: Math.round(claimedSpans / Math.max(1e-3, elapsedS)),
    cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    latencyP50Ms: quantile(latenciesMs, 0.5) ?? 0,
    latencyP99Ms: quantile(latenciesMs, 0.99) ?? 0,
    ...stats,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  if (ipc) process.send!(summary, () => process.disconnect());
}

main().catch((err: unknown) => {
  process.stderr.write(`loadgen: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
