// Process accounting from /proc, the same for every system under test: CPU = utime + stime of the
// process (all its threads), memory = VmRSS now and VmHWM (peak RSS) from /proc/<pid>/status.

import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks = 0;
/** clockTicks is sysconf(_SC_CLK_TCK), the unit of utime/stime (100 on Linux). */
function clockTicks(): number {
  if (ticks === 0) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcSample {
  /** utime + stime, seconds. */
  cpuS: number;
  rssBytes: number;
  hwmBytes: number;
}

/** readProc samples one process; undefined when it is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuS: (utime + stime) / clockTicks(), rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** loadAverage is /proc/loadavg's 1, 5 and 15 minute figures. */
export function loadAverage(): [number, number, number] {
  const f = fs.readFileSync('/proc/loadavg', 'utf8').split(' ');
  return [Number(f[0]), Number(f[1]), Number(f[2])];
}

/** machineCpuS is the whole machine's busy CPU time (all cores), seconds: to see how busy the box was. */
export function machineCpuS(): { busyS: number; totalS: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = line[3] + (line[4] ?? 0);
  return { busyS: (total - idle) / clockTicks(), totalS: total / clockTicks() };
}
