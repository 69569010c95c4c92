// Conformance cases T1-T15 of the TuskLang dialect specification (inputs verbatim in fixtures.ts): each input
// must produce exactly the expected nested JSON (key order included), and T15 must report its malformed lines.

import { expect } from 'chai';
import { parseTsk, type TskParseResult } from '../../../config/tsk/parser';
import { CASES, PIPELINE, T_ENV } from './fixtures';

/** parse runs the parser with the environment of T8. */
function parse(src: string): TskParseResult {
  return parseTsk(src, { file: 't.tsk', env: T_ENV });
}

/** same checks deep equality and the key order of every object. */
function same(actual: unknown, expected: unknown): void {
  expect(actual).to.deep.equal(expected);
  expect(JSON.stringify(actual)).to.equal(JSON.stringify(expected));
}

describe('tsk conformance (dialect specification T1-T15)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      same(parse(c.src).data, JSON.parse(c.expected));
    });
  }

  it('T1-T14 report no diagnostics except the undefined forward reference of T6', () => {
    for (const c of CASES.slice(0, 14)) {
      const diags = parse(c.src).diagnostics;
      if (c.name.startsWith('T6')) {
        expect(diags.map((d) => [d.code, d.line, d.column])).to.deep.equal([['TSK_UNDEFINED_VARIABLE', 1, 8]]);
      } else {
        expect(diags, c.name).to.deep.equal([]);
      }
    }
  });

  it('T15 reports lines 3, 4 and 5 (and the unknown operator on line 13) with line and column', () => {
    const diags = parse(CASES[14].src).diagnostics;
    expect(diags.map((d) => [d.line, d.column, d.code])).to.deep.equal([
      [3, 1, 'TSK_IGNORED_LINE'],
      [4, 1, 'TSK_IGNORED_LINE'],
      [5, 1, 'TSK_EMPTY_VALUE'],
      [13, 8, 'TSK_UNKNOWN_OPERATOR'],
    ]);
    expect(diags.every((d) => d.file === 't.tsk' && d.severity === 'warning')).to.equal(true);
    expect(diags[1].message).to.match(/9lives/);
  });

  it('T8 falls back to process.env when no env option is given, read at call time', () => {
    const name = `TSK_CONF_${process.pid}`;
    process.env[name] = 'from-process';
    try {
      expect(parseTsk(`v: @env("${name}", "d")`).data).to.deep.equal({ v: 'from-process' });
    } finally {
      delete process.env[name];
    }
    expect(parseTsk(`v: @env("${name}", "d")`).data).to.deep.equal({ v: 'd' });
  });

  describe('project seed files', () => {
    const SEED = [
      '[tracing]',
      'backend: jaeger',
      'endpoint: @env("JAEGER_ENDPOINT")',
      'sampling_rate: @env("SAMPLING_RATE", 0.1)',
      'service_name: @env("SERVICE_NAME")',
      'metrics: @metrics("trace_duration_ms", 0)',
      'correlation: @go("tracing.CorrelateLogs")',
    ].join('\n');

    it('parses the tracing seed with its variables unset (only @go is reported)', () => {
      const r = parseTsk(SEED, { file: 'seed.tsk', env: {} });
      same(r.data, {
        tracing: {
          backend: 'jaeger',
          endpoint: '',
          sampling_rate: '0.1',
          service_name: '',
          metrics: 0,
          correlation: '@go("tracing.CorrelateLogs")',
        },
      });
      expect(r.diagnostics.map((d) => [d.line, d.column, d.code, d.severity])).to.deep.equal([
        [7, 14, 'TSK_UNKNOWN_OPERATOR', 'warning'],
      ]);
    });

    it('parses the tracing seed with its variables set', () => {
      const env = { JAEGER_ENDPOINT: 'http://127.0.0.1:14268/api/traces', SAMPLING_RATE: '0.25', SERVICE_NAME: 'svc' };
      same(parseTsk(SEED, { env }).data, {
        tracing: {
          backend: 'jaeger',
          endpoint: 'http://127.0.0.1:14268/api/traces',
          sampling_rate: '0.25',
          service_name: 'svc',
          metrics: 0,
          correlation: '@go("tracing.CorrelateLogs")',
        },
      });
    });

    it('parses the architecture.md pipeline example without diagnostics', () => {
      const r = parseTsk(PIPELINE, { env: {} });
      expect(r.diagnostics).to.deep.equal([]);
      expect((r.data.processors as Record<string, Record<string, unknown>>).tail_sampling.policies).to.have.length(3);
      expect((r.data.exporters as Record<string, Record<string, unknown>>).spans.brokers).to.deep.equal([
        '127.0.0.1:9092',
      ]);
      expect(r.positions.get('processors.tail_sampling.policies[2].name')).to.deep.equal({
        file: '<input>',
        line: 14,
        column: 5,
      });
    });
  });
});
