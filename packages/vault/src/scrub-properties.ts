/**
 * Property tests of the scrubber's encodings, shared by the bounded run in `npm test`
 * (scrub.test.ts) and the long run `node scripts/fuzz-firewall.ts --runs N`. Every encoding is
 * produced here independently of encodings.ts (Node's own encoders, hand-written escaping), and
 * "removed" is judged by an independent decoder, not by the scrubber itself.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { REDACTION, Scrubber } from './scrub.ts';
import { estimateStrength } from './strength.ts';

const ALPHABET = Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.~!*\'()"\\ %&?#:;@$,[]{}<>|^`\téü€😀',
);

/** Random values over letters, digits, JSON/URL-special characters and non-ASCII, rated strong. */
export function strongSecret(): fc.Arbitrary<string> {
  return fc
    .array(fc.constantFrom(...ALPHABET), { minLength: 14, maxLength: 48 })
    .map((cs) => cs.join(''))
    .filter((v) => estimateStrength(v).strong);
}

const surrounding = fc.string({ maxLength: 40, unit: 'binary' });

type Encoder = (secret: string, r: fc.Arbitrary<unknown>) => fc.Arbitrary<string>;

const hexCase = (hex: string, upper: boolean[]) =>
  Array.from(hex, (c, i) => (upper[i % upper.length] ? c.toUpperCase() : c)).join('');

/** Each code point JSON-escaped its own way: as JSON.stringify does, or \uXXXX (random case), or \/ . */
function mixedJson(secret: string, choices: number[], upper: boolean[]): string {
  return Array.from(secret, (ch, i) => {
    const choice = choices[i % choices.length]!;
    if (choice === 1) {
      return Array.from(
        { length: ch.length },
        (_, k) => `\\u${hexCase(ch.charCodeAt(k).toString(16).padStart(4, '0'), upper)}`,
      ).join('');
    }
    if (choice === 2 && ch === '/') return '\\/';
    return JSON.stringify(ch).slice(1, -1);
  }).join('');
}

const ENCODERS: Record<string, Encoder> = {
  raw: (s) => fc.constant(s),
  encodeURIComponent: (s) => fc.constant(encodeURIComponent(s)),
  'URL, lower-case hex, every byte encoded': (s) =>
    fc.constant([...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  'form encoding (+ for space)': (s) => fc.constant(encodeURIComponent(s).replace(/%20/g, '+')),
  'JSON.stringify once': (s) => fc.constant(JSON.stringify(s)),
  'JSON.stringify twice': (s) => fc.constant(JSON.stringify(JSON.stringify(s))),
  'per-char \\u / \\/ escaping, random case, optionally double-escaped': (s) =>
    fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 64 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        fc.boolean(),
      )
      .map(([choices, upper, twice]) => {
        const once = mixedJson(s, choices, upper);
        return twice ? JSON.stringify(once).slice(1, -1) : once;
      }),
  'hex, random case': (s) =>
    fc
      .array(fc.boolean(), { minLength: 1, maxLength: 16 })
      .map((upper) => hexCase(Buffer.from(s).toString('hex'), upper)),
};

const BASE64_FORMS = ['base64', 'base64url'] as const;

/** An attacker's decoder: does any base64 run of `text`, at any start, decode to bytes containing `secret`? */
function base64Reveals(text: string, secret: string): boolean {
  const needle = Buffer.from(secret, 'utf8');
  for (const run of text.match(/[A-Za-z0-9+/_-]{4,}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      for (const form of BASE64_FORMS) {
        if (Buffer.from(run.slice(skip), form).includes(needle)) return true;
      }
    }
  }
  return false;
}

export function runScrubProperties(numRuns: number): void {
  const options = { numRuns };

  for (const [name, encode] of Object.entries(ENCODERS)) {
    it(`removes the ${name} form from any surrounding text, idempotently`, () => {
      fc.assert(
        fc.property(
          strongSecret().chain((s) => fc.tuple(fc.constant(s), encode(s, fc.anything()), surrounding, surrounding)),
          ([secret, encoded, before, after]) => {
            const scrubber = new Scrubber([secret]);
            const out = scrubber.scrub(`${before}${encoded}${after}`);
            assert.ok(!out.includes(encoded), `left ${JSON.stringify(encoded)} in ${JSON.stringify(out)}`);
            assert.ok(!out.includes(secret));
            assert.ok(out.includes(REDACTION));
            assert.equal(scrubber.scrub(out), out, 'not idempotent');
          },
        ),
        options,
      );
    });
  }

  it('removes base64 and base64url of the secret at any byte offset inside other bytes', () => {
    fc.assert(
      fc.property(
        strongSecret(),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.constantFrom(...BASE64_FORMS),
        surrounding,
        (secret, pre, post, form, text) => {
          const encoded = Buffer.concat([pre, Buffer.from(secret, 'utf8'), post]).toString(form);
          const scrubber = new Scrubber([secret]);
          const out = scrubber.scrub(`${text} ${encoded} ${text}`);
          assert.ok(!base64Reveals(out, secret), `decodable in ${out}`);
          assert.equal(scrubber.scrub(out), out, 'not idempotent');
        },
      ),
      options,
    );
  });

  it('never throws, and leaves text that does not hold the secret unchanged', () => {
    fc.assert(
      fc.property(
        fc.oneof(strongSecret(), fc.string({ unit: 'binary' })),
        fc.string({ maxLength: 200, unit: 'binary' }),
        (secret, text) => {
          fc.pre(!text.includes(secret));
          const scrubber = new Scrubber([secret]);
          assert.equal(scrubber.scrub(text), text);
          assert.equal(scrubber.contains(text), false);
        },
      ),
      options,
    );
  });

  it('scrubValue keeps any JSON value serialisable and removes the secret from it', () => {
    fc.assert(
      fc.property(strongSecret(), fc.json({ maxDepth: 4 }), (secret, json) => {
        const scrubber = new Scrubber([secret]);
        const value: unknown = JSON.parse(json);
        const planted = { value, text: `x ${secret} y`, [secret]: [secret, JSON.stringify(secret)] };
        const out = JSON.stringify(scrubber.scrubValue(planted));
        assert.ok(!scrubber.contains(out), out);
        assert.ok(!out.includes(secret));
        JSON.parse(out);
      }),
      options,
    );
  });
}
