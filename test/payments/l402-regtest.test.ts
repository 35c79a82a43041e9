import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import bolt11 from 'bolt11';
import { jwkThumbprint, type PublicJwk } from '@briefcase/crypto';
import { PaymentError, PaymentFlow, signGrant, type Challenge, type StoredGrant } from '@briefcase/payments';
import { L402Backend, l402Fetch, type L402FetchDeps, type Retry } from '@briefcase/payments/l402';
import { SqliteSpendLedger } from '@briefcase/payments/node';
import { Secret } from '@briefcase/vault';
import { startL402Server, type L402Server } from '../lib/l402-server.ts';
import { regtestSkip, startRegtest, type Regtest } from '../lib/lnd-regtest.ts';
import { restCall } from '../lib/lnd-rest.ts';

const skip = regtestSkip();
const PRICE_SAT = 1500;
const CAP_MSAT = 5_000_000n; // the grant's velocity amount: no single payment above it
const GATEWAY = 'test-daemon-identity';
const PURPOSE = 'weather.forecast';

interface LndPaymentRecord {
  payment_hash: string;
  value_msat: string;
  fee_msat: string;
  status: string;
  payment_preimage: string;
}

/** A signed spending grant for l402 on regtest (and, to test the rail's own check, mainnet). */
async function grantFor(payees: string[], total = '100000000'): Promise<{ stored: StoredGrant; kid: string }> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as PublicJwk & Record<string, string>;
  const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as PublicJwk & Record<string, string>;
  const kid = jwkThumbprint(publicJwk);
  const limit = (network: string) => ({
    rail: 'l402' as const,
    network,
    asset: 'msat',
    total,
    velocity: { amount: CAP_MSAT.toString(), count: 100, windowSeconds: 3600 },
  });
  const grant = await signGrant(
    {
      limits: [limit('lightning:bcrt'), limit('lightning:bc')],
      payees,
      purposes: [PURPOSE],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    { publicJwk, keyId: kid, sign: async (m) => new Uint8Array(sign(null, m, privateKey)) },
    GATEWAY,
    'grant-l402-regtest',
    new Date(),
  );
  return { stored: { grant }, kid };
}

/**
 * Issue 12, AC-2 on a real two-node LND regtest (alice pays, bob is the paid API's node), with a
 * test-owned L402 server that takes its invoices from bob. The rail runs under the core's
 * `PaymentFlow` (signed grant, SQLite spend ledger) through `l402Fetch`, which reuses tokens.
 * (The daemon's HTTP-connector wiring of the payment step is issue 12's core work.)
 */
describe('L402 on a real LND regtest (issue 12, AC-2)', { skip, timeout: 900_000 }, () => {
  let net: Regtest;
  let server: L402Server;
  let backend: L402Backend;
  let flow: PaymentFlow;
  let ledger: SqliteSpendLedger;
  let payMacaroon: string;
  const mainnetKey = randomBytes(32);
  const mainnetPayee = (() => {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(mainnetKey);
    return ecdh.getPublicKey('hex', 'compressed');
  })();
  const outcomes: unknown[] = [];
  const newBackend = () =>
    new L402Backend({
      lnd: { restUrl: net.alice.restUrl, tlsCertPem: net.alice.tlsCertPem, macaroon: new Secret(payMacaroon) },
      network: 'lightning:bcrt',
    });
  const newFlow = (b: L402Backend, grant: StoredGrant, kid: string) => {
    ledger = new SqliteSpendLedger(new DatabaseSync(':memory:'));
    return new PaymentFlow({
      backends: [b],
      ledger,
      grants: () => [grant],
      trust: () => ({ issuers: [kid], gateway: GATEWAY }),
    });
  };
  const depsOf = (b: L402Backend, f: PaymentFlow): L402FetchDeps => ({
    backend: b,
    pay: async (challenge: Challenge, retry: Retry) => {
      const outcome = await f.pay<Response>(challenge, { purposes: [PURPOSE] }, retry);
      outcomes.push(outcome);
      return outcome;
    },
  });
  const deps = () => depsOf(backend, flow);
  let probes = 0; // payments the harness made before the tests (its readiness probe)
  const alicePayments = async () =>
    (await net.alice.cli<{ payments: LndPaymentRecord[] }>('listpayments', '--include_incomplete')).payments.slice(
      probes,
    );

  before(
    async () => {
      net = await startRegtest();
      probes = (await alicePayments()).length;
      // Least privilege (docs/payments.md): a macaroon for paying and tracking payments only.
      payMacaroon = (
        await net.alice.cliText(
          'bakemacaroon',
          'uri:/routerrpc.Router/SendPaymentV2',
          'uri:/routerrpc.Router/TrackPaymentV2',
        )
      ).trim();
      assert.match(payMacaroon, /^[0-9a-f]+$/);
      backend = newBackend();
      const { stored, kid } = await grantFor([net.bob.pubkey, mainnetPayee]);
      flow = newFlow(backend, stored, kid);
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
    // The core's spend ledger settled exactly what LND paid, under the grant.
    const entries = ledger.entries('grant-l402-regtest');
    assert.equal(entries.length, 2);
    const settlements = calls.flatMap((c) => (c.payment ? [c.payment] : [])).concat(first.payment);
    for (const e of entries) {
      assert.equal(e.state, 'settled');
      assert.ok(settlements.some((s) => s.txRef === e.txRef && s.amount === e.amount));
    }
    for (const s of settlements) {
      const rec = payments.find((p) => p.payment_hash === s.txRef);
      assert.ok(rec, `LND has a payment for ${s.txRef}`);
      assert.equal(rec.status, 'SUCCEEDED');
      assert.equal(BigInt(rec.value_msat) + BigInt(rec.fee_msat), BigInt(s.amount));
    }
    // What would be receipted carries no preimage, no macaroon, no token.
    const published = JSON.stringify({ outcomes, entries }) + inspect(outcomes, { depth: 6 });
    for (const p of payments) assert.ok(!published.includes(p.payment_preimage), 'no preimage in receipts');
    assert.ok(!/L402 [A-Za-z0-9+/]{20,}/.test(published), 'no token in receipts');
  });

  it('crash recovery: LND is asked by payment hash; a payment never sent is not counted', async () => {
    const entries = ledger.entries('grant-l402-regtest');
    assert.equal(entries.length, 2);
    const base = {
      budgetId: 'b',
      rail: 'l402' as const,
      network: 'lightning:bcrt',
      asset: 'msat',
      payee: net.bob.pubkey,
    };
    for (const s of entries) {
      assert.ok(s.txRef);
      const found = await backend.recover({ ...base, amount: s.amount, ref: s.txRef });
      assert.equal(found.status, 'settled', found.note);
      assert.equal(found.amount, s.amount);
    }
    // Hashes whose base64 has '/' and '+' (in the URL path they must not break the route: a
    // route miss must never read as "no such payment"), and a random one.
    for (const ref of ['ff'.repeat(32), `${'fbefbe'.repeat(10)}fbef`, randomBytes(32).toString('hex')]) {
      const never = await backend.recover({ ...base, amount: '1', ref });
      assert.equal(never.status, 'not_settled', never.note);
    }
  });

  const refusedBeforePaying = async (reason: string) => {
    const before = (await alicePayments()).length;
    // A backend without a cached token, under the same grant: the server's next challenge is hostile.
    const fresh = newBackend();
    const { stored, kid } = await grantFor([net.bob.pubkey, mainnetPayee]);
    await assert.rejects(
      l402Fetch(depsOf(fresh, newFlow(fresh, stored, kid)), server.url),
      (e: unknown) => e instanceof PaymentError && e.reason === reason,
    );
    assert.equal((await alicePayments()).length, before, 'LND made no payment attempt');
  };

  it('refuses an invoice for another network before paying', async () => {
    // The grant allows lightning:bc and this payee: the refusal is the rail's (alice is on regtest).
    const key = mainnetKey;
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

  it('refuses an invoice above the grant before paying', async () => {
    const r = await net.bob.rest<{ payment_request: string; r_hash: string }>('POST', '/v1/invoices', {
      value: String(Number(CAP_MSAT / 1000n) + 1),
    });
    server.nextInvoice = async () => ({
      invoice: r.payment_request,
      paymentHash: Buffer.from(r.r_hash, 'base64').toString('hex'),
    });
    await refusedBeforePaying('over_grant_total');
  });

  it('a server that takes the payment and then errors: the spend is counted, the call says so, no second payment', async () => {
    for (const status of [500, 401]) {
      const fresh = newBackend();
      const { stored, kid } = await grantFor([net.bob.pubkey]);
      const f = newFlow(fresh, stored, kid);
      const before = (await alicePayments()).length;
      server.answerPaidWith = status;
      try {
        if (status === 500) {
          const r = await l402Fetch(depsOf(fresh, f), server.url);
          assert.equal(r.response.status, 500);
          assert.equal(r.payment?.status, 'settled');
          assert.match(r.payment?.note ?? '', /server answered 500/);
        } else {
          // A paid token refused with 401: the call fails, and is not paid again.
          await assert.rejects(
            l402Fetch(depsOf(fresh, f), server.url),
            (e: unknown) => e instanceof PaymentError && e.reason === 'payment_rejected',
          );
        }
      } finally {
        server.answerPaidWith = undefined;
      }
      const entries = ledger.entries(stored.grant.grantId);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.state, 'settled');
      assert.equal(entries[0]?.amount, String(PRICE_SAT * 1000));
      assert.equal((await alicePayments()).length, before + 1, 'exactly one payment');
      assert.equal(fresh.tokens.get(server.url), undefined, 'a token the server did not honour is not cached');
    }
  });

  it("routing-fee allowance on real LND (direct channel, fee 0): price + allowance reserved, LND's amount + fee settled, the rest released; a grant without room for the allowance refuses before paying", async () => {
    const allowance = 20_000n;
    const price = BigInt(PRICE_SAT * 1000);
    const withFees = () =>
      new L402Backend({
        lnd: { restUrl: net.alice.restUrl, tlsCertPem: net.alice.tlsCertPem, macaroon: new Secret(payMacaroon) },
        network: 'lightning:bcrt',
        maxFeeMsat: allowance,
      });
    // The real ledger; the test only notes what each reservation asked for.
    const reserved: string[] = [];
    const flowWith = (b: L402Backend, stored: StoredGrant, kid: string) => {
      const f = newFlow(b, stored, kid);
      const reserve = ledger.reserve.bind(ledger);
      ledger.reserve = (input) => (reserved.push(input.amount), reserve(input));
      return f;
    };
    const fresh = withFees();
    const { stored, kid } = await grantFor([net.bob.pubkey]);
    const f = flowWith(fresh, stored, kid);
    const paid = await l402Fetch(depsOf(fresh, f), server.url);
    assert.equal(paid.response.status, 200);
    assert.deepEqual(reserved, [(price + allowance).toString()]);
    const rec = (await alicePayments()).find((p) => p.payment_hash === paid.payment?.txRef);
    assert.ok(rec, 'LND has the payment');
    const lndPaid = BigInt(rec.value_msat) + BigInt(rec.fee_msat);
    assert.equal(rec.fee_msat, '0', 'a direct channel charges no routing fee');
    const entries = ledger.entries(stored.grant.grantId);
    assert.deepEqual(
      entries.map((e) => [e.state, e.amount]),
      [['settled', lndPaid.toString()]],
      'settled = what LND paid; the unused allowance was released',
    );
    // Room for the price, not for the price plus the allowance: refused, LND never asked.
    const before = (await alicePayments()).length;
    const tight = withFees();
    const small = await grantFor([net.bob.pubkey], (price + allowance - 1n).toString());
    await assert.rejects(
      l402Fetch(depsOf(tight, flowWith(tight, small.stored, small.kid)), server.url),
      (e: unknown) => e instanceof PaymentError && e.reason === 'over_grant_total',
    );
    assert.equal((await alicePayments()).length, before, 'LND made no payment attempt');
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
