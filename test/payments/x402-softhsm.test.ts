import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPublicClient, http, parseAbi, parseEventLogs, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SOFTHSM_MODULE, softhsmMissing, softhsmToken, type TokenSetup } from '../fixtures/tokens.ts';
import { cliJson, receiptRecords, stdioClient } from '../helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './chain.ts';
import { createGrant, payingHome, type PayingHome } from './harness.ts';
import { startX402Upstream, type Upstream } from './x402-upstream.ts';

const skip = anvilSkipReason() ?? softhsmMissing();
const TRANSFER = parseAbi(['event Transfer(address indexed from, address indexed to, uint256 value)']);

/**
 * Issue 12, the `payment` key role on a PKCS#11 token: the wallet key is made on SoftHSM
 * (secp256k1, sensitive, non-extractable), the payment-helper opens the token session itself, and
 * an x402 payment made through the gateway settles on anvil: the token contract's ecrecover
 * accepted the token's (low-S, recovery-id-completed) signature, and the payee got exactly the
 * amount from the wallet's address.
 */
describe('x402 paid with a payment key on a PKCS#11 token (SoftHSM)', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let token: TokenSetup;
  let h: PayingHome;
  let agent: Client;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: 125_000n });
    // The token store sits beside the home payingHome makes; it only needs a directory of its own.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    token = await softhsmToken(join(mkdtempSync(join(tmpdir(), 'bc-hsm-')), 'home'));
    for (const [k, v] of Object.entries(token.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    h = await payingHome(chain, [{ name: 'weather.get', upstream: upstream.url, max: '125000' }], 10_000_000n, [
      'keys',
      'create',
      '--role',
      'payment',
      '--backend',
      'pkcs11',
      '--module',
      SOFTHSM_MODULE,
      '--token',
      'briefcase',
    ]);
    createGrant(h.home, chain, { payee: payTo });
    agent = await stdioClient(h.home);
  });
  after(async () => {
    await agent?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
    await token?.teardown();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test('the key file holds no private key, only where the key lives on the token', () => {
    const file = JSON.parse(readFileSync(join(h.home, 'keys', 'payment.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(file.backend, 'pkcs11');
    assert.equal(file.algorithm, 'ES256K');
    assert.equal(file.address, h.wallet.toLowerCase());
    assert.equal(file.sealed_private, undefined);
    assert.deepEqual(file.pkcs11, { module: SOFTHSM_MODULE, token_label: 'briefcase', key_label: 'briefcase-payment' });
    const doctor = cliJson<{ code: string; message: string }[]>(h.home, ['doctor']).json;
    const line = doctor.find((c) => c.code === 'key_payment');
    assert.equal(line?.message, `payment: ES256K wallet ${h.wallet.toLowerCase()} (pkcs11, non-exportable)`);
    const keys = cliJson<{ keys: { role: string; backend: string; address?: string }[] }>(h.home, [
      'keys',
      'list',
    ]).json;
    assert.deepEqual(
      keys.keys.filter((k) => k.role === 'payment').map((k) => [k.backend, k.address]),
      [['pkcs11', h.wallet.toLowerCase()]],
    );
  });

  test('the payee balance rises by exactly the amount; the chain accepted the token-made signature', async () => {
    const payeeBefore = await chain.balanceOf(payTo);
    const walletBefore = await chain.balanceOf(h.wallet);
    const result = (await agent.callTool({ name: 'weather.get', arguments: { city: 'oslo' } })) as {
      isError?: boolean;
      structuredContent?: { city?: string };
      _meta?: Record<string, unknown>;
    };
    assert.notEqual(result.isError, true, JSON.stringify(result));
    assert.equal(result.structuredContent?.city, 'oslo');
    const paid = result._meta?.['dev.briefcase/payment'] as Record<string, string>;
    assert.equal(paid.status, 'settled');
    assert.equal(paid.amount, '125000');
    assert.equal((await chain.balanceOf(payTo)) - payeeBefore, 125_000n);
    assert.equal(walletBefore - (await chain.balanceOf(h.wallet)), 125_000n);
    // transferWithAuthorization moved the tokens from the wallet: its ecrecover gave the wallet's
    // address back from the signature the token made.
    const tx = await createPublicClient({ transport: http(chain.rpcUrl) }).getTransactionReceipt({
      hash: paid.tx as Hex,
    });
    assert.equal(tx.status, 'success');
    const transfer = parseEventLogs({ abi: TRANSFER, logs: tx.logs }).find(
      (e) => e.address.toLowerCase() === chain.token.toLowerCase(),
    );
    assert.equal(transfer?.args.from.toLowerCase(), h.wallet.toLowerCase());
    assert.equal(transfer?.args.to.toLowerCase(), payTo);
    assert.equal(transfer?.args.value, 125_000n);
    const receipt = receiptRecords(h.home).find((r) => r.kind === 'payment' && r.body.event === 'payment');
    assert.equal(receipt?.body.tx, paid.tx);
  });

  test('every signature the upstream received is low-S (several payments)', async () => {
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    for (const city of ['lima', 'kyiv', 'baku', 'doha']) {
      const r = (await agent.callTool({ name: 'weather.get', arguments: { city } })) as { isError?: boolean };
      assert.notEqual(r.isError, true, JSON.stringify(r));
    }
    const { decodePaymentSignatureHeader } = await import('@x402/core/http');
    assert.ok(upstream.signatures.length >= 5);
    for (const header of upstream.signatures) {
      const sig = (decodePaymentSignatureHeader(header).payload as { signature: string }).signature;
      assert.equal(sig.length, 2 + 130);
      assert.ok(BigInt(`0x${sig.slice(66, 130)}`) <= N / 2n, 'high-S signature');
      assert.ok(['1b', '1c'].includes(sig.slice(130)), `v is ${sig.slice(130)}`);
    }
  });
});
