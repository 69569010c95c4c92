// Benchmark of detaching (receivers/kafka/dispatcher.ts detachOld, processors/tail-sampling processor
// _detachAged): what a slow trace costs in memory when chunks are held as views of their Kafka fetch.
// The real Kafka receiver's Dispatcher and the real tail sampler (memory state) run in one process on a
// simulated clock: every 250 ms one 1 MiB "fetch response" of keyed trace messages arrives; 10% of the
// traces have no root span, so they wait decision_wait (10 s) while the rest are decided at
// root_settle_delay (2 s). Measured after a full GC once per simulated second: the ArrayBuffer bytes the
// process retains, against the bytes the sampler accounts for (tusk_sampler_bytes_buffered), and the CPU of
// the whole run. Baseline in the same run: the same code with detaching off. Ratios, not absolute figures.
// Run: npx tsx bench/detach.ts [seconds] [rootless-percent]

import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { Registry } from 'prom-client';
import { encodeTraces, type OtlpResourceSpans, type OtlpSpan } from '../pipeline/sdk/otlp';
import { configSchema } from '../processors/tail-sampling/config';
import { TailSamplingProcessor } from '../processors/tail-sampling/processor';
import { MemorySamplingState } from '../processors/tail-sampling/state/memory';
import { Dispatcher, type DeliveryEntry } from '../receivers/kafka/dispatcher';
import { KafkaReceiverMetrics } from '../receivers/kafka/metrics';
import { PartitionState } from '../receivers/kafka/partition';

const STEP_MS = 250;
const FETCH_BYTES = 1 << 20;
const SPANS_PER_TRACE = 10;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** traceMessage encodes one trace of SPANS_PER_TRACE spans (~2.5 KB), with or without its root span. */
function traceMessage(rootless: boolean): { traceId: string; data: Uint8Array } {
  const traceId = randomBytes(16).toString('hex');
  const root = randomBytes(8).toString('hex');
  const spans: OtlpSpan[] = [];
  for (let i = 0; i < SPANS_PER_TRACE; i++) {
    spans.push({
      traceId,
      spanId: i === 0 ? root : randomBytes(8).toString('hex'),
      parentSpanId: i === 0 ? (rootless ? randomBytes(8).toString('hex') : '') : root,
      traceState: '',
      flags: 1,
      kind: 2,
      name: `GET /api/item/${i}`,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_050_000_000n,
      attributes: [{ key: 'http.route', value: { type: 'string', value: `/api/item/${i}/${'x'.repeat(120)}` } }],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
      status: { code: 0, message: '' },
    });
  }
  const rs: OtlpResourceSpans[] = [
    {
      resource: {
        attributes: [{ key: 'service.name', value: { type: 'string', value: 'checkout' } }],
        droppedAttributesCount: 0,
        entityRefs: [],
      },
      schemaUrl: '',
      scopeSpans: [
        { scope: { name: 'bench', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans },
      ],
    },
  ];
  return { traceId, data: encodeTraces(rs) };
}

interface Result {
  readonly retainedMiB: number;
  readonly peakRetainedMiB: number;
  readonly accountedMiB: number;
  readonly cpuMs: number;
  readonly detachedMessages: number;
}

async function run(detach: boolean, seconds: number, rootlessRate: number): Promise<Result> {
  const clock = { now: 1_700_000_000_000 };
  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  const settings = { id: 'processors.tail_sampling', name: 'tail_sampling', logger, metrics: registry };
  const config = configSchema.parse({ policies: [{ name: 'tenth', type: 'probabilistic', percentage: 10 }] });
  const state = new MemorySamplingState({ ledgerMaxEntries: 100_000, now: () => clock.now });
  const sink = { capabilities: { mutatesData: false }, consumeTraces: async () => undefined };
  const sampler = new TailSamplingProcessor(settings, config, sink, {
    state,
    now: () => clock.now,
    autoTick: false,
    detachAgeMs: detach ? undefined : Number.POSITIVE_INFINITY,
  });
  await sampler.start({ reportFatalError: () => undefined });
  const metrics = new KafkaReceiverMetrics(registry, 'receivers.kafka');
  const part = new PartitionState('otlp_spans', 0, 'traces');
  const dispatcher = new Dispatcher(
    sampler,
    undefined,
    { settled: () => undefined, retryStateChanged: () => undefined },
    { detachAfterMs: detach ? 5_000 : 0, now: () => clock.now },
    logger,
    metrics,
  );

  let offset = 0;
  const retained: number[] = [];
  const accounted: number[] = [];
  const warmupSteps = Math.ceil(12_000 / STEP_MS); // past decision_wait: the buffer is in steady state
  const steps = Math.ceil((seconds * 1000) / STEP_MS);
  const cpu0 = process.cpuUsage();
  for (let step = 0; step < steps; step++) {
    // One fetch response: messages packed into one 1 MiB buffer, handed on as views of it (as kafkajs decodes them).
    const fetch = Buffer.allocUnsafe(FETCH_BYTES);
    const entries: DeliveryEntry[] = [];
    let at = 0;
    for (;;) {
      const m = traceMessage(Math.random() < rootlessRate);
      if (at + m.data.byteLength + 32 > FETCH_BYTES) break;
      const key = fetch.subarray(at, at + 32);
      key.write(m.traceId, 'latin1');
      at += 32;
      const value = fetch.subarray(at, at + m.data.byteLength);
      value.set(m.data);
      at += m.data.byteLength;
      part.watermark.track(offset, value.byteLength + 32);
      entries.push({ offset, key, value, traces: [{ traceId: m.traceId, data: value, spanCount: SPANS_PER_TRACE }] });
      offset++;
    }
    dispatcher.dispatch(part, entries);
    clock.now += STEP_MS;
    await sampler.tick();
    dispatcher.detachOld();
    if (step >= warmupSteps && step % (1000 / STEP_MS) === 0) {
      const cpuPause = process.cpuUsage();
      gc();
      retained.push(process.memoryUsage().arrayBuffers);
      accounted.push(sampler.stats().bytes);
      cpu0.user += process.cpuUsage(cpuPause).user; // the measurement's GC is not the system's cost
    }
  }
  const used = process.cpuUsage(cpu0);
  const detachedMessages =
    (await registry.getSingleMetric('tusk_kafka_detached_messages_total')?.get())?.values[0]?.value ?? 0;
  dispatcher.stop();
  await sampler.shutdown();
  const mib = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length / 2 ** 20;
  return {
    retainedMiB: mib(retained),
    peakRetainedMiB: Math.max(...retained) / 2 ** 20,
    accountedMiB: mib(accounted),
    cpuMs: (used.user + used.system) / 1000,
    detachedMessages,
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 40);
  const rootlessPercent = Number(process.argv[3] ?? 10);
  if (!(seconds >= 15 && seconds <= 600) || !(rootlessPercent >= 0 && rootlessPercent <= 100))
    throw new Error('usage: bench/detach.ts [seconds 15-600] [rootless-percent 0-100]');
  const rows: [string, Result][] = [];
  for (let round = 0; round < 2; round++) {
    for (const detach of round === 0 ? [false, true] : [true, false]) {
      const r = await run(detach, seconds, rootlessPercent / 100);
      rows.push([detach ? 'detach' : 'views only', r]);
      process.stderr.write(
        `[detach] round ${round + 1} ${detach ? 'detach' : 'views only'}: retained ${r.retainedMiB.toFixed(1)} MiB (peak ${r.peakRetainedMiB.toFixed(1)}), accounted ${r.accountedMiB.toFixed(1)} MiB, cpu ${r.cpuMs.toFixed(0)} ms, detached ${r.detachedMessages}\n`,
      );
    }
  }
  const median = (mode: string, f: (r: Result) => number) => {
    const xs = rows
      .filter(([m]) => m === mode)
      .map(([, r]) => f(r))
      .sort((a, b) => a - b);
    return (xs[0] + xs[xs.length - 1]) / 2;
  };
  const fmt = (x: number) => x.toFixed(1).padStart(9);
  console.log(
    `detach benchmark: ${seconds} s simulated, 1 MiB fetch every ${STEP_MS} ms, ${rootlessPercent}% of traces without a root (wait decision_wait 10 s)`,
  );
  console.log('                                          views only     detach   ratio');
  for (const [label, f] of [
    ['ArrayBuffer MiB retained (mean, after GC)', (r: Result) => r.retainedMiB],
    ['ArrayBuffer MiB retained (peak)', (r: Result) => r.peakRetainedMiB],
    ['MiB the sampler accounts for', (r: Result) => r.accountedMiB],
    ['retained / accounted', (r: Result) => r.retainedMiB / r.accountedMiB],
    ['CPU ms for the run', (r: Result) => r.cpuMs],
  ] as const) {
    const a = median('views only', f);
    const b = median('detach', f);
    console.log(`${label.padEnd(42)}${fmt(a)} ${fmt(b)}   ${(b / a).toFixed(2)}x`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
