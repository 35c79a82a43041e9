import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import bolt11 from 'bolt11';
import type { PaymentAuthorization, PaymentProof, PaymentRequirement, Settlement } from '@briefcase/payments';
import { PaymentError } from '@briefcase/payments';
import { L402Backend, l402Fetch } from '@briefcase/payments/l402';
import { Secret } from '@briefcase/vault';
import { startL402Server, type L402Server } from '../lib/l402-server.ts';
import { regtestSkip, startRegtest, type Regtest } from '../lib/lnd-regtest.ts';
import { restCall } from '../lib/lnd-rest.ts';

const skip = regtestSkip();
const PRICE_SAT = 1500;
const CAP_MSAT = 5_000_000n; // the per-payment cap the daemon's checks would put in the authorization

interface LndPaymentRecord {
  payment_hash: string;
  value_msat: string;
  fee_msat: string;
  status: string;
  payment_preimage: string;
}

/**
 * Issue 12, AC-2 on a real two-node LND regtest (alice pays, bob is the paid API's node), with a
 * test-owned L402 server that takes its invoices from bob. The rail is driven directly through
 * `l402Fetch` with an `authorize` step standing in for the daemon's grant/budget checks (the
 * daemon's payment step lives in the core, issue 12 part 1).
 */
describe('L402 on a real LND regtest (issue 12, AC-2)', { skip, timeout: 900_000 }, () => {
  let net: Regtest;
  let server: L402Server;
  let backend: L402Backend;
  let payMacaroon: string;
  const settlements: Settlement[] = [];
  const proofs: PaymentProof[] = [];
  const authorize = async (r: PaymentRequirement): Promise<PaymentAuthorization> => ({
    budgetId: randomUUID(),
    grantId: 'grant-test',
    rail: 'l402',
    network: r.network,
    asset: r.asset,
    payee: r.payee,
    maxAmount: CAP_MSAT.toString(),
    expiresAt: Date.now() + 60_000,
  });
  const deps = () => ({
    backend,
    authorize,
    settled: (s: Settlement, p: PaymentProof) => {
      settlements.push(s);
      proofs.push(p);
    },
  });
  const alicePayments = async () =>
    (await net.alice.cli<{ payments: LndPaymentRecord[] }>('listpayments', '--include_incomplete')).payments;

  before(
    async () => {
      net = await startRegtest();
      // Least privilege (docs/payments.md): a macaroon for paying and tracking payments only.
      const baked = await net.alice.cli<{ macaroon: string }>(
        'bakemacaroon',
        'uri:/routerrpc.Router/SendPaymentV2',
        'uri:/routerrpc.Router/TrackPaymentV2',
      );
      payMacaroon = baked.macaroon;
      backend = new L402Backend({
        lnd: { restUrl: net.alice.restUrl, tlsCertPem: net.alice.tlsCertPem, macaroon: new Secret(payMacaroon) },
        network: 'lightning:bcrt',
      });
      server = await startL402Server(net.bob, PRICE_SAT);
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await server?.close();
    await net?.stop();
  });

  it('first call pays, second reuses the token, a revoked token leads to exactly one new payment; LND agrees with the receipts', async () => {
    const first = await l402Fetch(deps(), server.url);
    assert.equal(first.response.status, 200);
    assert.equal(((await first.response.json()) as { forecast: string }).forecast, 'sunny');
    assert.ok(first.payment, 'the first call paid');
    assert.equal(first.payment.status, 'settled');
    assert.equal(first.payment.amount, String(PRICE_SAT * 1000));
    assert.equal(first.payment.payee, net.bob.pubkey);
    assert.equal(first.payment.network, 'lightning:bcrt');
    assert.equal(first.payment.txRef, server.paymentHashes[0]);
    assert.equal(server.challenges, 1, 'one challenge: LSAT and L402 offers of one invoice are one payment');

    const second = await l402Fetch(deps(), server.url);
    assert.equal(second.response.status, 200);
    assert.equal(second.payment, undefined, 'the cached token was reused');
    assert.equal(server.challenges, 1);
    assert.equal((await alicePayments()).length, 1);

    server.revokeAll();
    // Five concurrent calls meet the revoked token: they share one new payment.
    const calls = await Promise.all([1, 2, 3, 4, 5].map(() => l402Fetch(deps(), server.url)));
    assert.ok(calls.every((c) => c.response.status === 200));
    assert.equal(calls.filter((c) => c.payment).length, 1, 'exactly one new payment');
    assert.equal(server.challenges, 2);

    const payments = await alicePayments();
    assert.equal(payments.length, 2);
    assert.equal(settlements.length, 2);
    for (const s of settlements) {
      const rec = payments.find((p) => p.payment_hash === s.txRef);
      assert.ok(rec, `LND has a payment for ${s.txRef}`);
      assert.equal(rec.status, 'SUCCEEDED');
      assert.equal(BigInt(rec.value_msat) + BigInt(rec.fee_msat), BigInt(s.amount));
    }
    // What would be receipted carries no preimage, no macaroon, no token.
    const published = JSON.stringify({ settlements, proofs }) + inspect(proofs, { depth: 5 });
    for (const p of payments) assert.ok(!published.includes(p.payment_preimage), 'no preimage in receipts');
    assert.ok(!/L402 [A-Za-z0-9+/]{20,}/.test(published), 'no token in receipts');
  });

  it('crash recovery: LND is asked by payment hash; a payment never sent is not counted', async () => {
    const s = settlements[0];
    assert.ok(s?.txRef);
    const base = {
      budgetId: 'b',
      rail: 'l402' as const,
      network: 'lightning:bcrt',
      asset: 'msat',
      payee: net.bob.pubkey,
    };
    const found = await backend.recover({ ...base, amount: s.amount, ref: s.txRef });
    assert.equal(found.status, 'settled');
    assert.equal(found.amount, s.amount);
    const never = await backend.recover({ ...base, amount: '1', ref: randomBytes(32).toString('hex') });
    assert.equal(never.status, 'not_settled');
  });

  const refusedBeforePaying = async (reason: string) => {
    const before = (await alicePayments()).length;
    const fresh = new L402Backend({
      lnd: { restUrl: net.alice.restUrl, tlsCertPem: net.alice.tlsCertPem, macaroon: new Secret(payMacaroon) },
      network: 'lightning:bcrt',
    });
    await assert.rejects(
      l402Fetch({ backend: fresh, authorize }, server.url),
      (e: unknown) => e instanceof PaymentError && e.reason === reason,
    );
    assert.equal((await alicePayments()).length, before, 'LND made no payment attempt');
  };

  it('refuses an invoice for another network before paying', async () => {
    const key = randomBytes(32);
    const paymentHash = randomBytes(32).toString('hex');
    const enc = bolt11.encode({
      network: { bech32: 'bc', pubKeyHash: 0, scriptHash: 5, validWitnessVersions: [0, 1] },
      millisatoshis: '1000',
      timestamp: Math.floor(Date.now() / 1000),
      tags: [
        { tagName: 'payment_hash', data: paymentHash },
        { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
        { tagName: 'description', data: 'mainnet' },
      ],
    });
    const invoice = bolt11.sign(enc, key).paymentRequest ?? '';
    server.nextInvoice = async () => ({ invoice, paymentHash });
    await refusedBeforePaying('offer_expired');
  });

  it('refuses an expired invoice before paying', async () => {
    const r = await net.bob.rest<{ payment_request: string; r_hash: string }>('POST', '/v1/invoices', {
      value: '100',
      expiry: '1',
    });
    await new Promise((res) => setTimeout(res, 2000));
    server.nextInvoice = async () => ({
      invoice: r.payment_request,
      paymentHash: Buffer.from(r.r_hash, 'base64').toString('hex'),
    });
    await refusedBeforePaying('offer_expired');
  });

  it('refuses an invoice above the authorized amount before paying', async () => {
    const r = await net.bob.rest<{ payment_request: string; r_hash: string }>('POST', '/v1/invoices', {
      value: String(Number(CAP_MSAT / 1000n) + 1),
    });
    server.nextInvoice = async () => ({
      invoice: r.payment_request,
      paymentHash: Buffer.from(r.r_hash, 'base64').toString('hex'),
    });
    await refusedBeforePaying('over_authorization');
  });

  it('the baked macaroon pays but cannot read balances, make addresses or create invoices', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/balance/channels', undefined],
      ['GET', '/v1/newaddress', undefined],
      ['POST', '/v1/invoices', { value: '1' }],
      ['GET', '/v1/getinfo', undefined],
    ] as const) {
      await assert.rejects(
        restCall(net.alice.restUrl, net.alice.tlsCertPem, payMacaroon, method, path, body),
        /permission denied|verification failed|403|500/i,
        `${method} ${path} refused`,
      );
    }
    // The admin macaroon is allowed the same call: the refusal above is the macaroon's doing.
    await restCall(net.alice.restUrl, net.alice.tlsCertPem, net.alice.macaroonHex(), 'GET', '/v1/balance/channels');
  });
});
