// The same lifecycle checks for every exporter factory of this folder set: type names, fresh default configs
// that validate, create -> start -> shutdown, shutdown without start, double shutdown, and batches refused
// after shutdown. Nothing here talks to a backend (start opens no connection).

import { expect } from 'chai';
import type { ExporterFactory } from '../../../../pipeline/sdk/component';
import { ShutdownError } from '../../../../pipeline/sdk/errors';
import { factory as debugFactory } from '../../../../exporters/debug/factory';
import { factory as jaegerFactory } from '../../../../exporters/jaeger/factory';
import { factory as otlpFactory } from '../../../../exporters/otlp/factory';
import { batchOf, chunkOf, newTraceId, resourceSpans, settings, span } from './fixtures';

const host = { reportFatalError() {} };
const factories: Array<[string, ExporterFactory<unknown>]> = [
  ['jaeger', jaegerFactory as ExporterFactory<unknown>],
  ['otlp', otlpFactory as ExporterFactory<unknown>],
  ['debug', debugFactory as ExporterFactory<unknown>],
];

describe('exporters: lifecycle conformance', () => {
  for (const [type, f] of factories) {
    describe(type, () => {
      it(`declares type "${type}" and kind exporter; default configs are new objects that validate`, () => {
        expect(f.type).to.equal(type);
        expect(f.kind).to.equal('exporter');
        const a = f.createDefaultConfig();
        const b = f.createDefaultConfig();
        expect(a).to.not.equal(b);
        expect(a).to.deep.equal(b);
        expect(f.configSchema.safeParse({}).success).to.equal(true);
        expect(f.configSchema.safeParse({ no_such_key: true }).success).to.equal(false);
      });

      it('create -> start -> shutdown, shutdown twice (also concurrently), refuses batches afterwards', async () => {
        const exp = f.create(settings(`exporters.${type}`), f.createDefaultConfig());
        expect(exp.capabilities.mutatesData).to.equal(false);
        await exp.start(host);
        await Promise.all([exp.shutdown(), exp.shutdown()]);
        await exp.shutdown();
        const traceId = newTraceId();
        const err = await exp
          .consumeTraces(batchOf(chunkOf(traceId, [resourceSpans('svc', [span({ traceId, name: 'x' })])])))
          .catch((e: unknown) => e);
        expect(err).to.be.instanceOf(ShutdownError);
      });

      it('shuts down without having started', async () => {
        const exp = f.create(settings(`exporters.${type}`), f.createDefaultConfig());
        await exp.shutdown();
        await exp.shutdown();
      });
    });
  }
});
