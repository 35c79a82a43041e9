import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPublicClient, http, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, cliAsync, receiptRecords, remoteState, sleep, stdioClient } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402McpUpstream, type McpUpstream } from './x402-mcp-upstream.ts';

const skip = anvilSkipReason();
const AMOUNT = 250_000n;

interface Result {
  isError?: boolean;
  content?: { text?: string }[];
  _meta?: Record<string, unknown>;
}

/**
 * Issue 12, remote MCP tools that ask for payment (x402's MCP transport): a real SDK MCP server
 * on Streamable HTTP verifies and settles through the reference facilitator on anvil; the
 * daemon's remote-call path pays through the same PaymentFlow (grant, ledger, approvals, the
 * helper's signature) and retries the tools/call with `_meta["x402/payment"]`.
 */
describe('remote MCP tools paying over x402 (MCP transport)', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: McpUpstream;
  let h: PayingHome;
  let agent: Client;

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402McpUpstream(chain, payTo, AMOUNT);
    h = await payingHome(chain, []);
    const pay = `${chain.network},${chain.token},${AMOUNT},6`;
    const added = await cliAsync(h.home, ['remote', 'add', 'paid', '--url', upstream.url, '--pay', pay, '--json']);
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; i < 200 && (await remoteState(h.home, 'paid'))?.status !== 'connected'; i++) await sleep(100);
    createGrant(h.home, chain, { payee: payTo, purpose: 'paid.forecast', approvalAbove: (AMOUNT * 2n).toString() });
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
  });

  const call = () =>
    agent.callTool({ name: 'paid.forecast', arguments: { city: 'oslo' } }, undefined, {
      timeout: 120_000,
    }) as Promise<Result>;
  const payments = () => receiptRecords(h.home).filter((r) => r.kind === 'payment' && r.body.tool === 'paid.forecast');

  test('a tool result asking for payment is paid on chain, the call retried, the result returned', async () => {
    const before = await chain.balanceOf(payTo);
    const result = await call();
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(result.content?.[0]?.text, 'sunny in oslo');
    const meta = result._meta?.['dev.briefcase/payment'] as Record<string, string>;
    assert.equal(meta.status, 'settled');
    assert.equal(meta.rail, 'x402');
    assert.equal(meta.amount, AMOUNT.toString());
    assert.equal(meta.payee, payTo);
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT, 'the payee got exactly the amount');
    assert.equal(upstream.paid(), 1);
    const tx = await createPublicClient({ transport: http(chain.rpcUrl) }).getTransactionReceipt({
      hash: meta.tx as Hex,
    });
    assert.equal(tx.status, 'success', 'the receipt names a transaction that exists on chain');
    const receipt = payments().find((r) => r.body.event === 'payment');
    assert.equal(receipt?.body.tx, meta.tx);
    // Nothing of the signed authorization reaches the agent or the receipts.
    const seen = JSON.stringify(result) + JSON.stringify(receiptRecords(h.home));
    assert.doesNotMatch(seen, /x402\/payment"|"signature"|authorization/);
  });

  test('the server raises its price above what was declared: refused before paying, approval needed', async () => {
    const before = await chain.balanceOf(payTo);
    const served = upstream.paid();
    upstream.state.amount = AMOUNT + 1n;
    try {
      const result = await call();
      assert.equal(result.isError, true);
      const err = result._meta?.['dev.briefcase/error'] as { code: string; approval_id?: string };
      assert.equal(err.code, 'approval_required');
      assert.equal(await chain.balanceOf(payTo), before, 'nothing paid');
      assert.equal(upstream.paid(), served);
      assert.equal(payments().at(-1)?.body.reason, 'approval_needed');
      // A person approves exactly this price: the identical retry pays it.
      assert.equal(cli(h.home, ['approvals', 'approve', err.approval_id!]).code, 0);
      const paid = await call();
      assert.notEqual(paid.isError, true, JSON.stringify(paid));
      assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT + 1n);
    } finally {
      upstream.state.amount = AMOUNT;
    }
  });

  test('a server that takes the payment and asks again is not paid twice', async () => {
    const before = await chain.balanceOf(payTo);
    const paidBefore = payments().filter((r) => r.body.event === 'payment').length;
    upstream.state.askTwice = true;
    try {
      const result = await call();
      assert.equal(result.isError, true);
      assert.match(result.content?.[0]?.text ?? '', /asked for payment again/);
    } finally {
      upstream.state.askTwice = false;
    }
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT, 'one payment, none more');
    const made = payments().filter((r) => r.body.event === 'payment');
    assert.equal(made.length - paidBefore, 1);
    assert.equal(made.at(-1)?.body.status, 'settled', 'the spend is counted and receipted');
  });

  test('AC4: the signed payment reaches the server only: not the agent, receipts, logs or approvals', async () => {
    const result = await call();
    assert.ok(upstream.signatures.length >= 3);
    const places: Record<string, string> = {
      'agent result': JSON.stringify(result),
      receipts: JSON.stringify(receiptRecords(h.home)),
      'daemon log': readFileSync(join(h.home, 'logs', 'daemon.log'), 'utf8'),
      'daemon output': h.daemon.output(),
      approvals: cli(h.home, ['approvals', 'list', '--all', '--json']).stdout,
    };
    for (const [where, text] of Object.entries(places)) {
      for (const sig of upstream.signatures) {
        assert.ok(
          !text.toLowerCase().includes(sig.slice(2, 66).toLowerCase()),
          `a payment signature is in the ${where}`,
        );
      }
    }
  });
});
