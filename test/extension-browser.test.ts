/**
 * AC-4 (FR-4): the browser extension in real Chromium. The unpacked extension, its native host
 * registered by `briefcase extension install` in a throwaway profile, a real daemon serving the
 * real console: an agent's call waits, the popup shows it with its facts and the badge counts it,
 * and the approve path (the popup's button opens the console, where a passkey approves) completes
 * the agent's call. Around it, the promises of the extension's session: it never receives the
 * admin token, a viewer token cannot approve, and an expired one is refused.
 *
 * Passkeys: Chromium's own virtual authenticator (DevTools protocol, UV). A virtual authenticator
 * belongs to one tab, so the passkey enrolled in the enrolment tab is copied into the tab the
 * extension opens (WebAuthn.getCredentials → addCredential): the same private key, as a synced
 * passkey would be.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type BrowserContext, type CDPSession, type Page, type Worker } from 'playwright-core';
import { EXTENSION_DIR, EXTENSION_ID, EXTENSION_ORIGIN, HOST_NAME } from '@briefcase/extension';
import { CHROMIUM, VIRTUAL_AUTHENTICATOR, chromiumMissing, ensureConsoleBuilt } from './fixtures/console-browser.ts';
import {
  ROOT,
  cli,
  cliJson,
  daemonRequest,
  freePort,
  readJson,
  receiptRecords,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  token,
  writeJson,
  type DaemonProcess,
} from './helpers.ts';

const skip = chromiumMissing();
const SCREENSHOT = join(ROOT, 'docs/screenshots/extension-popup.png');
const POPUP = `chrome-extension://${EXTENSION_ID}/popup.html`;
const HOSTILE = 'renew the passport <b>now</b> \u202egpj.exe';

/** The extension APIs the test calls inside the service worker (the repository has no @types/chrome). */
type StorageArea = { get(keys: string | null): Promise<Record<string, unknown>>; set(items: object): Promise<void> };
declare const chrome: {
  action: { getBadgeText(details: object): Promise<string> };
  notifications: { getAll(): Promise<Record<string, boolean>> };
  runtime: { sendNativeMessage(host: string, message: unknown): Promise<unknown> };
  storage: { local: StorageArea; session: StorageArea; sync: StorageArea };
};

interface Session {
  type: string;
  token: string;
  expires_at: string;
  console_url: string;
}

/** A virtual authenticator with user verification in this tab (RECIPES §8). */
async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: VIRTUAL_AUTHENTICATOR });
  return { cdp, id: authenticatorId };
}

/** The console's answer to a request made with a given bearer token (as the extension would). */
async function consoleFetch(url: string, init: { method?: string; bearer?: string; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: await res.text() };
}

describe('the browser extension in real Chromium (AC-4, FR-4)', { skip }, () => {
  const { home, cleanup } = tempHome();
  const profile = mkdtempSync(join(tmpdir(), 'bc-profile-'));
  let consoleUrl = '';
  let daemon: DaemonProcess;
  let ctx: BrowserContext;
  let sw: Worker;
  let agent: Client;
  let admin = '';
  let credential: Record<string, unknown>;
  let popup: Page;
  let approvalId = '';
  let agentCall: Promise<{ isError?: boolean; content: unknown }>;

  before(async () => {
    ensureConsoleBuilt();
    assert.equal(cli(home, ['init']).code, 0);
    const port = await freePort();
    writeJson(`${home}/config.json`, {
      ...readJson<Record<string, unknown>>(`${home}/config.json`),
      console: { enabled: true, port },
      approvals: { ttl_seconds: 600, wait_seconds: 170 },
    });
    consoleUrl = `http://localhost:${port}`;
    daemon = await startDaemon(home);
    admin = token(home, 'admin');
    const installed = cliJson<{ manifest: string; launcher: string }>(home, [
      'extension',
      'install',
      '--user-data-dir',
      profile,
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(installed.json.manifest, join(profile, 'NativeMessagingHosts', `${HOST_NAME}.json`));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        `--disable-extensions-except=${EXTENSION_DIR}`,
        `--load-extension=${EXTENSION_DIR}`,
      ],
    });
    sw = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent('serviceworker'));
    assert.equal(sw.url(), `${EXTENSION_ORIGIN}sw.js`);
  });

  after(async () => {
    await agent?.close();
    await ctx?.close();
    await daemon?.stop();
    rmSync(profile, { recursive: true, force: true });
    cleanup();
  });

  it('enrols a passkey through the console’s one-time link (the person’s first step)', async () => {
    // What the person runs: `briefcase console` prints the one-time enrolment link.
    const link = cliJson<{ enrol_url: string }>(home, ['console', '--no-open']);
    assert.equal(link.code, 0, link.stderr);
    const { enrol_url } = link.json;
    const page = await ctx.newPage();
    await page.goto(consoleUrl);
    const auth = await authenticator(page);
    await page.goto(enrol_url);
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByRole('heading', { name: 'Your passkey is enrolled' }).waitFor();
    const { credentials } = await auth.cdp.send('WebAuthn.getCredentials', { authenticatorId: auth.id });
    assert.equal(credentials.length, 1);
    credential = credentials[0] as unknown as Record<string, unknown>;
    await page.close();
  });

  it('shows a waiting approval in the popup with the console’s facts, and counts it on the badge', async () => {
    agent = await stdioClient(home);
    // The agent chooses the text: markup and a bidi override must reach the person as plain, visible text.
    agentCall = agent.callTool({ name: 'notes.add', arguments: { text: HOSTILE } }, undefined, {
      timeout: 170_000,
    }) as typeof agentCall;
    agentCall.catch(() => {}); // awaited in the approve test; a failure before then is reported there
    popup = await ctx.newPage();
    await popup.setViewportSize({ width: 440, height: 760 });
    await popup.goto(POPUP);
    // The popup asks the worker to refresh every 5 s while it is open.
    const card = popup.locator('li.approval');
    await card.first().waitFor({ timeout: 30_000 });
    assert.equal(await card.count(), 1);
    approvalId = (await card.getAttribute('data-id')) ?? '';
    assert.ok(approvalId);
    const facts = Object.fromEntries(
      await card
        .locator('dt')
        .evaluateAll((dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
    ) as Record<string, string>;
    assert.equal(facts.Tool, 'notes.add');
    assert.equal(facts.Tier, 'presence');
    assert.ok(facts.Arguments?.includes('"text": "renew the passport <b>now</b> \\u{202e}gpj.exe"'), facts.Arguments);
    assert.match(facts.Arguments ?? '', /1 invisible or control character, shown as/);
    assert.equal(await card.locator('b, img, script').count(), 0, 'no markup from the agent became an element');
    assert.match(facts.Changes ?? '', /notes/);
    assert.match(facts.Why ?? '', /\S/);
    assert.match(facts.Cost ?? '', /minor units \(estimated\)/);
    assert.match(facts.Expires ?? '', /^in \d+ min/);
    assert.ok(facts.Server);
    assert.ok('Reads' in facts);
    assert.equal(await sw.evaluate(() => chrome.action.getBadgeText({})), '1');
    const notes = await sw.evaluate(() => chrome.notifications.getAll());
    assert.ok(`approval:${approvalId}` in notes, `a notification for the new approval: ${JSON.stringify(notes)}`);
    await popup.locator('#receipts li').first().waitFor();
    const axe = await new AxeBuilder({ page: popup }).analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      serious.map((v) => v.id),
      [],
      'the popup has no serious accessibility violations',
    );
    mkdirSync(join(ROOT, 'docs/screenshots'), { recursive: true });
    await popup.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('never receives the admin token: the host sends a viewer session only, and storage holds nothing else', async () => {
    const answer = await sw.evaluate(
      (host) => chrome.runtime.sendNativeMessage(host, { type: 'session' }) as Promise<Session>,
      HOST_NAME,
    );
    assert.deepEqual(Object.keys(answer).sort(), ['console_url', 'expires_at', 'token', 'type']);
    assert.equal(answer.console_url, consoleUrl);
    assert.notEqual(answer.token, admin);
    assert.ok(Date.parse(answer.expires_at) - Date.now() <= 600_000);
    // The raw bytes the installed launcher writes, as Chromium receives them.
    const manifest = readJson<{ path: string }>(join(profile, 'NativeMessagingHosts', `${HOST_NAME}.json`));
    const body = Buffer.from(JSON.stringify({ type: 'session' }));
    const header = Buffer.alloc(4);
    header.writeUInt32LE(body.length);
    const raw = spawnSync(manifest.path, [EXTENSION_ORIGIN], { input: Buffer.concat([header, body]), env: {} });
    assert.equal(raw.status, 0, raw.stderr.toString());
    assert.ok(raw.stdout.length > 4 && !raw.stdout.toString('latin1').includes(admin));
    const stored = await sw.evaluate(async () =>
      JSON.stringify([
        await chrome.storage.local.get(null),
        await chrome.storage.session.get(null),
        await chrome.storage.sync.get(null),
      ]),
    );
    assert.ok(!stored.includes(admin), 'the admin token is nowhere in chrome.storage');
    const [, session] = JSON.parse(stored) as [unknown, { session?: Record<string, unknown> }];
    assert.deepEqual(Object.keys(session.session ?? {}).sort(), ['console_url', 'expires_at', 'token']);
  });

  it('a viewer token cannot approve anything: not at the console, not at the daemon', async () => {
    const viewer = await sw.evaluate(async () => (await chrome.storage.session.get('session')).session as Session);
    const approve = `${consoleUrl}/api/approvals/${encodeURIComponent(approvalId)}/approve`;
    const atConsole = await consoleFetch(approve, { method: 'POST', bearer: viewer.token, body: {} });
    assert.ok([401, 403].includes(atConsole.status), `console: ${atConsole.status} ${atConsole.body}`);
    const viewerPost = await consoleFetch(`${consoleUrl}/api/viewer/approvals`, {
      method: 'POST',
      bearer: viewer.token,
    });
    assert.equal(viewerPost.status, 405);
    const atDaemon = await daemonRequest(home, 'POST', `/v1/admin/approvals/${approvalId}/approve`, viewer.token, '{}');
    assert.equal(atDaemon.status, 401);
    const still = await daemonRequest(home, 'GET', `/v1/admin/approvals/${approvalId}`, admin);
    assert.equal((JSON.parse(still.body) as { status: string }).status, 'pending');
  });

  it('an expired viewer token is refused, and the extension then gets a new session', async () => {
    const minted = await daemonRequest(home, 'POST', '/v1/admin/console/viewer-session', admin, '{"ttl_seconds":1}');
    assert.equal(minted.status, 200, minted.body);
    const short = JSON.parse(minted.body) as Session;
    assert.equal((await consoleFetch(`${consoleUrl}/api/viewer/approvals`, { bearer: short.token })).status, 200);
    while (Date.now() <= Date.parse(short.expires_at)) await sleep(100);
    const expired = await consoleFetch(`${consoleUrl}/api/viewer/approvals`, { bearer: short.token });
    assert.equal(expired.status, 401);
    // Hand the worker the expired session as if it had been minted earlier and not yet renewed.
    await sw.evaluate(
      (s) => chrome.storage.session.set({ session: { ...s, expires_at: new Date(Date.now() + 60_000).toISOString() } }),
      { token: short.token, expires_at: short.expires_at, console_url: short.console_url },
    );
    await popup.reload();
    await popup.locator(`li.approval[data-id="${approvalId}"]`).waitFor();
    const renewed = await sw.evaluate(async () => (await chrome.storage.session.get('session')).session as Session);
    assert.notEqual(renewed.token, short.token);
  });

  it('the approve path: the popup’s button opens the console, a passkey approves, the agent’s call completes', async () => {
    const opened = ctx.waitForEvent('page');
    // With the keyboard alone: Tab to the approval's button, then Enter.
    const button = `li.approval[data-id="${approvalId}"] button`;
    for (let i = 0; i < 5 && !(await popup.locator(button).evaluate((b) => b === b.ownerDocument.activeElement)); i++) {
      await popup.keyboard.press('Tab');
    }
    await popup.keyboard.press('Enter');
    const tab = await opened;
    await tab.waitForLoadState();
    assert.equal(tab.url(), `${consoleUrl}/#/approvals/${encodeURIComponent(approvalId)}`);
    const auth = await authenticator(tab);
    await auth.cdp.send('WebAuthn.addCredential', { authenticatorId: auth.id, credential: credential as never });
    // The enrolment signed this browser in; if that session is gone, sign in with the passkey first.
    const signIn = tab.getByRole('button', { name: 'Sign in with passkey' });
    const card = tab.locator(`[data-approval-id="${approvalId}"]`);
    await Promise.race([signIn.waitFor(), card.waitFor()]);
    if (await signIn.isVisible()) await signIn.click();
    await card.getByRole('button', { name: 'Approve with passkey' }).click();
    const result = await agentCall;
    assert.notEqual(result.isError, true, JSON.stringify(result));
    const approval = receiptRecords(home).find(
      (r) => r.kind === 'approval' && r.body.approval_id === approvalId && r.body.event === 'approved',
    );
    assert.ok(approval, 'the approval is receipted');
    assert.ok(approval.body.presence, 'with the passkey assertion');
    // The popup follows: nothing waits, the badge clears, the receipts show the passkey approval.
    await popup.reload();
    await popup.getByText('Nothing waits for your approval.').waitFor();
    assert.equal(await sw.evaluate(() => chrome.action.getBadgeText({})), '');
    await popup.locator('#receipts li', { hasText: '· passkey' }).first().waitFor();
    assert.match((await popup.locator('#verify').textContent()) ?? '', /^Receipt log verified/);
  });
});
