import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jwkThumbprint, type PublicJwk } from '@briefcase/crypto';
import { createPaymentKey } from '@briefcase/keys';
import { seal } from '@briefcase/vault';
import { recoverTypedDataAddress } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { PaymentAuthorization } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { signGrant } from '../grant-doc.ts';
import type { SpendingGrant } from '../grant.ts';
import { HelperSigner } from './helper-signer.ts';

/**
 * AC-6.1: the payment-helper is a separate process that signs only an EIP-3009 transfer that a
 * verifying grant authorizes. A forged or widened grant, or typed data outside the grant, gets no
 * signature, whatever the daemon asks.
 */
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwk = publicKey.export({ format: 'jwk' }) as PublicJwk;
const issuer = {
  publicJwk: jwk as unknown as Record<string, string>,
  keyId: jwkThumbprint(jwk),
  sign: async (m: Uint8Array) => sign(null, m, privateKey),
};
const home = mkdtempSync(join(tmpdir(), 'bc-helper-'));
const masterKey = new Uint8Array(32).fill(7);
const { address } = createPaymentKey(home, { backend: 'software', masterKey });
const asset = `0x${'aa'.repeat(20)}`;
const payee = `0x${'bb'.repeat(20)}`;
const trust = () => ({ issuers: [issuer.keyId], gateway: issuer.keyId });
const helper = new HelperSigner({ home, masterKey, address, trust });
after(() => {
  helper.close();
  rmSync(home, { recursive: true, force: true });
});

const grant = await signGrant(
  {
    limits: [
      {
        rail: 'x402',
        network: 'eip155:31337',
        asset,
        total: '1000',
        velocity: { amount: '1000', count: 5, windowSeconds: 60 },
      },
    ],
    payees: [payee],
    purposes: ['t'],
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  },
  issuer,
  issuer.keyId,
  'grant_test_1',
  new Date(),
);

const authz = (g: SpendingGrant = grant, over: Partial<PaymentAuthorization> = {}): PaymentAuthorization => ({
  budgetId: 'b1',
  grantId: g.grantId,
  rail: 'x402',
  network: 'eip155:31337',
  asset,
  payee,
  maxAmount: '500',
  expiresAt: Date.now() + 60_000,
  grant: g,
  ...over,
});

const typed = (to = payee, value = 500n, from = address) => ({
  domain: { name: 'T', version: '2', chainId: 31337, verifyingContract: asset },
  types: {
    TransferWithAuthorization: [
      { name: 'from', type: 'address' },
      { name: 'to', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'validAfter', type: 'uint256' },
      { name: 'validBefore', type: 'uint256' },
      { name: 'nonce', type: 'bytes32' },
    ],
  },
  primaryType: 'TransferWithAuthorization',
  message: {
    from,
    to,
    value,
    validAfter: 0n,
    validBefore: BigInt(Math.floor(Date.now() / 1000) + 120),
    nonce: `0x${'01'.repeat(32)}`,
  },
});

const refused = (p: Promise<unknown>) =>
  assert.rejects(p, (e: unknown) => e instanceof PaymentError && e.reason === 'signing_refused');

test('signs a transfer the grant authorizes, in another process', async () => {
  const t = typed();
  const signature = await helper.signTransfer(t, authz());
  assert.ok(helper.pid && helper.pid !== process.pid);
  const recovered = await recoverTypedDataAddress({ ...t, signature } as unknown as Parameters<
    typeof recoverTypedDataAddress
  >[0]);
  assert.equal(recovered.toLowerCase(), address);
});

test('refuses a grant widened after signing, a forged issuer, another gateway', async () => {
  const widened = { ...grant, limits: [{ ...grant.limits[0]!, total: '1000000' }] };
  await refused(helper.signTransfer(typed(), authz(widened, { maxAmount: '5000' })));
  const forged = { ...grant, signature: grant.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
  await refused(helper.signTransfer(typed(), authz(forged)));
  const elsewhere = await signGrant(
    { ...grant, expiresAt: grant.expiresAt },
    issuer,
    'another-gateway',
    'grant_x',
    new Date(),
  );
  await refused(helper.signTransfer(typed(), authz(elsewhere)));
  await refused(helper.signTransfer(typed(), { ...authz(), grant: undefined } as unknown as PaymentAuthorization));
});

test('refuses typed data or an authorization outside the grant', async () => {
  await refused(helper.signTransfer(typed(`0x${'cc'.repeat(20)}`), authz())); // recipient not the authorized payee
  await refused(helper.signTransfer(typed(payee, 501n), authz())); // more than authorized
  await refused(helper.signTransfer(typed(), authz(grant, { payee: `0x${'cc'.repeat(20)}` }))); // payee not in grant
  await refused(helper.signTransfer(typed(payee, 1500n), authz(grant, { maxAmount: '1500' }))); // above the grant
});

test('a wallet file from before the payment role still signs (no payment key yet)', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'bc-helper-legacy-'));
  const walletKey = generatePrivateKey();
  const legacyAddress = privateKeyToAccount(walletKey).address.toLowerCase();
  const aad = `briefcase:payment-wallet:evm:v1:${legacyAddress}`;
  const legacy = new HelperSigner({
    home: empty,
    masterKey,
    address: legacyAddress,
    legacy: { sealed: seal(masterKey, Buffer.from(walletKey.slice(2), 'hex'), aad), aad },
    trust,
  });
  try {
    const t = typed(payee, 500n, legacyAddress);
    const signature = await legacy.signTransfer(t, authz());
    const recovered = await recoverTypedDataAddress({ ...t, signature } as unknown as Parameters<
      typeof recoverTypedDataAddress
    >[0]);
    assert.equal(recovered.toLowerCase(), legacyAddress);
  } finally {
    legacy.close();
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a helper told another address than the payment key opens refuses to start', async () => {
  const wrong = new HelperSigner({ home, masterKey, address: `0x${'dd'.repeat(20)}`, trust });
  try {
    await refused(wrong.signTransfer(typed(), authz()));
  } finally {
    wrong.close();
  }
});
