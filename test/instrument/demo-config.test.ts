// The configuration files the docs and the demo point to stay valid: examples/demo/tracing.tsk through
// the kit, examples/demo/adaptive.tsk (the seed's adaptive rules as a tail-sampling policy) through
// the collector's own loader; and the demo's scenario mix keeps slow requests under 5%.

import { expect } from 'chai';
import path from 'node:path';
import { loadServiceConfig } from '../../config/service/load';
import { builtinFactories } from '../../pipeline/runtime/registry';
import { resolveTracingConfig } from '../../instrument';
import { COMPACT_CYCLE, DEMO_MIX, SCENARIO_CYCLE, cycleOf } from '../../examples/demo/scenarios';

const DEMO = path.join(__dirname, '..', '..', 'examples', 'demo');

describe('instrument: the demo and docs configuration files', () => {
  it('examples/demo/tracing.tsk gives each service its name and ports from the environment', () => {
    const c = resolveTracingConfig(path.join(DEMO, 'tracing.tsk'), {
      env: { SERVICE_NAME: 'payment', METRICS_PORT: '9465', TRACING_ENDPOINT: 'http://127.0.0.1:5318' },
    });
    expect(c).to.deep.include({
      serviceName: 'payment',
      backend: 'otlp',
      endpoint: 'http://127.0.0.1:5318/v1/traces',
      samplingRate: 1,
      metricsPort: 9465,
      traceDurationMetric: 'trace_duration_ms',
      correlation: true,
    });
    const defaults = resolveTracingConfig(path.join(DEMO, 'tracing.tsk'), { env: { SERVICE_NAME: 'order' } });
    expect(defaults.endpoint).to.equal('http://127.0.0.1:4318/v1/traces');
    expect(
      resolveTracingConfig(path.join(DEMO, 'tracing.tsk'), { env: { SERVICE_NAME: 'x', TRACING_BACKEND: 'jaeger' } })
        .endpoint,
    ).to.equal('http://127.0.0.1:14268/api/traces');
  });

  it('examples/demo/adaptive.tsk is a valid pipeline whose policy holds the seed multipliers', async () => {
    const config = await loadServiceConfig(path.join(DEMO, 'adaptive.tsk'), { registry: builtinFactories(), env: {} });
    const sampler = config.components.get('processors.tail_sampling');
    expect(sampler, 'tail_sampling component').to.not.equal(undefined);
    const policies = (sampler!.config as { policies: Array<Record<string, unknown>> }).policies;
    expect(policies).to.have.length(1);
    expect(policies[0]).to.include({
      name: 'adaptive',
      type: 'adaptive',
      base_rate: 0.1,
      error_multiplier: 2,
      slow_multiplier: 1.5,
      use_error_boost: false,
    });
  });

  it('spreads the demo mix over 40 orders with slow ones under 5%, and the compact cycle has every scenario', () => {
    expect(SCENARIO_CYCLE).to.have.length(40);
    const n = (cycle: readonly string[], s: string) => cycle.filter((x) => x === s).length;
    for (const [s, count] of Object.entries(DEMO_MIX)) expect(n(SCENARIO_CYCLE, s), s).to.equal(count);
    expect(n(SCENARIO_CYCLE, 'slow-inventory') / SCENARIO_CYCLE.length).to.be.below(0.05);
    // evenly spread: the two payment errors are about half a cycle apart
    const idx = SCENARIO_CYCLE.flatMap((s, i) => (s === 'payment-error' ? [i] : []));
    expect(idx[1] - idx[0]).to.be.closeTo(20, 2);
    expect(new Set(COMPACT_CYCLE).size).to.equal(5);
    expect(
      cycleOf({ ok: 1, 'payment-error': 1, 'inventory-error': 0, 'slow-inventory': 0, invalid: 0 }),
    ).to.have.members(['ok', 'payment-error']);
  });
});
