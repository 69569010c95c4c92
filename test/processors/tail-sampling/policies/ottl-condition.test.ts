// Table-driven tests of the ottl_condition policy: OTTL comparison rules, span and span-event conditions,
// and error_mode (propagate: a policy error; ignore/silent: the failing condition is false).

import { expect } from 'chai';
import { OttlCondition } from '../../../../processors/tail-sampling/policies/ottl-condition';
import type { OttlConditionConfig } from '../../../../processors/tail-sampling/policies/config';
import type { SpanSummary } from '../../../../processors/tail-sampling/policies/types';
import { summary, view } from '../helpers/fixtures';

const span = (over: Partial<SpanSummary> & { startMs?: number; durationMs?: number } = {}): SpanSummary => {
  const own =
    over.details?.attributes ?? (over.attributes as Record<string, string | number | boolean> | undefined) ?? {};
  return summary({
    ...over,
    attributes: { ...own, ...over.attributes },
    details: { attributes: own, events: over.details?.events ?? [] },
  });
};

const cfg = (o: Partial<OttlConditionConfig>): OttlConditionConfig => ({
  type: 'ottl_condition',
  error_mode: 'propagate',
  span: [],
  spanevent: [],
  ...o,
});

describe('tail_sampling policies: ottl_condition', () => {
  const checkout = span({
    name: 'GET /cart',
    kind: 2,
    statusCode: 2,
    durationMs: 1500,
    attributes: { 'http.status_code': 503, 'http.route': '/cart', ratio: 0.75 },
  });
  const health = span({
    name: 'GET /health',
    kind: 3,
    statusCode: 1,
    durationMs: 2,
    attributes: { 'http.route': '/health' },
  });
  const withEvent = span({
    name: 'work',
    details: {
      attributes: { tenant: 'acme' },
      events: [{ name: 'exception', timeUs: 1, attributes: { 'exception.type': 'Timeout' } }],
    },
  });

  const cases: { name: string; c: Partial<OttlConditionConfig>; spans: SpanSummary[]; want: string }[] = [
    {
      name: 'string equality',
      c: { span: ['attributes["http.route"] == "/cart"'] },
      spans: [health, checkout],
      want: 'sampled',
    },
    {
      name: 'int comparison',
      c: { span: ['attributes["http.status_code"] >= 500'] },
      spans: [checkout],
      want: 'sampled',
    },
    {
      name: 'float vs int',
      c: { span: ['attributes["ratio"] > 0 and attributes["ratio"] < 1'] },
      spans: [checkout],
      want: 'sampled',
    },
    {
      name: 'different types never equal',
      c: { span: ['attributes["http.status_code"] == "503"'] },
      spans: [checkout],
      want: 'not_sampled',
    },
    {
      name: 'different types are !=',
      c: { span: ['attributes["http.status_code"] != "503"'] },
      spans: [checkout],
      want: 'sampled',
    },
    {
      name: 'missing is nil',
      c: { span: ['attributes["nope"] == nil and name == "GET /health"'] },
      spans: [health],
      want: 'sampled',
    },
    { name: 'nil is not ordered', c: { span: ['attributes["nope"] < 1'] }, spans: [health], want: 'not_sampled' },
    {
      name: 'kind and status enums',
      c: { span: ['kind == SPAN_KIND_SERVER and status.code == STATUS_CODE_ERROR'] },
      spans: [checkout],
      want: 'sampled',
    },
    {
      name: 'duration by time math',
      c: { span: ['end_time_unix_nano - start_time_unix_nano > 1000000000'] },
      spans: [health, checkout],
      want: 'sampled',
    },
    {
      name: 'duration below',
      c: { span: ['end_time_unix_nano - start_time_unix_nano > 1000000000'] },
      spans: [health],
      want: 'not_sampled',
    },
    { name: 'IsMatch on name', c: { span: ['IsMatch(name, "^GET /he")'] }, spans: [health], want: 'sampled' },
    { name: 'not', c: { span: ['not IsMatch(name, "health")'] }, spans: [health], want: 'not_sampled' },
    {
      name: 'conditions are ORed',
      c: { span: ['name == "x"', 'name == "GET /health"'] },
      spans: [health],
      want: 'sampled',
    },
    { name: 'span event name', c: { spanevent: ['name == "exception"'] }, spans: [health, withEvent], want: 'sampled' },
    {
      name: 'span event attribute',
      c: { spanevent: ['attributes["exception.type"] == "Timeout" and span.attributes["tenant"] == "acme"'] },
      spans: [withEvent],
      want: 'sampled',
    },
    { name: 'no events, no match', c: { spanevent: ['name == "exception"'] }, spans: [health], want: 'not_sampled' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new OttlCondition(cfg(c.c)).evaluate(view(c.spans));
      expect(d.verdict, d.reason).to.equal(c.want);
    });
  }

  it('reads span attributes, not a resource attribute of the same key', () => {
    // The index merges resource attributes in; the span's own attributes (details) do not have the key.
    const s = summary({ attributes: { 'service.name': 'api' }, details: { attributes: {}, events: [] } });
    const d = new OttlCondition(cfg({ span: ['attributes["service.name"] == "api"'] })).evaluate(view([s]));
    expect(d.verdict).to.equal('not_sampled');
    const r = new OttlCondition(cfg({ span: ['resource.attributes["service.name"] == "api"'] })).evaluate(view([s]));
    expect(r.verdict).to.equal('sampled');
  });

  it('error_mode propagate: a run-time failure throws (a policy error)', () => {
    const p = new OttlCondition(cfg({ span: ['attributes["http.route"] - 1 > 0'] }));
    expect(() => p.evaluate(view([checkout]))).to.throw(/math needs numbers/);
  });

  it('error_mode ignore / silent: the failing condition is false, the others still count', () => {
    for (const mode of ['ignore', 'silent'] as const) {
      const p = new OttlCondition(
        cfg({ error_mode: mode, span: ['attributes["http.route"] - 1 > 0', 'name == "GET /cart"'] }),
      );
      expect(p.evaluate(view([checkout])).verdict).to.equal('sampled');
      const q = new OttlCondition(cfg({ error_mode: mode, span: ['attributes["http.route"] - 1 > 0'] }));
      const d = q.evaluate(view([checkout]));
      expect(d.verdict).to.equal('not_sampled');
      expect(d.inputs).to.deep.equal({ errors: 1 });
    }
  });
});
