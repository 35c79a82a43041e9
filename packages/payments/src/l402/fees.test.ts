/**
 * The routing-fee allowance (issue 12, docs/payments-l402.md "Routing fees") through the real
 * `PaymentFlow`, `L402Backend` and SQLite spend ledger. LND is stood in for by an HTTPS server
 * that answers routerrpc's REST calls (`POST /v2/router/send`, `GET /v2/router/track/…`) with
 * payment records in LND v0.19's JSON shape: the regtest harness (test/lib/lnd-regtest.ts) has
 * one direct channel, so real LND always reports fee 0 there; a fee above 0 and a route refused
 * for its fee need a multi-hop network the harness does not build (test/payments/l402-regtest
 * covers the fee-0 accounting on real LND).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import bolt11 from 'bolt11';
import { jwkThumbprint, type PublicJwk } from '@briefcase/crypto';
import { PaymentError } from '../errors.ts';
import { PaymentFlow, PaymentRefused } from '../flow.ts';
import { signGrant } from '../grant-doc.ts';
import type { StoredGrant } from '../grant.ts';
import { SqliteSpendLedger } from '../node/sqlite-ledger.ts';
import { L402Backend } from './backend.ts';

const NET = { bech32: 'bcrt', pubKeyHash: 111, scriptHash: 196, validWitnessVersions: [0, 1] };
const PAYEE_KEY = randomBytes(32);
const MAC = Buffer.from('a test macaroon').toString('base64');
const PRICE = 1000n; // msat
const MAX_FEE = 50n; // msat: payments.l402.max_fee_msat

/** A BOLT11 invoice of `msat` whose payment hash is sha256(preimage). */
function invoice(msat: bigint, preimage: Buffer): string {
  const enc = bolt11.encode({
    network: NET,
    millisatoshis: msat.toString(),
    timestamp: Math.floor(Date.now() / 1000),
    tags: [
      { tagName: 'payment_hash', data: createHash('sha256').update(preimage).digest('hex') },
      { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
      { tagName: 'description', data: 'fees' },
    ],
  });
  return bolt11.sign(enc, PAYEE_KEY).paymentRequest ?? '';
}

function certificate(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'l402-fees-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
        .concat(['-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=lnd'])
        .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the stand-in LND answers to the next SendPaymentV2 (and TrackPaymentV2 of that hash). */
type Answer = { status: 'SUCCEEDED'; feeMsat: bigint } | { status: 'FAILED'; reason: string };

async function grantOf(total: bigint, approvalAbove?: bigint): Promise<{ stored: StoredGrant; kid: string }> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as PublicJwk;
  const kid = jwkThumbprint(jwk);
  const grant = await signGrant(
    {
      limits: [
        {
          rail: 'l402',
          network: 'lightning:bcrt',
          asset: 'msat',
          total: total.toString(),
          velocity: { amount: total.toString(), count: 100, windowSeconds: 3600 },
          ...(approvalAbove !== undefined ? { approvalAbove: approvalAbove.toString() } : {}),
        },
      ],
      payees: [Buffer.from(bolt11.decode(invoice(1n, randomBytes(32))).payeeNodeKey ?? '', 'hex').toString('hex')],
      purposes: ['paid.tool'],
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    {
      publicJwk: jwk as unknown as Record<string, string>,
      keyId: kid,
      sign: async (m) => new Uint8Array(sign(null, m, privateKey)),
    },
    'gw',
    `grant_fees_${randomBytes(4).toString('hex')}`,
    new Date(),
  );
  return { stored: { grant }, kid };
}

const pair = certificate();

describe(
  'L402 routing-fee allowance (issue 12)',
  { skip: pair ? false : 'needs the openssl CLI (Debian package openssl)' },
  () => {
    let lnd: Server;
    let restUrl = '';
    let answer: Answer = { status: 'SUCCEEDED', feeMsat: 0n };
    /** What the flow had reserved when LND was asked to pay, and the fee limit LND was given. */
    const seen: { feeLimit: string; reserved: string[] }[] = [];
    let ledger: SqliteSpendLedger;
    const preimages = new Map<string, Buffer>();

    const record = (hash: string, amount: string) => {
      const pre = preimages.get(hash);
      return answer.status === 'SUCCEEDED'
        ? {
            payment_hash: hash,
            value_msat: amount,
            fee_msat: answer.feeMsat.toString(),
            payment_preimage: pre?.toString('hex'),
            status: 'SUCCEEDED',
            failure_reason: 'FAILURE_REASON_NONE',
          }
        : {
            payment_hash: hash,
            value_msat: amount,
            fee_msat: '0',
            payment_preimage: '0'.repeat(64),
            status: 'FAILED',
            failure_reason: answer.reason,
          };
    };

    before(async () => {
      lnd = createServer({ key: pair!.key, cert: pair!.cert }, (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          if (req.method === 'POST' && req.url === '/v2/router/send') {
            const r = JSON.parse(body) as { payment_request: string; fee_limit_msat: string };
            const d = bolt11.decode(r.payment_request);
            const hash = String(d.tagsObject.payment_hash);
            seen.push({ feeLimit: r.fee_limit_msat, reserved: ledger.pending().map((e) => e.amount) });
            res.end(`${JSON.stringify({ result: record(hash, d.millisatoshis ?? '0') })}\n`);
          } else if (req.method === 'GET' && req.url?.startsWith('/v2/router/track/')) {
            const b64 = decodeURIComponent(req.url.slice('/v2/router/track/'.length).split('?')[0]!);
            const hash = Buffer.from(b64, 'base64url').toString('hex');
            res.end(`${JSON.stringify({ result: record(hash, PRICE.toString()) })}\n`);
          } else {
            res.writeHead(404).end('{}');
          }
        });
      });
      await new Promise<void>((r) => lnd.listen(0, '127.0.0.1', r));
      restUrl = `https://127.0.0.1:${(lnd.address() as AddressInfo).port}`;
    });
    after(() => lnd?.close());

    const setup = async (total: bigint, approvalAbove?: bigint) => {
      const backend = new L402Backend({
        lnd: { restUrl, tlsCertPem: pair!.cert, macaroon: { expose: () => '0201' } },
        network: 'lightning:bcrt',
        maxFeeMsat: MAX_FEE,
      });
      const { stored, kid } = await grantOf(total, approvalAbove);
      ledger = new SqliteSpendLedger(new DatabaseSync(':memory:'));
      const flow = new PaymentFlow({
        backends: [backend],
        ledger,
        grants: () => [stored],
        trust: () => ({ issuers: [kid], gateway: 'gw' }),
      });
      const pay = () => {
        const pre = randomBytes(32);
        const inv = invoice(PRICE, pre);
        preimages.set(createHash('sha256').update(pre).digest('hex'), pre);
        const challenge = {
          url: 'http://paid.test/x',
          status: 402,
          headers: { 'www-authenticate': `L402 macaroon="${MAC}", invoice="${inv}"` },
        };
        return flow.pay(challenge, { purposes: ['paid.tool'] }, async () => ({
          response: { status: 200, headers: {} },
          value: 'ok',
        }));
      };
      return { flow, pay, grantId: stored.grant.grantId };
    };

    it('reserves amount + fee allowance, gives LND that fee limit, settles what LND paid (fee 7), releases the rest', async () => {
      const { pay, grantId } = await setup(10_000n);
      answer = { status: 'SUCCEEDED', feeMsat: 7n };
      seen.length = 0;
      const out = await pay();
      assert.deepEqual(seen, [{ feeLimit: MAX_FEE.toString(), reserved: [(PRICE + MAX_FEE).toString()] }]);
      assert.equal(out.settlement.status, 'settled');
      assert.equal(out.settlement.amount, (PRICE + 7n).toString(), 'amount + fee from the payment record');
      assert.equal(out.settlement.fee, '7');
      const entries = ledger.entries(grantId);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.state, 'settled');
      assert.equal(entries[0]?.amount, '1007', 'the unused 43 msat of the allowance are released');
    });

    it('a payment whose fee would exceed the allowance: LND refuses it, nothing is counted', async () => {
      const { pay, grantId } = await setup(10_000n);
      answer = { status: 'FAILED', reason: 'FAILURE_REASON_NO_ROUTE' }; // LND: no route within fee_limit
      seen.length = 0;
      const out = await pay();
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.feeLimit, MAX_FEE.toString());
      assert.equal(out.settlement.status, 'not_settled');
      assert.equal(out.settlement.amount, '0');
      assert.ok(out.retryError instanceof PaymentError && out.retryError.reason === 'payment_rejected');
      const entries = ledger.entries(grantId);
      assert.deepEqual(
        entries.map((e) => [e.state, e.amount]),
        [['released', '0']],
      );
    });

    it('the grant refuses when amount + fee allowance exceeds what is left, before LND is asked', async () => {
      // Room for the price, not for the price plus the allowance.
      const tight = await setup(PRICE + MAX_FEE - 1n);
      seen.length = 0;
      await assert.rejects(tight.pay(), (e: unknown) => e instanceof PaymentRefused && e.reason === 'over_grant_total');
      assert.equal(seen.length, 0);
      // Cumulative: after one payment (1000 + fee 7 settled), 1043 is left of 2050; the next
      // needs 1050 reserved.
      const { pay, grantId } = await setup(2n * (PRICE + MAX_FEE) - 50n);
      answer = { status: 'SUCCEEDED', feeMsat: 7n };
      await pay();
      seen.length = 0;
      await assert.rejects(pay(), (e: unknown) => e instanceof PaymentRefused && e.reason === 'over_grant_total');
      assert.equal(seen.length, 0, 'LND never asked');
      assert.deepEqual(
        ledger.entries(grantId).map((e) => e.amount),
        ['1007'],
      );
    });

    it('the approval threshold sees amount + fee allowance; the person is told "up to" incl. fees', async () => {
      const { flow } = await setup(10_000n, PRICE + 10n);
      const pre = randomBytes(32);
      const challenge = {
        url: 'http://paid.test/x',
        status: 402,
        headers: { 'www-authenticate': `L402 macaroon="${MAC}", invoice="${invoice(PRICE, pre)}"` },
      };
      seen.length = 0;
      await assert.rejects(
        flow.pay(challenge, { purposes: ['paid.tool'] }, async () => ({
          response: { status: 200, headers: {} },
          value: 0,
        })),
        (e: unknown) =>
          e instanceof PaymentRefused &&
          e.reason === 'approval_needed' &&
          /up to 1050 \(1000 \+ fees up to 50\)/.test(e.detail ?? ''),
      );
      assert.equal(seen.length, 0);
    });
  },
);
