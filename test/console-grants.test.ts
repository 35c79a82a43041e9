/**
 * Issue 12, the console's grants view, end to end: real daemon, real chain (anvil, x402 through
 * the reference facilitator), real Chromium with a virtual authenticator. A person creates a
 * spending grant on the Grants page (a widening change: it waits for the passkey), an agent's paid
 * call spends against it and the page shows the spend, and the person revokes it from the page
 * (narrowing: the signed-in session suffices); the agent's next paid call is refused.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser, Page } from 'playwright-core';
import type { Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { chromiumMissing, ensureConsoleBuilt, launchChromium } from './fixtures/console-browser.ts';
import { enrolInPage } from './fixtures/console-daemon.ts';
import { cliJson, freePort, readJson, receiptRecords, ROOT, startDaemon, stdioClient, writeJson } from './helpers.ts';
import { anvilSkipReason, DEV_KEY_0, startChain, type Chain } from './payments/chain.ts';
import { payingHome, type PayingHome } from './payments/harness.ts';
import { startX402Upstream, type Upstream } from './payments/x402-upstream.ts';

const skip = chromiumMissing() || anvilSkipReason() || false;
const AMOUNT = 250_000n;

describe('console Grants page: create with a passkey, see the spend, revoke', { skip }, () => {
  const payTo = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Hex;
  let chain: Chain;
  let upstream: Upstream;
  let h: PayingHome;
  let browser: Browser;
  let page: Page;
  let agent: Client;
  let url: string;

  before(async () => {
    ensureConsoleBuilt();
    chain = await startChain(privateKeyToAccount(DEV_KEY_0).address);
    upstream = await startX402Upstream({ chain, payTo, amount: AMOUNT });
    h = await payingHome(chain, [{ name: 'weather.get', upstream: upstream.url, max: AMOUNT.toString() }]);
    const port = await freePort();
    const configPath = join(h.home, 'config.json');
    writeJson(configPath, { ...readJson<Record<string, unknown>>(configPath), console: { enabled: true, port } });
    await h.daemon.stop();
    h.daemon = await startDaemon(h.home);
    url = `http://localhost:${port}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    await enrolInPage(page, h.home, url);
    agent = await stdioClient(h.home);
  });
  after(async () => {
    await agent?.close();
    await browser?.close();
    await h?.cleanup();
    await upstream?.close();
    await chain?.stop();
  });

  const call = (city: string) =>
    agent.callTool({ name: 'weather.get', arguments: { city } }, undefined, { timeout: 120_000 }) as Promise<{
      isError?: boolean;
      content?: { text?: string }[];
    }>;

  it('creates a grant from the page with the passkey; the agent pays within it; the page shows the spend; revoking stops it', async () => {
    // Without a grant the agent cannot pay.
    assert.equal((await call('oslo')).isError, true);

    await page.goto(`${url}/#/grants`);
    await page.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    await page.getByText('No spending grants.').waitFor();
    await page.getByText(`Payment wallet: ${h.wallet.toLowerCase()}`).waitFor();
    const form = page.locator('form[aria-labelledby="create-h"]');
    await form.getByLabel('Network').fill(chain.network);
    await form.getByLabel('Asset').fill(chain.token);
    await form.getByLabel('Total (atomic units)').fill('1000000');
    await form.getByLabel('Payees (comma-separated)').fill(payTo);
    await form.getByLabel('Purpose (the tool name)').fill('weather.get');
    await form.getByRole('button', { name: 'Create grant' }).click();
    await page.getByText('Created a grant for weather.get.').waitFor();
    const card = page.locator('article[data-grant-id]');
    await card.getByText('active').waitFor();
    const grantId = await card.getAttribute('data-grant-id');
    assert.match(grantId ?? '', /^grant_/);

    // The passkey confirmed a grant_create operation: receipted with the assertion.
    const confirmed = receiptRecords(h.home).find(
      (r) => r.kind === 'operation' && r.body.event === 'confirmed' && r.body.kind === 'grant_create',
    );
    assert.ok(confirmed?.body.presence, 'the grant_create operation was confirmed with a passkey assertion');
    const created = receiptRecords(h.home).find((r) => r.kind === 'payment' && r.body.event === 'grant_created');
    assert.equal(created?.body.grant_id, grantId);
    const listed = cliJson<{ grants: { grantId: string }[] }>(h.home, ['grants', 'list']).json.grants;
    assert.deepEqual(
      listed.map((g) => g.grantId),
      [grantId],
    );

    // The agent pays within it; the page shows what was spent.
    const before = await chain.balanceOf(payTo);
    const paid = await call('rome');
    assert.notEqual(paid.isError, true, JSON.stringify(paid));
    assert.equal((await chain.balanceOf(payTo)) - before, AMOUNT);
    await page.reload();
    await card.locator(`td[data-spent="${AMOUNT}"]`).waitFor();
    await page.screenshot({ path: join(ROOT, 'docs/screenshots/console-grants.png'), fullPage: true });
    const axe = await new AxeBuilder({ page }).analyze();
    const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map((v) => v.id),
      [],
    );

    // Revoke from the page: no passkey prompt (narrowing), effective at once.
    const operationsBefore = receiptRecords(h.home).filter((r) => r.kind === 'operation').length;
    await card.getByRole('button', { name: 'Revoke weather.get' }).click();
    await page.getByText('Revoked the grant for weather.get.').waitFor();
    await card.getByText('revoked', { exact: true }).waitFor();
    assert.equal(await card.getByRole('button', { name: /Revoke/ }).count(), 0);
    const revoked = receiptRecords(h.home).find((r) => r.kind === 'payment' && r.body.event === 'grant_revoked');
    assert.equal(revoked?.body.grant_id, grantId);
    assert.equal(receiptRecords(h.home).filter((r) => r.kind === 'operation').length, operationsBefore);

    const afterRevoke = await chain.balanceOf(payTo);
    const refused = await call('lima');
    assert.equal(refused.isError, true);
    assert.equal(await chain.balanceOf(payTo), afterRevoke);
  });

  it('the grants API needs a signed-in session, and revoking needs the CSRF token', async () => {
    const anonymous = await fetch(`${url}/api/grants`);
    assert.equal(anonymous.status, 401);
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/grants/grant_x/revoke', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return r.status;
    });
    assert.equal(status, 403);
  });
});
