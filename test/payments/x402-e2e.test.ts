import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePaymentSignatureHeader } from '@x402/core/http';
import { open } from '@briefcase/vault';
import { after, before, describe, test } from 'node:test';
import { createPublicClient, http, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { DatabaseSync } from 'node:sqlite';
import { cliJson, receiptRecords, stdioClient } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();

/**
 * AC1 (issue 12): an agent calls an HTTP connector tool through the real gateway (`briefcase mcp`,
 * official MCP SDK client); its upstream answers 402 (x402 v2, @x402/express); the daemon checks
 * the grant, pays through the reference facilitator on anvil, retries, and the result reaches the
 * agent with `_meta` saying what was paid. The chain confirms it.
 */
describe('x402 end to end through the gateway and the daemon (AC1)', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let h: PayingHome;
  let agent: Client;

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: 250_000n });
    h = await payingHome(chain, [{ name: 'weather.get', upstream: upstream.url, max: '250000' }]);
    createGrant(h.home, chain, { payee: payTo });
    agent = await stdioClient(h.home);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
  });

  test('the agent gets the result; the payee gets exactly the amount; the receipt names a real tx', async () => {
    const before = await chain.balanceOf(payTo);
    const walletBefore = await chain.balanceOf(h.wallet);
    const result = (await agent.callTool({ name: 'weather.get', arguments: { city: 'paris' } })) as {
      isError?: boolean;
      structuredContent?: { city?: string };
      _meta?: Record<string, unknown>;
    };
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(result.structuredContent?.city, 'paris');
    const paid = result._meta?.['dev.briefcase/payment'] as Record<string, string>;
    assert.equal(paid.status, 'settled');
    assert.equal(paid.rail, 'x402');
    assert.equal(paid.network, chain.network);
    assert.equal(paid.asset, chain.token.toLowerCase());
    assert.equal(paid.amount, '250000');
    assert.equal(paid.payee, payTo);
    assert.match(paid.tx!, /^0x[0-9a-f]{64}$/);

    assert.equal((await chain.balanceOf(payTo)) - before, 250_000n);
    assert.equal(walletBefore - (await chain.balanceOf(h.wallet)), 250_000n);
    const client = createPublicClient({ transport: http(chain.rpcUrl) });
    const tx = await client.getTransactionReceipt({ hash: paid.tx as Hex });
    assert.equal(tx.status, 'success');
    assert.equal(tx.logs[0]?.address.toLowerCase(), chain.token.toLowerCase());

    const receipts = receiptRecords(h.home);
    const payment = receipts.find((r) => r.kind === 'payment' && r.body.event === 'payment');
    assert.ok(payment, 'a payment receipt');
    assert.equal(payment.body.tx, paid.tx);
    assert.equal(payment.body.amount, '250000');
    assert.equal(payment.body.budget_id, paid.budget_id);
    assert.ok(typeof payment.body.grant_id === 'string');
    const call = receipts.find((r) => r.kind === 'tool_call' && r.body.tool === 'weather.get');
    assert.equal(call?.body.outcome, 'ok');
    // Never a signature, authorization or key: not in _meta, not in receipts.
    const text = JSON.stringify({ receipts, result });
    assert.doesNotMatch(text, /signature|0x[0-9a-f]{130}/i);
  });

  test('AC4: no wallet key or payment signature in agent responses, receipts or logs', async () => {
    const result = await agent.callTool({ name: 'weather.get', arguments: { city: 'rome' } });
    // The secrets, recovered the attacker's way: the sealed wallet opened with the master key, and
    // the proofs as the upstream received them.
    const master = Buffer.from(readFileSync(join(h.home, 'master.key'), 'utf8').trim(), 'base64');
    const wallet = JSON.parse(readFileSync(join(h.home, 'keys', 'payment.json'), 'utf8')) as {
      address: string;
      sealed_private: { nonce: string; ct: string; tag: string };
    };
    assert.equal(wallet.address, h.wallet.toLowerCase());
    const key = open(master, wallet.sealed_private, 'briefcase.key.v1:payment').toString('hex');
    assert.equal(key.length, 64);
    assert.ok(upstream.signatures.length >= 2, 'the upstream saw the paid retries');
    const canaries = [key, Buffer.from(key, 'hex').toString('base64')];
    for (const header of upstream.signatures) {
      const payload = decodePaymentSignatureHeader(header).payload as {
        signature: string;
        authorization: { nonce: string };
      };
      canaries.push(header, payload.signature.slice(2), payload.signature.slice(2, 66));
    }
    const places: Record<string, string> = {
      'agent result': JSON.stringify(result),
      receipts: JSON.stringify(receiptRecords(h.home)),
      'daemon log': readFileSync(join(h.home, 'logs', 'daemon.log'), 'utf8'),
      'daemon output': h.daemon.output(),
    };
    for (const [where, text] of Object.entries(places)) {
      for (const c of canaries)
        assert.ok(!text.toLowerCase().includes(c.toLowerCase()), `a payment secret is in the ${where}`);
    }
  });

  test('receipts verify reconciles payment receipts with the spend ledger, and catches a ledger that disagrees', () => {
    const good = cliJson<{ ok: boolean; payments?: { receipts: number; problems: string[] } }>(h.home, [
      'receipts',
      'verify',
    ]);
    assert.equal(good.json.ok, true, JSON.stringify(good.json));
    assert.ok((good.json.payments?.receipts ?? 0) >= 2);
    assert.deepEqual(good.json.payments?.problems, []);
    // Someone with write access to the data dir lowers what a settled payment counted.
    const db = new DatabaseSync(join(h.home, 'briefcase.db'));
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(
      "UPDATE payment_ledger SET amount = '1' WHERE budget_id = (SELECT budget_id FROM payment_ledger WHERE state = 'settled' LIMIT 1)",
    );
    db.close();
    const bad = cliJson<{ ok: boolean; reason: string }>(h.home, ['receipts', 'verify']);
    assert.equal(bad.code, 1);
    assert.equal(bad.json.ok, false);
    assert.match(bad.json.reason, /^payments: budget .*receipt amount 250000, ledger 1/);
  });
});
