import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runScrubProperties, strongSecret } from './scrub-properties.ts';
import { estimateStrength, Scrubber, STRONG_BITS } from './index.ts';

describe('secret strength', () => {
  it('rates PINs, sequences, repeats and prefixed low-entropy keys weak; generated keys strong', () => {
    for (const weak of [
      '123456',
      '48291736',
      'sk_live_0123456789abcdef',
      'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'abcabcabcabcabcabcabcabcabcabc',
      'ghp_0000000000000000000000000000',
    ]) {
      assert.ok(!estimateStrength(weak).strong, `${weak}: ${estimateStrength(weak).bits}`);
    }
    for (const strong of [
      'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA',
      '63eff169-b9b0-4176-a092-17dce0eadcfe',
      'Zx9/Qr"7\\Lm é+Kp2Wv8Tn',
    ]) {
      assert.ok(estimateStrength(strong).bits >= STRONG_BITS, `${strong}: ${estimateStrength(strong).bits}`);
    }
  });

  it('a weak value is not scrubbed (scrubbing it would be a guessing oracle)', () => {
    const s = new Scrubber(['482913', 'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA']);
    assert.equal(s.size, 1);
    assert.equal(s.scrub('pin 482913'), 'pin 482913');
    assert.equal(s.scrub('key ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA'), 'key [redacted]');
  });

  it('keeps the structure of a value: keys, strings and numbers are scrubbed, "__proto__" stays a key', () => {
    const secret = 'Q7v2Lx9Pz4Kc8Rw3Ty6Mn';
    const s = new Scrubber([secret]);
    const value = JSON.parse(`{"${secret}":["a ${secret}",1,{"__proto__":"${secret}"}]}`);
    assert.deepEqual(JSON.parse(JSON.stringify(s.scrubValue(value))), {
      '[redacted]': ['a [redacted]', 1, JSON.parse('{"__proto__":"[redacted]"}')],
    });
  });

  it('a hostile text cannot make the pattern backtrack badly (linear in the text)', () => {
    const s = new Scrubber(['A\\\\\\B"/C\\D7x9Qp2Lm8Rt4Wz']);
    const text = `${'\\'.repeat(200_000)}A${'%5C'.repeat(50_000)}`;
    // A backtracking pattern would run into the test timeout here; a linear one takes milliseconds.
    assert.ok(s.scrub(text).length > 0);
  });
});

describe('scrubber encodings (property, fast-check)', () => {
  runScrubProperties(200);

  it('the generator only yields strong secrets', () => {
    fc.assert(
      fc.property(strongSecret(), (v) => estimateStrength(v).strong),
      { numRuns: 200 },
    );
  });
});
