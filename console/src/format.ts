// Formatting helpers: durations, rates, bytes, times, and a stable colour per service.

/** fmtUs prints a duration given in microseconds. */
export function fmtUs(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** fmtRate prints a per-second rate. */
export function fmtRate(v: number): string {
  if (v === 0) return '0/s';
  if (v < 0.1) return `${v.toFixed(3)}/s`;
  if (v < 10) return `${v.toFixed(2)}/s`;
  return `${Math.round(v).toLocaleString('en')}/s`;
}

/** fmtBytes prints a byte count. */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** fmtTime prints a unix-ms time as local HH:MM:SS. */
export function fmtTime(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

/** fmtDate prints a unix-ms time with its date. */
export function fmtDate(ms: number): string {
  const d = new Date(ms);
  return `${d.toISOString().slice(0, 10)} ${fmtTime(ms)}`;
}

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#ff9da7',
  '#bab0ac',
  '#17becf',
];

/** serviceColor gives each service name the same colour every time. */
export function serviceColor(service: string): string {
  let h = 0;
  for (let i = 0; i < service.length; i++) h = (h * 31 + service.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}
