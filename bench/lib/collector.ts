// Starting and stopping the processes under test, shared by the benchmarks (run.ts through systems.ts, wal.ts,
// console.ts): a process writes its output to a log file, is ready when a condition holds (for our collector:
// its log says "tusk-collector: running"), and a failure to start quotes the end of that log.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Root of the repository. */
export const REPO = path.resolve(__dirname, '..', '..');
/** What our collector prints once every component started. */
export const RUNNING = 'tusk-collector: running';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tail is the last `lines` lines of a log file ('' when it cannot be read). */
export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** waitFor polls `cond` every 100 ms; throws with the log's tail when the process exits first or on timeout. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  child: ChildProcess,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${what}: process exited (${child.exitCode ?? child.signalCode}) before it was ready; ` +
          `log ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready after ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
    await sleep(100);
  }
}

/** stopProcess sends SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(timeoutMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  }
}

/** Options of startCollector. */
export interface StartCollectorOptions {
  /** Name in error messages (e.g. "ours sample"). */
  readonly what: string;
  /** The pipeline file. */
  readonly file: string;
  /** Where stdout and stderr go. */
  readonly logFile: string;
  /** Path of bin/tusk-collector.js; default the repository's. */
  readonly bin?: string;
  /** More arguments of `run` (e.g. --pipeline ingest). */
  readonly args?: readonly string[];
  /** Node flags (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Added to this process's environment; TUSK_LOG_LEVEL defaults to warn. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** A started collector. */
export interface StartedCollector {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 30 s). */
  stop(timeoutMs?: number): Promise<void>;
}

/** startCollector runs `tusk-collector run <file>` and resolves once its log says it is running. */
export async function startCollector(o: StartCollectorOptions): Promise<StartedCollector> {
  const out = fs.openSync(o.logFile, 'w');
  const child = spawn(
    process.execPath,
    [...(o.nodeFlags ?? []), o.bin ?? path.join(REPO, 'bin', 'tusk-collector.js'), 'run', o.file, ...(o.args ?? [])],
    {
      cwd: o.cwd ?? REPO,
      env: { ...process.env, TUSK_LOG_LEVEL: 'warn', ...o.env },
      stdio: ['ignore', out, out],
    },
  );
  fs.closeSync(out);
  try {
    await waitFor(o.what, () => tail(o.logFile, 200).includes(RUNNING), child, o.logFile, o.timeoutMs);
  } catch (err) {
    await stopProcess(child, 5000);
    throw err;
  }
  return { child, pid: child.pid!, logFile: o.logFile, stop: (t) => stopProcess(child, t) };
}
