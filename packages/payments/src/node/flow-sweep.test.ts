import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { jwkThumbprint, type PublicJwk } from '@briefcase/crypto';
import type { PaymentBackend, PaymentProof, PendingPayment, Settlement } from '../backend.ts';
import { PaymentFlow } from '../flow.ts';
import { signGrant } from '../grant-doc.ts';
import type { PaymentRequirement } from '../requirement.ts';
import { SqliteSpendLedger } from './sqlite-ledger.ts';

/**
 * The running sweep (flow.recover with a minimum age) must leave a payment this process is still
 * making alone: before its ref is recorded the ledger entry looks like "never left the daemon",
 * and the sweep would release it while the payment goes out — money moved, nothing counted.
 * Deterministic: the rail's pay() waits until the test lets it go.
 */
test('a sweep during a payment in flight releases nothing; the payment is counted once', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as PublicJwk;
  const issuer = {
    publicJwk: jwk as unknown as Record<string, string>,
    keyId: jwkThumbprint(jwk),
    sign: async (m: Uint8Array) => sign(null, m, privateKey),
  };
  const offer: PaymentRequirement = {
    rail: 'x402',
    network: 'eip155:1',
    asset: '0xa',
    amount: '100',
    payee: '0xb',
    resource: 'https://paid.example/x',
    offer: {},
  };
  const grant = await signGrant(
    {
      limits: [
        {
          rail: 'x402',
          network: 'eip155:1',
          asset: '0xa',
          total: '1000',
          velocity: { amount: '1000', count: 10, windowSeconds: 60 },
        },
      ],
      payees: ['0xb'],
      purposes: ['paid.tool'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    issuer,
    issuer.keyId,
    'grant_sweep_1',
    new Date(),
  );
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inPay = new Promise<void>((r) => (entered = r));
  const settled = (budgetId: string): Settlement => ({
    ...offer,
    status: 'settled',
    amount: '100',
    txRef: `0x${budgetId}`,
  });
  let recovered = 0;
  const backend: PaymentBackend = {
    rail: 'x402',
    parse: () => [offer],
    async pay(requirement, authorization, record): Promise<PaymentProof> {
      entered();
      await gate; // the sweep runs here, before the ref is recorded
      record(`ref-${authorization.budgetId}`);
      return {
        rail: 'x402',
        budgetId: authorization.budgetId,
        requirement,
        retryHeaders: {},
        ref: `ref-${authorization.budgetId}`,
        moneyMoved: false,
      };
    },
    confirm: async (proof) => settled(proof.budgetId),
    recover: async (p: PendingPayment) => {
      recovered++;
      return { ...offer, status: 'not_settled', amount: '0', note: `asked about ${p.budgetId}` };
    },
  };
  const ledger = new SqliteSpendLedger(new DatabaseSync(':memory:'));
  const flow = new PaymentFlow({
    backends: [backend],
    ledger,
    grants: () => [{ grant }],
    trust: () => ({ issuers: [issuer.keyId], gateway: issuer.keyId }),
  });
  const paying = flow.pay({ url: offer.resource, status: 402, headers: {} }, { purposes: ['paid.tool'] }, async () => ({
    response: { status: 200, headers: {} },
    value: 'ok',
  }));
  await inPay;
  assert.equal(ledger.pending().length, 1, 'reserved, no ref yet');
  const swept = await flow.recover(0);
  assert.deepEqual(swept, [], 'the sweep left the payment in flight alone');
  assert.equal(ledger.pending().length, 1);
  release();
  const outcome = await paying;
  assert.equal(outcome.settlement.status, 'settled');
  const entries = ledger.entries();
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.state, 'settled');
  assert.equal(entries[0]?.amount, '100');
  // Once finished, a sweep has nothing to do, and never asked the rail.
  assert.deepEqual(await flow.recover(0), []);
  assert.equal(recovered, 0);
});
