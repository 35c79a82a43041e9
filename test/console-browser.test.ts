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
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startConsole, type ConsoleHandle } from '../apps/console/src/server.ts';
import { STUB_CREDENTIAL, stubBackend, type StubBackend } from '../apps/console/src/testing/stub-backend.ts';
import { chromiumMissing, CONSOLE_DIST, ensureConsoleBuilt, launchChromium } from './fixtures/console-browser.ts';

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
