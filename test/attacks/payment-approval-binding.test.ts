import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, cliJson, stdioClient } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from '../payments/chain.ts';
import { createGrant, payingHome, type PayingHome } from '../payments/harness.ts';
import { startX402Upstream, type Upstream } from '../payments/x402-upstream.ts';

const skip = anvilSkipReason();
const AMOUNT = 250_000n;

/**
 * The agent gets a person to approve a payment for one tool and spends that approval on another
 * tool that meets the very same offer (same upstream, same arguments, same amount and payee).
 * A payment approval is bound to the call (tool and arguments) as well as the offer: the second
 * tool asks for its own, pays nothing, and the first approval still waits for its own call.
 * Both tools are tried at once (20 calls), so no interleaving lets one borrow the other's.
 */
describe('attack (agent): a payment approval given for one tool is spent on another', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let h: PayingHome;
  let agent: Client;

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: AMOUNT });
    const max = (AMOUNT * 10n).toString();
    h = await payingHome(chain, [
      { name: 'pay.first', upstream: upstream.url, max, decimals: 6 },
      { name: 'pay.other', upstream: upstream.url, max, decimals: 6 },
    ]);
    for (const purpose of ['pay.first', 'pay.other']) {
      createGrant(h.home, chain, { payee: payTo, purpose, approvalAbove: '100000' });
    }
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
  });

  const call = async (tool: string) => {
    const r = (await agent.callTool({ name: tool, arguments: { city: 'oslo' } }, undefined, { timeout: 120_000 })) as {
      isError?: boolean;
      _meta?: Record<string, unknown>;
    };
    const err = r._meta?.['dev.briefcase/error'] as { code?: string; approval_id?: string } | undefined;
    return { ok: r.isError !== true, code: err?.code, approvalId: err?.approval_id };
  };
  const status = (id: string) =>
    cliJson<{ status: string; tool: string }>(h.home, ['approvals', 'show', id, '--json']).json;

  it('the other tool asks for its own approval and pays nothing; the approval waits for its own call', async () => {
    const before = await chain.balanceOf(payTo);
    const asked = await call('pay.first');
    assert.equal(asked.code, 'approval_required');
    assert.equal(cli(h.home, ['approvals', 'approve', asked.approvalId!]).code, 0);

    const others = await Promise.all(Array.from({ length: 20 }, () => call('pay.other')));
    for (const o of others) {
      assert.equal(o.code, 'approval_required', JSON.stringify(o));
      assert.notEqual(o.approvalId, asked.approvalId);
    }
    assert.equal(new Set(others.map((o) => o.approvalId)).size, 1, 'one approval asked for the other tool');
    assert.equal(status(others[0]!.approvalId!).tool, 'pay.other');
    assert.equal(await chain.balanceOf(payTo), before, 'nothing paid on the first tool’s approval');
    assert.equal(status(asked.approvalId!).status, 'approved');

    const paid = await call('pay.first');
    assert.equal(paid.ok, true);
    assert.equal(status(asked.approvalId!).status, 'consumed');
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT);
  });
});
