// Randomized equality of appendSpanAttributes (two-pass exact-size copy) with the former Writer-based
// implementation (stamp-reference.ts): same bytes on SDK-encoded requests for random attribute sets that
// add new keys and replace existing ones (several per span, first/middle/last), and the same outcome
// (same bytes, or both an OtlpDecodeError) on mutated and truncated requests.

import { expect } from 'chai';
import { appendSpanAttributes } from '../../../../pipeline/sdk/otlp/stamp';
import type { AttrValue } from '../../../../pipeline/sdk/otlp/wire';
import { decodeTraces } from '../../../../pipeline/sdk/otlp/decode';
import { flatten } from './expect-spans';
import { rng } from '../../../helpers/random';
import { makeFixture, type Fixture } from './fixtures';
import { appendSpanAttributesReference, mutate, outcome } from './stamp-reference';

describe('pipeline/sdk/otlp appendSpanAttributes vs the former implementation', () => {
  const fixtures: Fixture[] = [];
  before(async function () {
    this.timeout(20000);
    for (let seed = 11; seed <= 18; seed++) {
      fixtures.push(
        await makeFixture({
          seed,
          traces: 3 + seed,
          resources: 1 + (seed % 3),
          maxSpansPerTrace: 10,
          rich: seed % 2 === 0,
        }),
      );
    }
  });

  function randomAttrs(rand: () => number, existing: string[]): Record<string, AttrValue> {
    const attrs: Record<string, AttrValue> = {};
    const n = Math.floor(rand() * 5);
    for (let i = 0; i < n; i++) {
      // Half of the keys replace an attribute the spans already have.
      const key =
        rand() < 0.5 && existing.length > 0
          ? existing[Math.floor(rand() * existing.length)]
          : `new.key.${Math.floor(rand() * 1000)}`;
      const kind = Math.floor(rand() * 5);
      attrs[key] =
        kind === 0
          ? `v${'x'.repeat(Math.floor(rand() * 300))}`
          : kind === 1
            ? rand() < 0.5
            : kind === 2
              ? Math.floor(rand() * 2 ** 40) - 2 ** 39
              : kind === 3
                ? rand()
                : 'é→世';
    }
    return attrs;
  }

  it('writes the same bytes for random attribute sets, replacing existing keys (8 SDK fixtures x 40 sets)', () => {
    const rand = rng(20261125);
    let replaced = 0;
    for (const fx of fixtures) {
      const existing = [
        ...new Set(flatten(decodeTraces(fx.request)).flatMap((f) => f.span.attributes.map((kv) => kv.key))),
      ];
      expect(existing.length).to.be.greaterThan(0);
      for (let k = 0; k < 40; k++) {
        const attrs = randomAttrs(rand, existing);
        if (Object.keys(attrs).some((key) => existing.includes(key))) replaced++;
        const want = Buffer.from(appendSpanAttributesReference(fx.request, attrs));
        const got = Buffer.from(appendSpanAttributes(fx.request, attrs));
        expect(got.equals(want), `fixture ${fixtures.indexOf(fx)} attrs ${JSON.stringify(attrs)}`).to.equal(true);
        // Re-stamping the stamped request (every key now present in every span) also agrees.
        expect(
          Buffer.from(appendSpanAttributes(got, attrs)).equals(Buffer.from(appendSpanAttributesReference(want, attrs))),
        ).to.equal(true);
      }
    }
    expect(replaced).to.be.greaterThan(50);
  });

  it('agrees on mutated and truncated requests: same bytes or both OtlpDecodeError (bounded fuzz)', function () {
    this.timeout(20000);
    const rand = rng(7);
    const deadline = Date.now() + 8000;
    let errors = 0;
    let ok = 0;
    for (let iter = 0; iter < 4000 && Date.now() < deadline; iter++) {
      const src = Buffer.from(fixtures[iter % fixtures.length].request);
      const input = mutate(src, iter, rand);
      const attrs = { 'http.method': 'X', 'sampling.policy': 'p' };
      const want = outcome(() => appendSpanAttributesReference(input, attrs));
      const got = outcome(() => appendSpanAttributes(input, attrs));
      if ('bytes' in want) {
        expect(
          'bytes' in got,
          `iteration ${iter}: new version threw ${'error' in got ? got.error.message : ''}`,
        ).to.equal(true);
        if ('bytes' in got) expect(got.bytes.equals(want.bytes), `iteration ${iter}`).to.equal(true);
        ok++;
      } else {
        expect('error' in got, `iteration ${iter}: old version threw ${want.error.message}, new one did not`).to.equal(
          true,
        );
        errors++;
      }
    }
    expect(errors).to.be.greaterThan(100);
    expect(ok).to.be.greaterThan(100);
  });
});
