import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  callHash,
  canonicalize,
  domainHash,
  fromBase64Url,
  portableSha256,
  sha256,
  sha256Hex,
  toBase64Url,
} from './index.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../test/vectors/jcs.json', import.meta.url), 'utf8')) as {
  canonical: { input: unknown; output: string }[];
  call_hash: { tool: string; args: Record<string, unknown>; canonical: string; sha256: string }[];
};

describe('JCS and call hashes (test vectors as data)', () => {
  it('canonicalises per RFC 8785', () => {
    for (const v of vectors.canonical) assert.equal(canonicalize(v.input), v.output);
  });
  it('call_hash = sha256(JCS({tool, args}))', () => {
    for (const v of vectors.call_hash) {
      assert.equal(canonicalize({ tool: v.tool, args: v.args }), v.canonical);
      assert.equal(callHash(v.tool, v.args), v.sha256);
    }
  });
  it("Node's native SHA-256 and the portable one agree, byte for byte (issue 13)", () => {
    const inputs: (string | Uint8Array)[] = [
      '',
      'abc',
      'x'.repeat(1000),
      'naïve ☕ 𝄞 \u0000 end',
      // Lone surrogates: both encode them as U+FFFD (TextEncoder and Node's UTF-8 alike).
      'a\ud800b\udc00c',
      new Uint8Array([0, 1, 2, 255, 254]),
      new Uint8Array(300).map((_, i) => (i * 7) & 255),
    ];
    for (const input of inputs) {
      const portable = portableSha256(input);
      assert.deepEqual(sha256(input), portable);
      assert.equal(sha256(input).constructor, Uint8Array);
      assert.equal(sha256Hex(input), bytesToHex(portable));
    }
    // FIPS 180-2 "abc".
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('argument order does not change the hash; any value change does', () => {
    assert.equal(callHash('t', { a: 1, b: 2 }), callHash('t', { b: 2, a: 1 }));
    assert.notEqual(callHash('t', { a: 1 }), callHash('t', { a: '1' }));
    assert.notEqual(callHash('t', { a: 1 }), callHash('u', { a: 1 }));
  });
  it("a remote tool's call hash covers its identity: same name and args, another tool, another hash", () => {
    const id = { server: 's', name: 'a_b', definition_hash: 'h1' };
    const remote = callHash('s.a_b', { x: 1 }, id);
    assert.notEqual(remote, callHash('s.a_b', { x: 1 }));
    assert.notEqual(remote, callHash('s.a_b', { x: 1 }, { ...id, name: 'a.b' }));
    assert.notEqual(remote, callHash('s.a_b', { x: 1 }, { ...id, definition_hash: 'h2' }));
    assert.notEqual(remote, callHash('s.a_b', { x: 1 }, { ...id, server: 't' }));
    assert.equal(remote, callHash('s.a_b', { x: 1 }, { definition_hash: 'h1', name: 'a_b', server: 's' }));
  });
  it('domain separation keeps hashes for different purposes apart', () => {
    assert.notEqual(domainHash('a', { x: 1 }), domainHash('b', { x: 1 }));
  });
  it('refuses values without a canonical form', () => {
    assert.throws(() => canonicalize(undefined));
    assert.throws(() => canonicalize({ n: Number.NaN }));
  });
  it('base64url round-trips', () => {
    const bytes = new Uint8Array([0, 255, 62, 63, 128]);
    assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
  });
});
