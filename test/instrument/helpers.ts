// Test doubles for the instrumentation kit: an in-memory span exporter that keeps its spans across
// shutdown, a metric reader that collects on demand, a log sink for pino, and small HTTP helpers.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { MetricReader, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';

/** RetainingExporter is the SDK's InMemorySpanExporter, except that shutdown keeps the spans (to check what shutdown flushed). */
export class RetainingExporter extends InMemorySpanExporter {
  override shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /** byName returns the finished spans called `name`. */
  byName(name: string): ReadableSpan[] {
    return this.getFinishedSpans().filter((s) => s.name === name);
  }
}

/** TestMetricReader collects on demand (the SDK's MetricReader with no-op hooks). */
export class TestMetricReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** metric returns the collected metric called `name`, or undefined. */
  async metric(name: string): Promise<MetricData | undefined> {
    const { resourceMetrics } = await this.collect();
    for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) return m;
    return undefined;
  }

  /** total sums a counter's points (or a histogram's counts) whose attributes include `match`. */
  async total(name: string, match: Record<string, unknown> = {}): Promise<number> {
    const m = await this.metric(name);
    if (!m) return 0;
    let sum = 0;
    for (const p of m.dataPoints) {
      if (!Object.entries(match).every(([k, v]) => p.attributes[k] === v)) continue;
      sum += m.dataPointType === DataPointType.HISTOGRAM ? (p.value as { count: number }).count : (p.value as number);
    }
    return sum;
  }
}

/** LogSink is a pino destination that keeps the parsed JSON lines. */
export class LogSink extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    cb();
  }
}

/** listen starts `handler` on an ephemeral loopback port and returns its base URL and a close function. */
export async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** waitFor polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
