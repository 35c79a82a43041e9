import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifySignature } from '@briefcase/crypto';
import { Vault } from '@briefcase/vault';
import { keyFilePath, readPublicKeys } from './key-store.ts';
import { pinSecretName } from './pkcs11-signer.ts';
import { SoftwareSigner } from './software-signer.ts';

describe('software keys', () => {
  it('sign in the JOSE form for both algorithms, and verify with the runtime-neutral verifier', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-keys-'));
    const master = randomBytes(32);
    try {
      for (const algorithm of ['EdDSA', 'ES256'] as const) {
        const signer = SoftwareSigner.create(dir, 'receipts', master, algorithm);
        const message = new TextEncoder().encode(`checkpoint ${algorithm}`);
        const signature = await signer.sign(message);
        assert.equal(signer.algorithm, algorithm);
        assert.equal(signature.length, 64);
        assert.equal(verifySignature(signer.publicJwk, message, signature), true);
        assert.equal(verifySignature(signer.publicJwk, new TextEncoder().encode('other'), signature), false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a prepared rotation changes nothing until saved; saving retires the old key with its interval', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-keys-'));
    const master = randomBytes(32);
    try {
      const first = SoftwareSigner.create(dir, 'dpop', master, 'ES256');
      const before = readFileSync(keyFilePath(dir, 'dpop'), 'utf8');
      const { signer: next, save } = SoftwareSigner.prepareRotation(dir, 'dpop', master);
      assert.equal(readFileSync(keyFilePath(dir, 'dpop'), 'utf8'), before);
      save();
      const keys = readPublicKeys(dir, 'dpop');
      assert.deepEqual(
        keys.map((k) => [k.keyId, k.algorithm, k.retiredAt === null]),
        [
          [next.keyId, 'ES256', true],
          [first.keyId, 'ES256', false],
        ],
      );
      assert.ok(keys[1]!.retiredAt! >= keys[1]!.createdAt);
      assert.throws(() => SoftwareSigner.prepareRotation(dir, 'dpop', randomBytes(32)), /does not open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PKCS#11 PIN names in the vault', () => {
  it('are valid vault names, and two labels never share one', () => {
    const labels = ['briefcase', 'a b', 'a_b', 'a/b', 'x'.repeat(80), `${'x'.repeat(80)}y`, 'YubiKey PIV #123'];
    const names = labels.map(pinSecretName);
    assert.equal(new Set(names).size, labels.length);
    for (const n of names) assert.ok(Vault.validName(n), n);
    assert.equal(pinSecretName('briefcase'), 'pkcs11.pin.briefcase');
  });
});
