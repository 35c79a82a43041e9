import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classify, formatIPv6, parseIp, parseIPv4Loose } from './ip.ts';
import { checkTarget } from './rules.ts';

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = (b: number[]) => b.join('.');

/** An IPv4 address spelled the ways resolvers accept: parts merged, each decimal, hex or octal. */
const looseSpelling = octets.chain((b) =>
  fc
    .tuple(
      fc.constant(b),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.constantFrom('d', 'x', 'o'), { minLength: 4, maxLength: 4 }),
    )
    .map(([bytes, parts, bases]) => {
      const n = ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
      const values =
        parts === 1
          ? [n]
          : parts === 2
            ? [bytes[0]!, n & 0xffffff]
            : parts === 3
              ? [bytes[0]!, bytes[1]!, n & 0xffff]
              : bytes;
      const text = values
        .map((v, i) => (bases[i] === 'x' ? `0x${v.toString(16)}` : bases[i] === 'o' ? `0${v.toString(8)}` : String(v)))
        .join('.');
      return { bytes, text };
    }),
);

describe('IP parsing and classes (properties)', () => {
  it('a hostile IPv4 spelling means what the WHATWG URL parser says it means', () => {
    fc.assert(
      fc.property(looseSpelling, ({ bytes, text }) => {
        const loose = parseIPv4Loose(text);
        assert.deepEqual(loose && Array.from(loose), bytes, text);
        assert.equal(new URL(`http://${text}/`).hostname, dotted(bytes), text);
      }),
      { numRuns: 2000 },
    );
  });

  it('a non-canonical spelling is never granted, even when its canonical address is', () => {
    fc.assert(
      fc.property(looseSpelling, ({ bytes, text }) => {
        const r = checkTarget(text, 8080, { grants: [`${dotted(bytes)}:8080`, `${text}:8080`], allowPrivate: true });
        if (text === dotted(bytes)) return;
        assert.equal(r.ok, false, text);
      }),
      { numRuns: 2000 },
    );
  });

  it('every IPv6 form that embeds an IPv4 address has its class', () => {
    fc.assert(
      fc.property(octets, fc.constantFrom('::ffff:', '64:ff9b::', '::ffff:0:'), (b, prefix) => {
        const v4 = classify(parseIp(dotted(b))!).class;
        const v6 = classify(parseIp(`${prefix}${dotted(b)}`)!);
        assert.equal(v6.class, v4, `${prefix}${dotted(b)}`);
        const sixToFour = parseIp(
          `2002:${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}::1`,
        )!;
        assert.equal(classify(sixToFour).class, v4);
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6 text round-trips through RFC 5952 form and agrees with the WHATWG URL serialiser', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIPv6(bytes);
        assert.deepEqual(Array.from(parseIp(text)!.bytes), Array.from(bytes));
        assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 2000 },
    );
  });

  it('checkTarget answers any string without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: -1, max: 70_000 }), (host, port) => {
        const r = checkTarget(host, port, { grants: [host, `${host}:${port}`, `*.${host}`], allowPrivate: true });
        assert.equal(typeof r.ok, 'boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
