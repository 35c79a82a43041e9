import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { receiptRecords, stdioClient } from '../helpers.ts';
import { startL402Server, type L402Server } from '../lib/l402-server.ts';
import { regtestSkip, startRegtest, type Regtest } from '../lib/lnd-regtest.ts';
import { l402Home, type L402Home } from './l402-home.ts';

const skip = regtestSkip();
const PRICE_SAT = 1200;

interface Called {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  _meta?: Record<string, unknown>;
}

/**
 * Issue 12, AC-2 through the product: an agent (official MCP SDK client over `briefcase mcp`)
 * calls an HTTP connector tool whose upstream is an L402 server (test-owned, bLIP-26, invoices
 * from bob's LND). The daemon pays from alice's LND under a grant made with `briefcase grants
 * create`, with a pay-only macaroon from its vault; the second call reuses the token; a revoked
 * token leads to one new payment; LND's payment records match the receipts.
 */
describe('L402 end to end through the gateway and the daemon (issue 12, AC-2)', { skip, timeout: 900_000 }, () => {
  let net: Regtest;
  let server: L402Server;
  let h: L402Home;
  let home: string;
  let agent: Client;
  let probes = 0;
  const payments = async () =>
    (
      await net.alice.cli<{
        payments: {
          payment_hash: string;
          value_msat: string;
          fee_msat: string;
          status: string;
          payment_preimage: string;
        }[];
      }>('listpayments')
    ).payments.slice(probes);

  before(
    async () => {
      net = await startRegtest();
      probes = (await net.alice.cli<{ payments: unknown[] }>('listpayments')).payments.length;
      server = await startL402Server(net.bob, PRICE_SAT);
      h = await l402Home(net, server.url, String(PRICE_SAT * 1000));
      home = h.home;
      agent = await stdioClient(home);
    },
    { timeout: 600_000 },
  );
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await server?.close();
    await net?.stop();
  });

  it('pays once, reuses the token, pays once more after revocation; receipts match LND', async () => {
    const call = async () =>
      (await agent.callTool({ name: 'weather.get', arguments: { city: 'paris' } }, undefined, {
        timeout: 300_000,
      })) as Called;
    const first = await call();
    assert.notEqual(first.isError, true, JSON.stringify(first) + h.daemon.output());
    assert.match(first.content?.[0]?.text ?? '', /sunny/);
    const paid = first._meta?.['dev.briefcase/payment'] as Record<string, string>;
    assert.equal(paid.status, 'settled');
    assert.equal(paid.rail, 'l402');
    assert.equal(paid.network, 'lightning:bcrt');
    assert.equal(paid.asset, 'msat');
    assert.equal(paid.amount, String(PRICE_SAT * 1000));
    assert.equal(paid.payee, net.bob.pubkey);
    assert.equal(paid.tx, server.paymentHashes[0]);

    const second = await call();
    assert.notEqual(second.isError, true, JSON.stringify(second));
    assert.equal(second._meta?.['dev.briefcase/payment'], undefined, 'the token was reused: no payment');
    assert.equal(server.challenges, 1);

    server.revokeAll();
    const third = await call();
    assert.notEqual(third.isError, true, JSON.stringify(third));
    const again = third._meta?.['dev.briefcase/payment'] as Record<string, string>;
    assert.equal(again.status, 'settled');
    assert.equal(again.tx, server.paymentHashes[1]);
    assert.equal(server.challenges, 2, 'exactly one new payment');

    const lnd = await payments();
    assert.equal(lnd.length, 2);
    const receipts = receiptRecords(home).filter((r) => r.kind === 'payment' && r.body.event === 'payment');
    assert.equal(receipts.length, 2);
    for (const r of receipts) {
      const rec = lnd.find((p) => p.payment_hash === r.body.tx);
      assert.ok(rec, `LND paid ${String(r.body.tx)}`);
      assert.equal(rec.status, 'SUCCEEDED');
      assert.equal(String(BigInt(rec.value_msat) + BigInt(rec.fee_msat)), r.body.amount);
    }
    // No preimage or token in what the agent saw, the receipts or the daemon's log.
    const seen = JSON.stringify({ first, second, third, all: receiptRecords(home) }) + h.daemon.output();
    for (const p of lnd) assert.ok(!seen.includes(p.payment_preimage), 'no preimage leaks');
    assert.ok(!/L402 [A-Za-z0-9+/]{20,}/.test(seen), 'no L402 token leaks');
  });
});
