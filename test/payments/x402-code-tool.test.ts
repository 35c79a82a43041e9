import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, receiptRecords, stdioClient } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason();
const AMOUNT = 250_000n;

/**
 * Issue 12, code tools' HTTP grant: a 402 from a granted host goes through the daemon's payment
 * step when the tool's manifest declares `cost.payments` (the code sees the paid answer, never
 * the proof); a tool that declares nothing gets the 402 itself. Real QuickJS tool, real chain.
 */
describe('code tools paying a granted host (x402)', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let h: PayingHome;
  let agent: Client;

  const install = (name: string, max: string | undefined) => {
    const work = mkdtempSync(join(h.home, '..', 'paycode-'));
    const host = new URL(upstream.url).host;
    const code = `async function main(args, host) {
      let r;
      try { r = await host.http({ url: ${JSON.stringify(upstream.url)} + '/weather/' + args.city }); }
      catch (e) { return { caught: String(e) }; }
      return { status: r.status, body: r.body, headers: Object.keys(r.headers) };
    }`;
    const manifest = {
      name,
      description: 'a paid weather API through host.http',
      category: 'read',
      runtime: 'quickjs',
      entry: 'tool.js',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      access: { network: [host], allow_private: true, limits: { memory_mb: 32, call_ms: 60_000 } },
      ...(max
        ? { cost: { payments: [{ network: chain.network, asset: chain.token.toLowerCase(), max, decimals: 6 }] } }
        : {}),
    };
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(work, 'tool.js'), code);
    const r = cli(h.home, ['tools', 'add', join(work, 'tool.js'), '--manifest', join(work, 'manifest.json'), '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  };

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: AMOUNT });
    h = await payingHome(chain, []);
    install('paycode.weather', AMOUNT.toString());
    install('paycode.cheap', '100000');
    install('paycode.undeclared', undefined);
    for (const t of ['weather', 'cheap', 'undeclared'])
      createGrant(h.home, chain, { payee: payTo, purpose: `paycode.${t}` });
    agent = await stdioClient(h.home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
  });

  const call = async (tool: string) => {
    const r = await agent.callTool({ name: tool, arguments: { city: 'oslo' } }, undefined, { timeout: 120_000 });
    const meta = (r._meta ?? {}) as Record<string, unknown>;
    return {
      isError: r.isError === true,
      structured: r.structuredContent as Record<string, unknown> | undefined,
      payment: meta['dev.briefcase/payment'] as Record<string, string> | undefined,
      error: meta['dev.briefcase/error'] as { code: string; approval_id?: string } | undefined,
      text: JSON.stringify(r.content),
    };
  };

  test('a declared tool pays on chain and its code gets the paid answer', async () => {
    const before = await chain.balanceOf(payTo);
    const r = await call('paycode.weather');
    assert.equal(r.isError, false, r.text);
    assert.equal(r.structured?.status, 200);
    assert.match(String(r.structured?.body), /sunny/);
    assert.equal(r.payment?.status, 'settled');
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT, 'the payee got exactly the amount');
    const receipt = receiptRecords(h.home).find((x) => x.kind === 'payment' && x.body.tool === 'paycode.weather');
    assert.equal(receipt?.body.tx, r.payment?.tx);
    // The proof went to the upstream only, never into what the code saw.
    assert.equal(upstream.signatures.length, 1);
    assert.ok(!r.text.includes(upstream.signatures[0]!.slice(0, 40)));
  });

  test('a tool that declares no payments gets the 402 itself; nothing is paid', async () => {
    const before = await chain.balanceOf(payTo);
    const r = await call('paycode.undeclared');
    assert.equal(r.isError, false, r.text);
    assert.equal(r.structured?.status, 402);
    assert.equal(r.payment, undefined);
    assert.equal(await chain.balanceOf(payTo), before);
  });

  test('above the declared max: the call waits for a person, the code cannot swallow it, the retry pays', async () => {
    const before = await chain.balanceOf(payTo);
    const asked = await call('paycode.cheap');
    // The code caught the host error and returned normally; the call still ends approval_required.
    assert.equal(asked.error?.code, 'approval_required', asked.text);
    assert.equal(await chain.balanceOf(payTo), before);
    assert.equal(cli(h.home, ['approvals', 'approve', asked.error.approval_id!]).code, 0);
    const paid = await call('paycode.cheap');
    assert.equal(paid.isError, false, paid.text);
    assert.equal(paid.payment?.status, 'settled');
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT);
  });
});
