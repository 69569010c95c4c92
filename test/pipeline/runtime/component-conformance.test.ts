// The same lifecycle checks for every built-in component type (style.md B11): the default config is
// well formed and a fresh object each time; shutdown is safe without start and idempotent; and, for
// components that need no outside service, create -> start -> shutdown works.

import { expect } from 'chai';
import pino from 'pino';
import { Registry } from 'prom-client';
import { builtinFactories } from '../../../pipeline/runtime/registry';
import type {
  AnyFactory,
  Component,
  ComponentSettings,
  ExporterFactory,
  Host,
  ProcessorFactory,
  ReceiverFactory,
  TracesConsumer,
} from '../../../pipeline/sdk/component';

const HOST: Host = {
  reportFatalError: (err) => {
    throw err;
  },
};
const NEXT: TracesConsumer & { consumeLogs: () => Promise<void> } = {
  capabilities: { mutatesData: false },
  consumeTraces: async () => undefined,
  consumeLogs: async () => undefined,
};

/** Config overrides so a component can start on loopback without outside services. */
const STARTABLE: Record<string, Record<string, unknown> | undefined> = {
  'receiver/otlp': { http: '127.0.0.1:0', grpc: '127.0.0.1:0' },
  'processor/tail_sampling': { policies: [{ name: 'all', type: 'always_sample' }] },
  'processor/spanmetrics': {},
  'exporter/debug': { path: '/dev/null' },
  'exporter/jaeger': {},
  'exporter/otlp': {},
};

function settings(id: string): ComponentSettings {
  return { id, name: id, logger: pino({ level: 'silent' }), metrics: new Registry() };
}

function build(f: AnyFactory, config: unknown): Component {
  const s = settings(`${f.kind}s.${f.type}`);
  if (f.kind === 'receiver') return (f as ReceiverFactory<unknown>).create(s, config, { traces: NEXT, logs: NEXT });
  if (f.kind === 'processor') return (f as ProcessorFactory<unknown>).create(s, config, NEXT);
  return (f as ExporterFactory<unknown>).create(s, config);
}

describe('pipeline: component conformance (every built-in factory)', () => {
  const registry = builtinFactories();
  const factories: AnyFactory[] = (['receiver', 'processor', 'exporter'] as const).flatMap((k) =>
    registry.types(k).map((t) => registry.get(k, t)!),
  );

  it('covers every kind', () => {
    expect(factories.map((f) => `${f.kind}/${f.type}`)).to.include.members([
      'receiver/otlp',
      'receiver/kafka',
      'processor/tail_sampling',
      'exporter/kafka',
      'exporter/jaeger',
      'exporter/otlp',
      'exporter/debug',
    ]);
  });

  for (const f of factories) {
    const key = `${f.kind}/${f.type}`;
    describe(key, () => {
      it('has a snake_case type and a default config that is a new object every call', () => {
        expect(f.type).to.match(/^[a-z][a-z0-9_]*$/);
        const a = f.createDefaultConfig() as unknown;
        const b = f.createDefaultConfig() as unknown;
        if (typeof a === 'object' && a !== null) expect(a).to.not.equal(b);
        expect(a).to.deep.equal(b);
      });

      it('rejects unknown keys', () => {
        expect(f.configSchema.safeParse({ definitely_not_a_key: 1 }).success).to.equal(false);
      });

      it('shuts down without start, twice', async () => {
        const overrides = STARTABLE[key] ?? {};
        const c = build(f, f.configSchema.parse(overrides));
        await c.shutdown();
        await c.shutdown();
      });

      if (STARTABLE[key]) {
        it('starts and shuts down (idempotently) on loopback', async () => {
          const c = build(f, f.configSchema.parse(STARTABLE[key]));
          await c.start(HOST);
          await Promise.all([c.shutdown(), c.shutdown()]);
          await c.shutdown();
        });
      }
    });
  }
});
