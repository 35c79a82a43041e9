import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import bolt11 from 'bolt11';
import { PaymentError } from '../errors.ts';
import { L402Backend } from './backend.ts';
import { parseL402Challenge } from './challenge.ts';
import { parseL402Config } from './config.ts';
import { decodeInvoice } from './invoice.ts';

const NETS = {
  bcrt: { bech32: 'bcrt', pubKeyHash: 111, scriptHash: 196, validWitnessVersions: [0, 1] },
  bc: { bech32: 'bc', pubKeyHash: 0, scriptHash: 5, validWitnessVersions: [0, 1] },
};

/** A signed BOLT11 invoice (same encoder LND's invoices decode with; see test/payments for LND's own). */
function invoice(opts: { net?: keyof typeof NETS; msat?: string; ageS?: number; expiryS?: number } = {}) {
  const key = randomBytes(32);
  const tags: { tagName: string; data: string | number }[] = [
    { tagName: 'payment_hash', data: randomBytes(32).toString('hex') },
    { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
    { tagName: 'description', data: 'test' },
  ];
  if (opts.expiryS !== undefined) tags.push({ tagName: 'expire_time', data: opts.expiryS });
  const enc = bolt11.encode({
    network: NETS[opts.net ?? 'bcrt'],
    ...(opts.msat ? { millisatoshis: opts.msat } : {}),
    timestamp: Math.floor(Date.now() / 1000) - (opts.ageS ?? 0),
    tags,
  });
  return bolt11.sign(enc, key).paymentRequest ?? '';
}

const MAC = Buffer.from('not a real macaroon, just base64').toString('base64');

describe('L402 challenge parsing (bLIP-26)', () => {
  it('reads L402 and legacy LSAT, joined in one header value, as one offer per invoice', () => {
    const inv = invoice({ msat: '1000' });
    const offers = parseL402Challenge(
      `LSAT macaroon="${MAC}", invoice="${inv}", Bearer realm="x", L402 macaroon="${MAC}", invoice="${inv}"`,
    );
    assert.equal(offers.length, 1);
    assert.equal(offers[0]?.scheme, 'L402');
    assert.equal(offers[0]?.invoice, inv);
    assert.equal(offers[0]?.macaroon, MAC);
  });
  it('ignores other schemes and refuses a broken L402 challenge', () => {
    assert.deepEqual(parseL402Challenge('Bearer realm="api", error="invalid_token"'), []);
    assert.deepEqual(parseL402Challenge('Negotiate abc=='), []);
    assert.throws(() => parseL402Challenge(`L402 macaroon="${MAC}"`), /without a BOLT11 invoice/);
    assert.throws(() => parseL402Challenge(`L402 macaroon="not base64!", invoice="lnbcrt1"`), /base64 macaroon/);
    assert.throws(() => parseL402Challenge(`L402 macaroon="${MAC}, invoice="x`), /unterminated|invoice|macaroon/);
    assert.throws(() => parseL402Challenge(`L402 ${'a'.repeat(20_000)}`), /longer than/);
  });
});

describe('BOLT11 decoding', () => {
  it('names the network, amount, payee and expiry', () => {
    const d = decodeInvoice(invoice({ msat: '1500000', expiryS: 600 }));
    assert.equal(d.network, 'lightning:bcrt');
    assert.equal(d.amountMsat, '1500000');
    assert.match(d.payee, /^0[23][0-9a-f]{64}$/);
    assert.ok(Math.abs(d.expiresAt - (Date.now() + 600_000)) < 5000);
  });
  it('refuses an amountless invoice (the payer would choose the price) and garbage', () => {
    assert.throws(
      () => decodeInvoice(invoice()),
      (e: unknown) => e instanceof PaymentError && e.reason === 'unsupported_offer',
    );
    assert.throws(
      () => decodeInvoice('lnbcrt1garbage'),
      (e: unknown) => e instanceof PaymentError && e.reason === 'malformed_challenge',
    );
  });
});

/** An LND that is not there: a refusal must come before any connection attempt. */
async function deadPort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 1));
    });
  });
}

describe('L402Backend.pay refuses before paying', () => {
  const setup = async () => {
    const backend = new L402Backend({
      lnd: { restUrl: `https://127.0.0.1:${await deadPort()}`, tlsCertPem: '', macaroon: { expose: () => '00' } },
      network: 'lightning:bcrt',
    });
    const challenge = (inv: string) =>
      backend.parse({
        url: 'http://127.0.0.1/x',
        status: 402,
        headers: { 'www-authenticate': `L402 macaroon="${MAC}", invoice="${inv}"` },
      });
    const auth = (r: { network: string; payee: string }, maxAmount = '10000') => ({
      budgetId: 'b1',
      grantId: 'g1',
      rail: 'l402' as const,
      network: r.network,
      asset: 'msat',
      payee: r.payee,
      maxAmount,
      maxFee: '0',
      expiresAt: Date.now() + 60_000,
    });
    return { backend, challenge, auth };
  };
  const reason = (r: string) => (e: unknown) => e instanceof PaymentError && e.reason === r;

  it('an invoice for another network, an expired one, one above the authorization, another payee', async () => {
    const { backend, challenge, auth } = await setup();
    const [main] = challenge(invoice({ net: 'bc', msat: '1000' }));
    assert.ok(main);
    await assert.rejects(backend.pay(main, auth(main)), reason('offer_expired'));
    const [old] = challenge(invoice({ msat: '1000', ageS: 120, expiryS: 60 }));
    assert.ok(old);
    await assert.rejects(backend.pay(old, auth(old)), reason('offer_expired'));
    const [dear] = challenge(invoice({ msat: '10001' }));
    assert.ok(dear);
    await assert.rejects(backend.pay(dear, auth(dear)), reason('over_authorization'));
    await assert.rejects(
      backend.pay(dear, { ...auth(dear, '20000'), payee: '02'.padEnd(66, '1') }),
      reason('over_authorization'),
    );
    // A requirement whose fields were changed after parsing is checked against its invoice.
    await assert.rejects(backend.pay({ ...dear, amount: '1' }, auth(dear, '20000')), reason('over_authorization'));
  });
  it('a payment it could have sent is attempted (the refusals above are not just a dead LND)', async () => {
    const { backend, challenge, auth } = await setup();
    const [ok] = challenge(invoice({ msat: '1000' }));
    assert.ok(ok);
    await assert.rejects(backend.pay(ok, auth(ok)), reason('settlement_unverified'));
  });
});

describe('L402 rail configuration', () => {
  const good = {
    restUrl: 'https://127.0.0.1:8080',
    tlsCertPath: '/x/tls.cert',
    macaroonSecret: 'lnd.pay',
    network: 'bcrt',
  };
  it('accepts a complete config and fills defaults', () => {
    const r = parseL402Config(good);
    assert.ok(r.ok);
    assert.equal(r.value.maxFeeMsat, '10000');
  });
  it('refuses plain HTTP to lnd, an unknown network, a macaroon value in the config, naming the field', () => {
    const bad = [
      [{ ...good, restUrl: 'http://127.0.0.1:8080' }, /payments\.l402\.restUrl/],
      [{ ...good, network: 'ltc' }, /payments\.l402\.network/],
      [{ ...good, macaroon: '0201036c6e64' }, /unrecognized key|macaroon/i],
    ] as const;
    for (const [raw, msg] of bad) {
      const r = parseL402Config(raw);
      assert.ok(!r.ok);
      assert.match(r.error, msg);
    }
  });
});
