// The service graph: start order (exporters, processors, receivers) and the reverse on shutdown,
// fan-out to every exporter, logs routed to the exporters that take them, pipeline selection,
// roll-back when a component fails to start, readiness, and in-place reconfiguration.

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import {
  defineExporterFactory,
  defineProcessorFactory,
  defineReceiverFactory,
  type ReceiverNext,
} from '../../../pipeline/sdk/component';
import { FactoryRegistry } from '../../../pipeline/runtime/registry';
import { Service } from '../../../pipeline/runtime/service';
import { loadServiceConfig } from '../../../config/service/load';
import type { LogBatch, TraceBatch } from '../../../pipeline/sdk/trace-batch';

const events: string[] = [];
const received: Record<string, TraceBatch[]> = {};
const receivedLogs: Record<string, LogBatch[]> = {};
const receiverNexts: Record<string, ReceiverNext> = {};
const reconfigured: unknown[] = [];

const fakeReceiver = defineReceiverFactory({
  type: 'fake_in',
  configSchema: z.object({ fail_start: z.boolean().default(false) }).strict(),
  create: (s, config, next) => {
    receiverNexts[s.id] = next;
    return {
      async start() {
        if (config.fail_start) throw new Error('port taken');
        events.push(`start ${s.id}`);
      },
      async shutdown() {
        events.push(`stop ${s.id}`);
      },
    };
  },
});

const fakeProcessor = defineProcessorFactory({
  type: 'tag',
  configSchema: z.object({ label: z.string().default('x') }).strict(),
  create: (s, _config, next) => ({
    capabilities: { mutatesData: false },
    async start() {
      events.push(`start ${s.id}`);
    },
    async shutdown() {
      events.push(`stop ${s.id}`);
    },
    consumeTraces: (b, sig) => next.consumeTraces(b, sig),
    consumeLogs: (b, sig) => (next.consumeLogs ? next.consumeLogs(b, sig) : Promise.resolve()),
    reconfigure: (c: unknown) => {
      reconfigured.push(c);
    },
  }),
});

function exporterFactory(type: string, takesLogs: boolean) {
  return defineExporterFactory({
    type,
    configSchema: z.object({ ready: z.boolean().default(true) }).strict(),
    create: (s, config) => {
      const base = {
        capabilities: { mutatesData: false },
        async start() {
          events.push(`start ${s.id}`);
        },
        async shutdown() {
          events.push(`stop ${s.id}`);
        },
        health: () => ({ ready: config.ready, detail: config.ready ? 'ok' : 'backend unreachable' }),
        async consumeTraces(b: TraceBatch) {
          (received[s.id] ??= []).push(b);
        },
      };
      return takesLogs
        ? {
            ...base,
            async consumeLogs(b: LogBatch) {
              (receivedLogs[s.id] ??= []).push(b);
            },
          }
        : base;
    },
  });
}

const registry = new FactoryRegistry()
  .register(fakeReceiver as never)
  .register(fakeProcessor as never)
  .register(exporterFactory('traces_only', false) as never)
  .register(exporterFactory('both', true) as never);

let dir: string;
async function load(text: string) {
  const file = path.join(dir, `s-${Math.random().toString(36).slice(2)}.tsk`);
  fs.writeFileSync(file, text);
  return loadServiceConfig(file, { registry, env: {} });
}

const FILE = (opts: { failStart?: boolean; label?: string; ready?: boolean } = {}) => `
[receivers.in]
type: "fake_in"
fail_start: ${opts.failStart ? 'true' : 'false'}
[receivers.other]
type: "fake_in"
[processors.tag]
label: "${opts.label ?? 'x'}"
[exporters.jaegerish]
type: "traces_only"
ready: ${opts.ready === false ? 'false' : 'true'}
[exporters.kafkaish]
type: "both"
[pipelines.main]
receivers: ["in"]
processors: ["tag"]
exporters: ["jaegerish", "kafkaish"]
[pipelines.second]
receivers: ["other"]
exporters: ["kafkaish"]
`;

function newService(config: Awaited<ReturnType<typeof load>>, pipelines?: string[]) {
  return new Service(config, { pipelines, logger: pino({ level: 'silent' }), metrics: new Registry() });
}

const chunk = { traceId: '0af7651916cd43dd8448eb211c80319c', data: new Uint8Array([1, 2, 3]), spanCount: 1 };

describe('pipeline/runtime/service: the component graph', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-svc-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    events.length = 0;
    reconfigured.length = 0;
    for (const k of Object.keys(received)) delete received[k];
    for (const k of Object.keys(receivedLogs)) delete receivedLogs[k];
  });

  it('starts exporters, then processors, then receivers, and stops in the reverse order', async () => {
    const svc = newService(await load(FILE()));
    await svc.start();
    const starts = events.filter((e) => e.startsWith('start'));
    expect(starts.slice(0, 2)).to.have.members(['start exporters.jaegerish', 'start exporters.kafkaish']);
    expect(starts[2]).to.equal('start processors.tag@main');
    expect(starts.slice(3)).to.have.members(['start receivers.in', 'start receivers.other']);
    events.length = 0;
    await svc.shutdown();
    await svc.shutdown();
    const stops = events.filter((e) => e.startsWith('stop'));
    expect(stops).to.have.length(5);
    expect(stops.slice(0, 2)).to.have.members(['stop receivers.in', 'stop receivers.other']);
    expect(stops[2]).to.equal('stop processors.tag@main');
  });

  it('fans a batch out to every exporter and routes logs only to exporters that take them', async () => {
    const svc = newService(await load(FILE()));
    await svc.start();
    await receiverNexts['receivers.in'].traces.consumeTraces({ chunks: [chunk] });
    expect(received['exporters.jaegerish']).to.have.length(1);
    expect(received['exporters.kafkaish']).to.have.length(1);
    const logs = receiverNexts['receivers.in'].logs;
    expect(logs, 'pipeline carries logs to the exporter that takes them').to.not.equal(undefined);
    await logs!.consumeLogs({ chunks: [{ traceId: chunk.traceId, data: new Uint8Array([9]), recordCount: 1 }] });
    expect(receivedLogs['exporters.kafkaish']).to.have.length(1);
    expect(receivedLogs['exporters.jaegerish']).to.equal(undefined);
    await svc.shutdown();
  });

  it('runs only the selected pipeline and refuses an unknown one', async () => {
    const config = await load(FILE());
    const svc = newService(config, ['second']);
    await svc.start();
    expect(events).to.have.members(['start exporters.kafkaish', 'start receivers.other']);
    await svc.shutdown();
    expect(() => newService(config, ['nope'])).to.throw(/no pipeline named "nope".*main, second/);
  });

  it('rolls back what started when a component fails to start', async () => {
    const svc = newService(await load(FILE({ failStart: true })));
    let error: Error | undefined;
    await svc.start().catch((e: Error) => {
      error = e;
    });
    expect(error?.message).to.contain('receivers.in failed to start: port taken');
    expect(events.filter((e) => e.startsWith('stop'))).to.include.members([
      'stop exporters.jaegerish',
      'stop exporters.kafkaish',
      'stop processors.tag@main',
    ]);
  });

  it('reports readiness per component', async () => {
    const svc = newService(await load(FILE({ ready: false })));
    expect(svc.status().every((c) => !c.ready)).to.equal(true);
    await svc.start();
    const status = svc.status();
    expect(status.find((c) => c.id === 'exporters.jaegerish')).to.include({
      ready: false,
      detail: 'backend unreachable',
    });
    expect(status.find((c) => c.id === 'exporters.kafkaish')?.ready).to.equal(true);
    await svc.shutdown();
  });

  it('applies processor changes in place and refuses wiring changes', async () => {
    const svc = newService(await load(FILE()));
    await svc.start();
    expect(svc.reconfigure(await load(FILE({ label: 'y' })))).to.deep.equal([]);
    expect(reconfigured).to.deep.equal([{ label: 'y' }]);
    const rewired = (await load(FILE())).pipelines;
    const changed = await load(
      FILE({ label: 'z' }).replace('exporters: ["jaegerish", "kafkaish"]', 'exporters: ["kafkaish", "jaegerish"]'),
    );
    expect(rewired.size).to.equal(2);
    const problems = svc.reconfigure(changed);
    expect(problems.join('\n')).to.contain('pipeline "main" changed its wiring');
    expect(reconfigured).to.have.length(1);
    await svc.shutdown();
  });
});
