// Tests of the OTTL condition parser: the forms the Collector's docs show parse; malformed conditions fail
// with an OttlParseError whose column points at the fault.

import { expect } from 'chai';
import {
  attributeKeysOf,
  OttlParseError,
  parseCondition,
} from '../../../../../processors/tail-sampling/policies/ottl/parser';

describe('tail_sampling policies: OTTL parser', () => {
  const valid: [string, 'span' | 'spanevent'][] = [
    ['attributes["test_attr_key_1"] == "test_attr_val_1"', 'span'],
    ['attributes["http.status_code"] >= 500 and attributes["http.status_code"] < 600', 'span'],
    ['name != "test_span_event_name"', 'spanevent'],
    ['attributes["test_event_attr_key_2"] != "test_event_attr_val_1"', 'spanevent'],
    ['kind == SPAN_KIND_SERVER or status.code == STATUS_CODE_ERROR', 'span'],
    ['not (name == "health" or IsMatch(name, "^/ready"))', 'span'],
    ['end_time_unix_nano - start_time_unix_nano > 5000000000', 'span'],
    ['IsMatch(resource.attributes["service.name"], "^checkout-.*")', 'span'],
    ['span.attributes["tenant"] == "acme" and name == "exception"', 'spanevent'],
    ['attributes["ratio"] > 0.5 and attributes["missing"] == nil', 'span'],
    ['true', 'span'],
    ['(1 + 2) * 3 == 9', 'span'],
  ];
  for (const [src, ctx] of valid) {
    it(`parses ${ctx}: ${src}`, () => {
      expect(() => parseCondition(src, ctx)).not.to.throw();
    });
  }

  const invalid: [string, number, RegExp][] = [
    ['attributes["a"] ==', 19, /expected a value after "=="/],
    ['attributes["a"] = "x"', 17, /unexpected character "="/],
    ['name == "x" and', 16, /expected a value, found the end/],
    ['name == "unterminated', 9, /string literal is not closed/],
    ['attributes == "x"', 1, /attributes need a key/],
    ['duration > 5', 1, /unsupported span path/],
    ['IsMatch(name, "[")', 15, /invalid regular expression/],
    ['Foo(name)', 1, /unknown function Foo/],
    ['kind == SPAN_KIND_NOPE', 9, /unknown enum SPAN_KIND_NOPE/],
    ['name', 5, /expected a comparison operator/],
    ['name == "a" name == "b"', 13, /after a complete condition/],
    ['', 1, /empty/],
    ['(name == "a"', 13, /expected "\)"/],
  ];
  for (const [src, column, message] of invalid) {
    it(`rejects ${JSON.stringify(src)} at column ${column}`, () => {
      let caught: unknown;
      try {
        parseCondition(src, 'span');
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(OttlParseError);
      expect((caught as OttlParseError).column).to.equal(column);
      expect((caught as OttlParseError).message).to.match(message);
      expect((caught as OttlParseError).message).to.match(new RegExp(`^column ${column}: `));
    });
  }

  it('lists the span and resource attribute keys a condition reads, not event attributes', () => {
    const e = parseCondition(
      'attributes["e"] == 1 and span.attributes["s"] == 2 or resource.attributes["r"] != nil',
      'spanevent',
    );
    expect([...attributeKeysOf(e)].sort()).to.deep.equal(['r', 's']);
  });
});
