// A time-series chart (uPlot) of one or more series of points that share sample times.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Point } from './api';

/** One line of a chart. */
export interface Line {
  label: string;
  color: string;
  points: Point[];
}

/** Chart draws `lines` over the time of their points (seconds on the x axis). */
export function Chart({ lines, height = 160, unit = '/s' }: { lines: Line[]; height?: number; unit?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = lines.map((l) => l.label).join('|');

  const data = (): uPlot.AlignedData => {
    const xs = lines[0]?.points.map((p) => p.t / 1000) ?? [];
    return [xs, ...lines.map((l) => l.points.map((p) => p.v))];
  };

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.parentElement?.clientWidth ?? el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#667' },
        { stroke: '#667', size: 60, values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}${unit}`) },
      ],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, fill: `${l.color}22` }))],
    };
    plot.current = new uPlot(opts, data(), el);
    const onResize = () =>
      plot.current?.setSize({ width: Math.max(200, el.parentElement?.clientWidth ?? el.clientWidth), height });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key, height]);

  useEffect(() => {
    plot.current?.setData(data());
    const el = host.current;
    const width = Math.max(200, el?.parentElement?.clientWidth ?? 0);
    if (plot.current && el && plot.current.width !== width) plot.current.setSize({ width, height });
  });

  const enough = (lines[0]?.points.length ?? 0) >= 2;
  return (
    <div class="chart" style={{ minHeight: `${height + 50}px` }}>
      {!enough && <p class="muted small chart-wait">Collecting samples…</p>}
      <div ref={host} style={{ display: enough ? 'block' : 'none' }} />
    </div>
  );
}
