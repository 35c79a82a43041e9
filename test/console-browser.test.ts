/**
 * AC-9.2 (web part): a page served from another loopback port cannot read from or act on the
 * console — CSRF, CORS, framing and DNS rebinding — in real Chromium (playwright-core).
 *
 * The attacker: any web page the person opens while signed in to the console, including one
 * served from http://localhost:OTHER_PORT (the same *site* as the console, so SameSite=Strict
 * cookies ARE sent to it) and one on a DNS name rebound to 127.0.0.1.
 *
 * The console here runs on the in-test stub backend (apps/console/src/testing/stub-backend.ts),
 * which is acceptable because the property is the console server's own HTTP behaviour in a
 * browser; the stub records every call, so "the backend was never asked" is checked directly.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { startConsole, type ConsoleHandle } from '../apps/console/src/server.ts';
import { STUB_CREDENTIAL, stubBackend, type StubBackend } from '../apps/console/src/testing/stub-backend.ts';
import {
  chromiumMissing,
  CONSOLE_DIST,
  ensureConsoleBuilt,
  launchChromium,
  VIRTUAL_AUTHENTICATOR,
} from './fixtures/console-browser.ts';
import { enrolInPage, startConsoleDaemon, type ConsoleDaemon } from './fixtures/console-daemon.ts';
import { cli, cliJson, receiptRecords, stdioClient } from './helpers.ts';

const skip = chromiumMissing();

describe('console in a browser: a hostile page on another loopback port', { skip }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let consoleHandle: ConsoleHandle;
  let backend: StubBackend;
  let hostile: Server;
  let hostilePort: number;
  /** Pages the hostile server serves, by path. */
  const hostilePages = new Map<string, string>();
  /** Every request the console saw, with the status it answered. */
  const consoleLog: { method: string; url: string; status: number; origin?: string }[] = [];

  before(async () => {
    ensureConsoleBuilt();
    backend = stubBackend();
    consoleHandle = await startConsole({ backend, port: 0, staticDir: CONSOLE_DIST });
    consoleHandle.server.prependListener('request', (req, res) => {
      res.on('finish', () =>
        consoleLog.push({
          method: req.method ?? '',
          url: req.url ?? '',
          status: res.statusCode,
          ...(req.headers.origin ? { origin: req.headers.origin } : {}),
        }),
      );
    });
    hostile = createServer((req, res) => {
      const page = hostilePages.get((req.url ?? '/').split('?')[0]!);
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page ?? 'not found');
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    hostilePort = (hostile.address() as AddressInfo).port;
    // rebind.test stands for an attacker's DNS name that now resolves to 127.0.0.1.
    browser = await launchChromium(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
    context = await browser.newContext();
    // The victim: signed in to the console in this browser profile.
    const victim = await context.newPage();
    await victim.goto(`${consoleHandle.url}/`);
    const state = await victim.evaluate(async (cred) => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      const h = { 'content-type': 'application/json', 'x-briefcase-csrf': s.csrf };
      const o = (await (await fetch('/api/signin/options', { method: 'POST', headers: h, body: '{}' })).json()) as {
        challenge_id: string;
      };
      const r = await fetch('/api/signin', {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ challenge_id: o.challenge_id, response: { id: cred } }),
      });
      return ((await r.json()) as { state: string }).state;
    }, STUB_CREDENTIAL);
    assert.equal(state, 'signed_in');
    backend.addApproval('ap-victim');
  });

  after(async () => {
    await browser?.close();
    await consoleHandle?.close();
    await new Promise((r) => hostile?.close(r));
  });

  const api = () => consoleHandle.url;

  async function hostilePage(path: string, html: string, host = 'localhost'): Promise<Page> {
    hostilePages.set(path, html);
    const page = await context.newPage();
    await page.goto(`http://${host}:${hostilePort}${path}`);
    return page;
  }

  it('the console page itself runs under its CSP (no violation) and the victim is signed in', async () => {
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${api()}/#/approvals`);
    await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    await page.getByRole('heading', { name: /demo\.send_email/ }).waitFor();
    assert.deepEqual(violations, []);
    await page.close();
  });

  it('the built index.html has no inline script or style (the CSP needs none)', () => {
    const html = readFileSync(join(CONSOLE_DIST, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length >= 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs!, /\bsrc="\/assets\//, 'every script is a file of ours');
      assert.equal(body!.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=|javascript:|https?:\/\//i);
  });

  it('fetch with credentials from http://localhost:OTHER cannot read the API (no CORS, fetch-metadata refusal)', async () => {
    const page = await hostilePage('/read', '<!doctype html><title>evil</title>');
    const out = await page.evaluate(async (target) => {
      const results: Record<string, string> = {};
      for (const path of ['/api/approvals?status=pending', '/api/session', '/api/receipts']) {
        try {
          const r = await fetch(target + path, { credentials: 'include' });
          results[path] = `READ ${r.status} ${await r.text()}`;
        } catch (e) {
          results[path] = `blocked: ${(e as Error).name}`;
        }
      }
      try {
        const opaque = await fetch(`${target}/api/approvals`, { credentials: 'include', mode: 'no-cors' });
        results['no-cors'] = `${opaque.type} ${opaque.status} ${(await opaque.text()).length}`;
      } catch (e) {
        results['no-cors'] = `blocked: ${(e as Error).name}`;
      }
      return results;
    }, api());
    for (const [path, r] of Object.entries(out)) {
      // A no-cors fetch is refused outright by Cross-Origin-Resource-Policy: same-origin.
      assert.match(r, /^blocked: TypeError$/, path);
    }
    // The console itself refused them (403), not only the browser's CORS check.
    const seen = consoleLog.filter((l) => l.origin === `http://localhost:${hostilePort}`);
    assert.ok(seen.length >= 3);
    for (const l of seen) assert.equal(l.status, 403, `${l.method} ${l.url}`);
    await page.close();
  });

  it('a simple cross-origin POST (no preflight) and a JSON POST (preflight) cannot act', async () => {
    const callsBefore = backend.calls.length;
    const page = await hostilePage('/act', '<!doctype html><title>evil</title>');
    const out = await page.evaluate(async (target) => {
      const r: string[] = [];
      for (const init of [
        { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' },
        { method: 'POST', credentials: 'include', mode: 'no-cors', body: '{}' },
        {
          method: 'POST',
          credentials: 'include',
          headers: { 'content-type': 'application/json', 'x-briefcase-csrf': 'guess' },
          body: '{}',
        },
      ] as RequestInit[]) {
        try {
          const res = await fetch(`${target}/api/approvals/ap-victim/reject`, init);
          r.push(`${res.type} ${res.status}`);
        } catch (e) {
          r.push(`blocked: ${(e as Error).name}`);
        }
      }
      return r;
    }, api());
    // text/plain and no-cors POSTs are sent (the server refuses them: Origin, CSRF) and their
    // answers are unreadable; the JSON one stops at the refused preflight.
    assert.deepEqual(out, ['blocked: TypeError', 'blocked: TypeError', 'blocked: TypeError']);
    assert.deepEqual(backend.calls.slice(callsBefore), [], 'the backend was never asked');
    assert.equal(backend.approval('ap-victim')?.status, 'pending');
    const preflights = consoleLog.filter((l) => l.method === 'OPTIONS');
    assert.ok(preflights.length >= 1 && preflights.every((l) => l.status === 403), 'preflight refused');
    await page.close();
  });

  for (const host of ['localhost', '127.0.0.1']) {
    it(`a cross-site form POST from http://${host}:OTHER does not act (SameSite, Origin, CSRF)`, async () => {
      const callsBefore = backend.calls.length;
      const logBefore = consoleLog.length;
      const html = `<!doctype html><title>win a prize</title>
        <form id="f" method="POST" enctype="text/plain" action="${api()}/api/approvals/ap-victim/reject">
          <input name='{"x":"' value='"}'></form>
        <form id="g" method="POST" action="${api()}/api/session/link"><input name="token" value="x"></form>
        <script>document.getElementById('f').submit()</script>`;
      const page = await hostilePage(`/form-${host}`, html, host);
      await page.waitForURL(`${api()}/api/approvals/ap-victim/reject`);
      const answer = await page.textContent('body');
      assert.match(answer ?? '', /"code":"(forbidden|unauthorized)"/);
      const hit = consoleLog.slice(logBefore).find((l) => l.url === '/api/approvals/ap-victim/reject');
      assert.ok(hit && (hit.status === 403 || hit.status === 401), JSON.stringify(hit));
      assert.deepEqual(backend.calls.slice(callsBefore), []);
      assert.equal(backend.approval('ap-victim')?.status, 'pending');
      await page.close();
    });
  }

  it('a hostile page cannot frame the console (frame-ancestors none, X-Frame-Options DENY)', async () => {
    const page = await hostilePage('/frame', `<!doctype html><title>frame</title><iframe src="${api()}/"></iframe>`);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const inner = frame ? await frame.textContent('body').catch(() => 'unreachable') : '';
    assert.ok(!/Briefcase console|Approvals/.test(inner ?? ''), `framed content visible: ${inner}`);
    await page.close();
  });

  it('the console refuses http://127.0.0.1:PORT with a page pointing to http://localhost:PORT', async () => {
    const page = await context.newPage();
    const res = await page.goto(`http://127.0.0.1:${consoleHandle.port}/`);
    assert.equal(res?.status(), 403);
    assert.match((await page.textContent('body')) ?? '', new RegExp(`http://localhost:${consoleHandle.port}`));
    const api403 = await page.evaluate(async () => (await fetch('/api/session')).status);
    assert.equal(api403, 403);
    await page.close();
  });

  it('DNS rebinding: a page on an attacker name resolving to 127.0.0.1 gets nothing (Host check)', async () => {
    const page = await context.newPage();
    const res = await page.goto(`http://rebind.test:${consoleHandle.port}/`);
    assert.equal(res?.status(), 403);
    // Same-origin from the browser's point of view, so only the Host check stands in the way.
    const out = await page.evaluate(async () => {
      const a = await fetch('/api/approvals?status=pending');
      const s = await fetch('/api/session');
      return { approvals: a.status, session: s.status, body: await a.text() };
    });
    assert.equal(out.approvals, 403);
    assert.equal(out.session, 403);
    assert.ok(!out.body.includes('ap-victim'));
    await page.close();
  });
});

/** A raw HTTP client to the console that sets any header it likes: a local process, not a page. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; cookie: string; body: string }> {
  return new Promise((res, rej) => {
    const r = request(
      { host: '127.0.0.1', port, method, path, headers: { host: `localhost:${port}`, ...headers } },
      (resp) => {
        let text = '';
        resp.on('data', (c) => (text += c));
        resp.on('end', () => {
          const c = resp.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
          res({ status: resp.statusCode ?? 0, cookie: c, body: text });
        });
      },
    );
    r.on('error', rej);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

describe('console in a browser, real daemon: a hostile page on another loopback port (AC-9.2)', { skip }, () => {
  let cd: ConsoleDaemon;
  let browser: Browser;
  let context: BrowserContext;
  let victim: Page;
  let victimCdp: CDPSession;
  let victimAuthenticator: string;
  let agent: Client;
  let held: Promise<unknown>;
  let approvalId: string;
  let hostile: Server;
  let hostilePort: number;
  const pages = new Map<string, string>();

  const status = () => cliJson<{ status: string }>(cd.home, ['approvals', 'show', approvalId]).json.status;

  before(async () => {
    ensureConsoleBuilt();
    cd = await startConsoleDaemon();
    hostile = createServer((req, res) => {
      const page = pages.get((req.url ?? '/').split('?')[0]!);
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page ?? 'not found');
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    hostilePort = (hostile.address() as AddressInfo).port;
    browser = await launchChromium(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
    context = await browser.newContext();
    victim = await context.newPage();
    ({ cdp: victimCdp, authenticatorId: victimAuthenticator } = await enrolInPage(victim, cd.home, cd.url));
    // The victim is signed in, and an agent's call waits for a presence-tier approval.
    agent = await stdioClient(cd.home);
    held = agent.callTool({ name: 'notes.add', arguments: { text: 'held for the attack test' } }, undefined, {
      timeout: 120_000,
    });
    await victim.goto(`${cd.url}/#/approvals`);
    const card = victim.locator('article[data-approval-id]').first();
    await card.waitFor();
    approvalId = (await card.getAttribute('data-approval-id'))!;
    assert.equal(status(), 'pending');
  });

  after(async () => {
    if (approvalId && cd) cli(cd.home, ['approvals', 'reject', approvalId]);
    await held?.catch(() => undefined);
    await agent?.close();
    await browser?.close();
    await cd?.stop();
    await new Promise((r) => hostile?.close(r));
  });

  async function hostilePage(path: string, html: string, host = 'localhost'): Promise<Page> {
    pages.set(path, html);
    const page = await context.newPage();
    await page.goto(`http://${host}:${hostilePort}${path}`);
    return page;
  }

  it('cannot read the pending approval with fetch(credentials: include), nor act with fetch', async () => {
    const page = await hostilePage('/x', '<!doctype html><title>evil</title>');
    const out = await page.evaluate(async (target) => {
      const r: string[] = [];
      const tries: [string, RequestInit][] = [
        ['/api/approvals?status=pending', { credentials: 'include' }],
        ['/api/approvals?status=pending', { credentials: 'include', mode: 'no-cors' }],
        ['/api/session', { credentials: 'include' }],
        [
          `/api/approvals/ID/reject`,
          { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{}' },
        ],
        [`/api/approvals/ID/reject`, { method: 'POST', credentials: 'include', mode: 'no-cors', body: '{}' }],
        [
          `/api/approvals/ID/reject`,
          { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' },
        ],
      ];
      for (const [path, init] of tries) {
        try {
          const res = await fetch(target + path, init);
          r.push(`READ ${res.status} ${await res.text()}`);
        } catch (e) {
          r.push(`blocked: ${(e as Error).name}`);
        }
      }
      return r;
    }, cd.url);
    assert.deepEqual(out, Array(6).fill('blocked: TypeError'));
    assert.equal(status(), 'pending');
    await page.close();
  });

  for (const host of ['localhost', '127.0.0.1']) {
    it(`a cross-site form POST from http://${host}:OTHER does not reject the approval`, async () => {
      const target = `${cd.url}/api/approvals/${approvalId}/reject`;
      const html = `<!doctype html><title>prize</title>
        <form id="f" method="POST" enctype="text/plain" action="${target}"><input name='{"a":"' value='"}'></form>
        <script>document.getElementById('f').submit()</script>`;
      pages.set(`/form-${host}`, html);
      const page = await context.newPage();
      const answer = page.waitForResponse(target);
      await page.goto(`http://${host}:${hostilePort}/form-${host}`);
      const res = await answer;
      assert.ok(res.status() === 403 || res.status() === 401, `answered ${res.status()}`);
      assert.equal(status(), 'pending');
      await page.close();
    });
  }

  it('a page on another localhost port that makes the passkey sign a console challenge gets nothing usable', async () => {
    // The attacker, a local process, takes an anonymous session and a sign-in challenge (it can
    // forge Host and Origin: it is not a browser).
    const s = await raw(cd.port, 'GET', '/api/session', {});
    const csrf = (JSON.parse(s.body) as { csrf: string }).csrf;
    const h = { cookie: s.cookie, 'x-briefcase-csrf': csrf, origin: cd.url, 'content-type': 'application/json' };
    const opts = JSON.parse((await raw(cd.port, 'POST', '/api/signin/options', h, '{}')).body) as {
      challenge_id: string;
      options: { challenge: string; allowCredentials?: { id: string }[] };
    };
    // The person's passkey is available to every page of the browser (a platform authenticator):
    // give the hostile page an authenticator holding the same credential.
    const page = await hostilePage('/phish', '<!doctype html><title>Sign in to continue</title>');
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: VIRTUAL_AUTHENTICATOR });
    const { credentials } = await victimCdp.send('WebAuthn.getCredentials', { authenticatorId: victimAuthenticator });
    for (const credential of credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    // Same RP ID (`localhost`), so the browser lets this page ask for an assertion…
    const response = await page.evaluate(async (o) => {
      const b64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
      // (this file is type-checked without the DOM library)
      const nav = (
        globalThis as unknown as {
          navigator: { credentials: { get(o: unknown): Promise<{ toJSON(): Record<string, unknown> }> } };
        }
      ).navigator;
      const cred = await nav.credentials.get({
        publicKey: {
          challenge: b64(o.challenge),
          rpId: 'localhost',
          userVerification: 'required',
          allowCredentials: (o.allowCredentials ?? []).map((c) => ({ type: 'public-key' as const, id: b64(c.id) })),
        },
      });
      return cred.toJSON();
    }, opts.options);
    // …but the signed client data names this page's origin, which the daemon refuses.
    const signin = await raw(
      cd.port,
      'POST',
      '/api/signin',
      h,
      JSON.stringify({ challenge_id: opts.challenge_id, response }),
    );
    assert.equal(signin.status, 403, signin.body);
    assert.equal((JSON.parse(signin.body) as { error: { code: string } }).error.code, 'presence_refused');
    const refused = receiptRecords(cd.home).filter((r) => r.kind === 'passkey' && r.body.event === 'assertion_refused');
    assert.ok(refused.length >= 1, 'the refusal is receipted');
    assert.match(String(refused.at(-1)!.body.reason), new RegExp(`localhost:${hostilePort}`), 'refused for its origin');
    await page.close();
  });

  it('http://127.0.0.1:PORT and a rebound DNS name get 403 from the real console', async () => {
    const page = await context.newPage();
    assert.equal((await page.goto(`http://127.0.0.1:${cd.port}/`))?.status(), 403);
    assert.equal((await page.goto(`http://rebind.test:${cd.port}/`))?.status(), 403);
    const r = await page.evaluate(async () => (await fetch('/api/approvals?status=pending')).status);
    assert.equal(r, 403);
    await page.close();
    assert.equal(status(), 'pending');
  });
});
