import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { createPaymentKey, evmAddress, openPaymentSigner, readPaymentKey, recoverable } from './payment-key.ts';

const N = secp256k1.Point.CURVE().n;
const HALF = N / 2n;
const dir = mkdtempSync(join(tmpdir(), 'bc-paykey-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const masterKey = new Uint8Array(32).fill(9);

const sOf = (sig: Uint8Array) => BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
const recovers = (sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array) => {
  const withRecoveryFirst = new Uint8Array(65);
  withRecoveryFirst[0] = sig[64]!;
  withRecoveryFirst.set(sig.subarray(0, 64), 1);
  const got = secp256k1.recoverPublicKey(withRecoveryFirst, digest, { prehash: false });
  return Buffer.from(got).equals(Buffer.from(secp256k1.Point.fromBytes(publicKey).toBytes(true)));
};

test('a software payment key is sealed, opens only with the master key, and is never replaced', () => {
  const file = createPaymentKey(dir, { backend: 'software', masterKey });
  assert.equal(file.algorithm, 'ES256K');
  assert.match(file.address, /^0x[0-9a-f]{40}$/);
  assert.deepEqual(readPaymentKey(dir), file);
  const raw = readFileSync(join(dir, 'keys', 'payment.json'), 'utf8');
  assert.ok(!/"secret"|"d"/.test(raw), 'no clear private key in the file');
  const signer = openPaymentSigner(dir, masterKey, undefined);
  assert.equal(signer.address, file.address);
  assert.equal(evmAddress(signer.publicKey), file.address);
  signer.close();
  assert.throws(
    () => openPaymentSigner(dir, new Uint8Array(32).fill(1), undefined),
    (e: unknown) => e instanceof BriefcaseError && e.code === 'vault_locked',
  );
  assert.throws(
    () => createPaymentKey(dir, { backend: 'software', masterKey }),
    (e: unknown) => e instanceof BriefcaseError && e.code === 'conflict' && e.message.includes(file.address),
  );
});

test('no high-S signature is ever produced, and every one recovers to the key (500 digests)', async () => {
  const signer = openPaymentSigner(dir, masterKey, undefined);
  for (let i = 0; i < 500; i++) {
    const digest = keccak_256(new TextEncoder().encode(`transfer ${i}`));
    const sig = await signer.signDigest(digest);
    assert.equal(sig.length, 65);
    assert.ok(sOf(sig) <= HALF, `signature ${i} has high S`);
    assert.ok(sig[64] === 0 || sig[64] === 1);
    assert.ok(recovers(sig, digest, signer.publicKey), `signature ${i} does not recover to the key`);
  }
  signer.close();
});

test('a token-style high-S signature is normalised and gets the right recovery id', () => {
  const secret = secp256k1.utils.randomSecretKey();
  const publicKey = secp256k1.getPublicKey(secret, false);
  let highSeen = 0;
  for (let i = 0; i < 200; i++) {
    const digest = keccak_256(new TextEncoder().encode(`m${i}`));
    const low = secp256k1.sign(digest, secret, { prehash: false, lowS: true });
    // What a PKCS#11 token may return: the same signature with s ↦ n − s (half of them are).
    const high = new Uint8Array(low);
    if (i % 2 === 0) {
      high.set(Buffer.from((N - sOf(low)).toString(16).padStart(64, '0'), 'hex'), 32);
      assert.ok(sOf(high) > HALF);
      highSeen++;
    }
    const sig = recoverable(high, digest, publicKey);
    assert.ok(sOf(sig) <= HALF);
    assert.deepEqual(sig.subarray(0, 64), low);
    assert.ok(recovers(sig, digest, publicKey));
  }
  assert.equal(highSeen, 100);
  const other = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
  const digest = keccak_256(new Uint8Array([1]));
  assert.throws(
    () => recoverable(secp256k1.sign(digest, secret, { prehash: false }), digest, other),
    /does not recover/,
  );
});
