// Tests of the OTTL converters of ottl_condition (functions.ts) as the Collector's ottlfuncs v0.140.1 define
// them: type checks, conversions, string functions, ids and IsRootSpan, nil handling, run-time errors, and
// the config-time errors for unknown or unsupported functions (with "did you mean") and wrong arguments.

import { expect } from 'chai';
import { parseCondition, OttlParseError } from '../../../../../processors/tail-sampling/policies/ottl/parser';
import { OttlEvalError, test } from '../../../../../processors/tail-sampling/policies/ottl/evaluate';
import type { SpanSummary } from '../../../../../processors/tail-sampling/policies/types';
import { summary } from '../../helpers/fixtures';

const SPAN: SpanSummary = summary({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  parentSpanId: '',
  name: 'GET /Items',
  startUs: 1_000_000,
  endUs: 7_000_000,
  attributes: { s: 'Hello', n: 42, f: 2.5, b: true, num: '17', bad: 'x1', 'service.name': 'checkout' },
});

function holds(src: string, span: SpanSummary = SPAN): boolean {
  return test(parseCondition(src, 'span'), { span });
}

describe('tail_sampling policies: OTTL converters', () => {
  const truths = [
    'IsString(attributes["s"])',
    'not IsString(attributes["n"]) and not IsString(attributes["missing"])',
    'IsInt(attributes["n"]) and not IsInt(attributes["f"]) and not IsInt(attributes["num"])',
    'IsDouble(attributes["f"]) and not IsDouble(attributes["n"])',
    'IsBool(attributes["b"]) and not IsBool(attributes["s"])',
    'Len(attributes["s"]) == 5 and Len("é") == 2', // UTF-8 bytes, as Go's len
    'Int(attributes["num"]) == 17 and Int(attributes["f"]) == 2 and Int(attributes["bad"]) == nil',
    'Int(attributes["b"]) == 1 and Int(attributes["missing"]) == nil',
    'Double(attributes["n"]) == 42.0 and Double("1e3") == 1000 and IsDouble(Double(attributes["n"]))',
    'String(attributes["n"]) == "42" and String(attributes["b"]) == "true" and String(attributes["missing"]) == nil',
    'Concat([name, attributes["n"], attributes["missing"]], "|") == "GET /Items|42|<nil>"',
    'ToLowerCase(name) == "get /items" and ToUpperCase(attributes["s"]) == "HELLO"',
    'Substring(name, 4, 6) == "/Items"',
    'HasPrefix(name, "GET ") and HasSuffix(resource.attributes["service.name"], "out")',
    'IsRootSpan()',
    'trace_id.string == "0af7651916cd43dd8448eb211c80319c" and span_id.string == "b7ad6b7169203331"',
    'trace_id == TraceID(0x0af7651916cd43dd8448eb211c80319c) and span_id != SpanID(0x0000000000000001)',
    'parent_span_id.string == "" and trace_id != 0x0af7651916cd43dd8448eb211c80319c', // an id is not a literal
    'span.end_time_unix_nano - span.start_time_unix_nano > 5000000000',
    'IsMatch(attributes["n"], "^4") and not IsMatch(attributes["missing"], ".*")',
    'nil == nil and nil <= nil and false < true',
  ];
  for (const src of truths) {
    it(`holds: ${src}`, () => expect(holds(src)).to.equal(true));
  }

  it('IsRootSpan is false for a child span', () => {
    expect(holds('IsRootSpan()', { ...SPAN, parentSpanId: 'aaaaaaaaaaaaaaaa' })).to.equal(false);
  });

  const runtime: Array<[string, RegExp]> = [
    ['ToLowerCase(attributes["n"]) == "42"', /ToLowerCase: expected string but got int/],
    ['HasPrefix(attributes["missing"], "a")', /expected string but got nil/],
    ['Substring(name, 8, 5) == "x"', /greater than the length/],
    ['Substring(name, 0, 0) == "x"', /cannot be negative or zero/],
    ['Len(attributes["n"]) == 2', /Len: target must be a string/],
    ['Double(attributes["bad"]) > 1', /cannot parse "x1" as a float/],
  ];
  for (const [src, message] of runtime) {
    it(`fails at run time (error_mode decides): ${src}`, () => {
      expect(() => holds(src)).to.throw(OttlEvalError, message);
    });
  }

  const configErrors: Array<[string, 'span' | 'spanevent', number, RegExp]> = [
    ['IsMatc(name, "a")', 'span', 1, /unknown function IsMatc; did you mean IsMatch\?/],
    ['ToLowercase(name) == "a"', 'span', 1, /did you mean ToLowerCase\?/],
    ['Frobnicate(name)', 'span', 1, /unknown function Frobnicate \(supported: IsMatch/],
    ['SHA256(name) == "x"', 'span', 1, /SHA256 is an OTTL converter conditions here do not support/],
    ['IsMap(attributes["m"])', 'span', 1, /IsMap is not supported: attribute maps are read as their JSON text/],
    ['name == "a" and IsRootSpan()', 'spanevent', 17, /IsRootSpan exists in the span context only/],
    ['Len(name)', 'span', 10, /Len returns a value, not a boolean/],
    ['IsString(name, 1)', 'span', 14, /IsString\(target\) takes 1 argument/],
    ['HasPrefix(name)', 'span', 15, /HasPrefix\(target, prefix\) needs its prefix argument|expected ","/],
    ['trace_id == TraceID(0x0102)', 'span', 21, /TraceID\(bytes\): bytes must be 16 bytes/],
    ['span_id == SpanID("ab")', 'span', 19, /must be a bytes literal/],
    ['trace_id == 0x123', 'span', 13, /even number of hex digits/],
    ['Concat(name, "-") == "x"', 'span', 8, /expected "\[" to open/],
    ['set(attributes["x"], 1)', 'span', 1, /set is an OTTL editor/],
  ];
  for (const [src, ctx, column, message] of configErrors) {
    it(`config error at column ${column}: ${src}`, () => {
      let caught: unknown;
      try {
        parseCondition(src, ctx);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(OttlParseError);
      expect((caught as OttlParseError).message).to.match(message);
      expect((caught as OttlParseError).column).to.equal(column);
    });
  }
});
