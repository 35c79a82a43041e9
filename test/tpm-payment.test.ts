import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Pkcs11Signer } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { TPM_MODULE, tpmMissing, tpmToken } from './fixtures/tokens.ts';

/**
 * Issue 12: TPM 2.0 has no secp256k1 (the TCG curve list is NIST P-256/P-384, BN-256, SM2), so
 * tpm2-pkcs11 cannot make a payment key. Briefcase says so, naming what to use instead, rather
 * than failing with a bare CKR code. (docs/keys.md and docs/payments.md say the same.)
 */
test('a TPM refuses a secp256k1 payment key, and the error says what to use', { skip: tpmMissing() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bc-tpm-pay-'));
  const token = await tpmToken(join(dir, 'home'));
  const saved = { ...process.env };
  Object.assign(process.env, token.env);
  try {
    const location = { module: TPM_MODULE, token_label: 'briefcase', key_label: 'payment-probe' };
    assert.throws(
      () => Pkcs11Signer.open('payment', location, token.env.BRIEFCASE_PKCS11_PIN, true, 'secp256k1'),
      (e: unknown) =>
        e instanceof BriefcaseError &&
        e.code === 'unsupported_platform' &&
        /cannot make a secp256k1 key/.test(e.message) &&
        /TPMs do not offer secp256k1/.test(e.message),
    );
    // The same token makes a P-256 key: the refusal is about the curve, not a broken token.
    const p256 = Pkcs11Signer.open(
      'receipts',
      { ...location, key_label: 'p256-probe' },
      token.env.BRIEFCASE_PKCS11_PIN,
      true,
    );
    assert.equal(p256.publicJwk.crv, 'P-256');
    p256.close();
  } finally {
    await token.teardown();
    for (const k of Object.keys(token.env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
