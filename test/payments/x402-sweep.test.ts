import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cliJson, readJson, receiptRecords, sleep, startDaemon, stdioClient, writeJson } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();
const AMOUNT = 300_000n;
/** The authorization's lifetime the lying server asks for: short, so the test waits seconds. */
const LIFETIME_S = 6;

interface GrantsView {
  grants: { grantId: string; spent: { settled: string; reserved: string }[] }[];
}

/**
 * The held-amount sweep while the daemon runs (docs/payments.md, limits): a facilitator claims a
 * settlement it never submitted, so the daemon holds the amount (the signed authorization could
 * still be used until validBefore). Once validBefore has passed unused, the running daemon's sweep
 * (no restart) asks the chain, releases the hold and receipts it (`event: resolved`).
 */
describe('the running sweep releases a hold the facilitator never settled', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let liar: Upstream;
  let h: PayingHome;
  let agent: Client;
  let grantId: string;

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    liar = await startX402Upstream({ chain, payTo, amount: AMOUNT, lie: true, maxTimeoutSeconds: LIFETIME_S });
    h = await payingHome(chain, [{ name: 'weather.get', upstream: liar.url, max: AMOUNT.toString() }]);
    grantId = createGrant(h.home, chain, { payee: payTo });
    // A sweep every second, of holds of any age (a hold is only released once its
    // authorization expired unused, so age 0 is safe).
    const configPath = join(h.home, 'config.json');
    const config = readJson(configPath) as { payments: Record<string, unknown> };
    writeJson(configPath, {
      ...config,
      payments: { ...config.payments, sweep: { interval_seconds: 1, min_age_seconds: 0 } },
    });
    await h.daemon.stop();
    h.daemon = await startDaemon(h.home);
    agent = await stdioClient(h.home);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await liar?.close();
    await chain?.stop();
  });

  const spent = () => {
    const view = cliJson<GrantsView>(h.home, ['grants', 'list']).json.grants.find((g) => g.grantId === grantId);
    return view?.spent[0] && { settled: view.spent[0].settled, reserved: view.spent[0].reserved };
  };

  test('held while the authorization is live, released by the sweep after validBefore, receipted once', async () => {
    const payee = await chain.balanceOf(payTo);
    const wallet = await chain.balanceOf(h.wallet);
    const startedAt = Date.now();
    const result = (await agent.callTool({ name: 'weather.get', arguments: { city: 'oslo' } })) as {
      _meta?: Record<string, unknown>;
    };
    const meta = result._meta?.['dev.briefcase/payment'] as Record<string, string> | undefined;
    assert.notEqual(meta?.status, 'settled');
    const paymentReceipt = receiptRecords(h.home).find((r) => r.kind === 'payment' && r.body.event === 'payment');
    assert.equal(paymentReceipt?.body.status, 'unknown');
    const budgetId = paymentReceipt?.body.budget_id;
    // While validBefore has not passed, sweeps run (every second) and keep it held.
    const held = spent();
    if (Date.now() - startedAt < (LIFETIME_S - 2) * 1000) {
      assert.deepEqual(held, { settled: '0', reserved: AMOUNT.toString() });
    }
    // The running daemon (not restarted) releases it once the authorization expired unused.
    let released: ReturnType<typeof spent>;
    for (let i = 0; i < 240; i++) {
      released = spent();
      if (released?.reserved === '0') break;
      await sleep(250);
    }
    assert.deepEqual(released, { settled: '0', reserved: '0' }, 'the sweep did not release the hold within 60 s');
    assert.ok(Date.now() - startedAt >= (LIFETIME_S - 1) * 1000, 'released before validBefore passed');
    const resolved = receiptRecords(h.home).filter((r) => r.kind === 'payment' && r.body.event === 'resolved');
    assert.equal(resolved.length, 1);
    assert.equal(resolved[0]?.body.budget_id, budgetId);
    assert.equal(resolved[0]?.body.grant_id, grantId);
    assert.notEqual(resolved[0]?.body.status, 'settled');
    assert.equal(resolved[0]?.body.tx, undefined);
    // No restart happened: the first daemon's process released it; no `recovered` receipt.
    assert.equal(receiptRecords(h.home).filter((r) => r.body.event === 'recovered').length, 0);
    // Nothing moved on chain, and later sweeps do not receipt it again.
    assert.equal(await chain.balanceOf(payTo), payee);
    assert.equal(await chain.balanceOf(h.wallet), wallet);
    await sleep(2500);
    assert.equal(receiptRecords(h.home).filter((r) => r.body.event === 'resolved').length, 1);
  });
});
