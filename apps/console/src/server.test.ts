/**
 * The console server's own HTTP security, over real HTTP on loopback. The backend here is the
 * in-test stub (testing/stub-backend.ts): acceptable ONLY because these tests are about the
 * console's HTTP layer (Host, Origin, CSRF, CORS, cookies, CSP, viewer scope, static files);
 * passkeys and approvals are proved against the real daemon in test/console-e2e.test.ts.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startConsole, type ConsoleHandle } from './server.ts';
import { STUB_CREDENTIAL, STUB_LINK, stubBackend, type StubBackend } from './testing/stub-backend.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let consoleHandle: ConsoleHandle;
let backend: StubBackend;
let base: string;
const seen: Reply[] = [];

function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  port = consoleHandle.port,
): Promise<Reply> {
  return new Promise((res, rej) => {
    const r = request(
      { host: '127.0.0.1', port, method, path, headers: { host: `localhost:${port}`, ...headers } },
      (resp) => {
        let text = '';
        resp.on('data', (c) => (text += c));
        resp.on('end', () => {
          const reply = { status: resp.statusCode ?? 0, headers: resp.headers, body: text };
          seen.push(reply);
          res(reply);
        });
      },
    );
    r.on('error', rej);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

const origin = () => consoleHandle.url;
const cookieOf = (r: Reply) => {
  const c = r.headers['set-cookie'];
  const first = Array.isArray(c) ? c[0] : c;
  return first ? first.split(';')[0]! : '';
};

/** A fresh anonymous session: its cookie and CSRF token. */
async function anonymous(): Promise<{ cookie: string; csrf: string }> {
  const r = await call('GET', '/api/session');
  assert.equal(r.status, 200);
  return { cookie: cookieOf(r), csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
}

function post(
  path: string,
  s: { cookie: string; csrf: string },
  body: unknown = {},
  extra: Record<string, string> = {},
) {
  return call(
    'POST',
    path,
    { cookie: s.cookie, 'x-briefcase-csrf': s.csrf, origin: origin(), 'content-type': 'application/json', ...extra },
    JSON.stringify(body),
  );
}

async function signedIn(): Promise<{ cookie: string; csrf: string }> {
  const s = await anonymous();
  const opts = JSON.parse((await post('/api/signin/options', s)).body) as { challenge_id: string };
  const r = await post('/api/signin', s, { challenge_id: opts.challenge_id, response: { id: STUB_CREDENTIAL } });
  assert.equal(r.status, 200, r.body);
  return { cookie: cookieOf(r), csrf: (JSON.parse(r.body) as { csrf: string }).csrf };
}

let dir: string;
let dist: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bc-console-'));
  dist = join(dir, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><title>console</title><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dist, '.secret'), 'DOTFILE-CANARY');
  writeFileSync(join(dir, 'outside.txt'), 'OUTSIDE-CANARY');
  backend = stubBackend();
  consoleHandle = await startConsole({ backend, port: 0, staticDir: dist });
  base = consoleHandle.url;
});

after(async () => {
  await consoleHandle.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('console server: binding and Host (DNS rebinding)', () => {
  it('refuses to listen on a non-loopback address', async () => {
    await assert.rejects(startConsole({ backend: stubBackend(), port: 0, host: '0.0.0.0' }), /loopback only/);
  });

  it('answers at http://localhost:PORT', async () => {
    assert.equal(base, `http://localhost:${consoleHandle.port}`);
    assert.equal((await call('GET', '/')).status, 200);
  });

  it('refuses a rebound host name, a missing Host and the bare IP (with a page naming the right URL)', async () => {
    const evil = await call('GET', '/api/session', { host: `rebind.attacker.example:${consoleHandle.port}` });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers['set-cookie'], undefined, 'no session for a foreign host');
    assert.equal((await call('GET', '/', { host: 'localhost' })).status, 403, 'Host without the port');
    assert.equal((await call('GET', '/', { host: `localhost:${consoleHandle.port + 1}` })).status, 403);
    const ip = await call('GET', '/', { host: `127.0.0.1:${consoleHandle.port}` });
    assert.equal(ip.status, 403);
    assert.match(ip.body, new RegExp(`http://localhost:${consoleHandle.port}`));
    const ip6 = await call('GET', '/api/session', { host: `[::1]:${consoleHandle.port}` });
    assert.equal(ip6.status, 403);
  });
});

describe('console server: Origin, CSRF and CORS', () => {
  it('a POST needs our Origin and the session CSRF token; anything else is refused before the backend', async () => {
    const s = await anonymous();
    const before = backend.calls.length;
    const body = JSON.stringify({ token: STUB_LINK });
    const json = { 'content-type': 'application/json', cookie: s.cookie };
    const tries: Record<string, string>[] = [
      { ...json, origin: origin() }, // no CSRF token
      { ...json, origin: origin(), 'x-briefcase-csrf': 'wrong' },
      { ...json, 'x-briefcase-csrf': s.csrf }, // no Origin
      { ...json, origin: 'http://localhost:1', 'x-briefcase-csrf': s.csrf },
      { ...json, origin: `http://127.0.0.1:${consoleHandle.port}`, 'x-briefcase-csrf': s.csrf },
      { ...json, origin: 'null', 'x-briefcase-csrf': s.csrf },
    ];
    for (const h of tries) {
      const r = await call('POST', '/api/session/link', h, body);
      assert.equal(r.status, 403, JSON.stringify(h));
      assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'forbidden');
    }
    // Another session's CSRF token is no good either.
    const other = await anonymous();
    assert.equal(
      (await post('/api/session/link', { cookie: s.cookie, csrf: other.csrf }, { token: STUB_LINK })).status,
      403,
    );
    assert.equal(backend.calls.length, before, 'no refused request reached the backend');
    assert.equal((await post('/api/session/link', s, { token: STUB_LINK })).status, 200);
  });

  it('an HTML form body (what a cross-site form can send) is refused even with the right headers', async () => {
    const s = await anonymous();
    const form = await call(
      'POST',
      '/api/session/link',
      {
        cookie: s.cookie,
        'x-briefcase-csrf': s.csrf,
        origin: origin(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      `token=${STUB_LINK}`,
    );
    assert.equal(form.status, 415);
  });

  it('a GET started by another site (Sec-Fetch-Site) or carrying another Origin is refused', async () => {
    const s = await signedIn();
    const cross = await call('GET', '/api/approvals', { cookie: s.cookie, 'sec-fetch-site': 'same-site' });
    assert.equal(cross.status, 403);
    const cross2 = await call('GET', '/api/approvals', { cookie: s.cookie, 'sec-fetch-site': 'cross-site' });
    assert.equal(cross2.status, 403);
    const foreign = await call('GET', '/api/approvals', { cookie: s.cookie, origin: 'http://localhost:1' });
    assert.equal(foreign.status, 403);
    const ok = await call('GET', '/api/approvals', { cookie: s.cookie, 'sec-fetch-site': 'same-origin' });
    assert.equal(ok.status, 200);
  });

  it('never grants CORS: preflights get 403 and no response carries Access-Control-Allow-*', async () => {
    const pre = await call('OPTIONS', '/api/approvals', {
      origin: 'http://localhost:1',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'x-briefcase-csrf, content-type',
    });
    assert.equal(pre.status, 403);
    const viewerPre = await call('OPTIONS', '/api/viewer/approvals', { origin: 'chrome-extension://abc' });
    assert.equal(viewerPre.status, 403);
    assert.ok(seen.length > 10);
    for (const r of seen) {
      for (const h of Object.keys(r.headers)) assert.ok(!h.startsWith('access-control-'), `${h} on a ${r.status}`);
    }
  });
});

describe('console server: session cookie and states', () => {
  it('sets an HttpOnly SameSite=Strict cookie with a short lifetime and a random 32-byte value', async () => {
    const r = await call('GET', '/api/session');
    const raw = r.headers['set-cookie'];
    const c = Array.isArray(raw) ? raw[0]! : raw!;
    assert.match(c, /^briefcase_console=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=900$/);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(body.state, 'anonymous');
    assert.match(String(body.csrf), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!JSON.stringify(body).includes(cookieOf(r).split('=')[1]!), 'the session id is not in the JSON');
  });

  it('an unknown cookie gets no session (except GET /api/session, which starts a fresh one)', async () => {
    const bogus = { cookie: 'briefcase_console=AAAA', 'x-briefcase-csrf': 'x', origin: origin() };
    assert.equal((await call('GET', '/api/approvals', bogus)).status, 401);
    assert.equal((await call('POST', '/api/signin/options', bogus)).status, 401);
  });

  it('only a signed-in session reaches the data; enrolment and sign-in rotate the session id', async () => {
    const s = await anonymous();
    for (const p of [
      '/api/approvals',
      '/api/receipts',
      '/api/spend',
      '/api/remotes',
      '/api/keys',
      '/api/passkeys',
      '/api/events',
    ]) {
      assert.equal((await call('GET', p, { cookie: s.cookie })).status, 401, p);
    }
    assert.equal(
      (await post('/api/passkeys/register/options', s, { label: 'x' })).status,
      401,
      'register needs enrolling',
    );
    assert.equal((await post('/api/approvals/a1/reject', s)).status, 401);
    const linked = await post('/api/session/link', s, { token: STUB_LINK });
    const enrolling = { cookie: cookieOf(linked), csrf: (JSON.parse(linked.body) as { csrf: string }).csrf };
    assert.notEqual(enrolling.cookie, s.cookie);
    assert.notEqual(enrolling.csrf, s.csrf);
    assert.equal(
      (await call('GET', '/api/session', { cookie: s.cookie })).headers['set-cookie']?.[0]?.includes(s.cookie),
      false,
      'old id is dead',
    );
    assert.equal(
      (await call('GET', '/api/approvals', { cookie: enrolling.cookie })).status,
      401,
      'enrolling is not signed in',
    );
    const opts = JSON.parse((await post('/api/passkeys/register/options', enrolling, { label: 'laptop' })).body) as {
      challenge_id: string;
    };
    const reg = await post('/api/passkeys/register', enrolling, {
      challenge_id: opts.challenge_id,
      response: { id: STUB_CREDENTIAL },
    });
    assert.equal(reg.status, 200, reg.body);
    const out = JSON.parse(reg.body) as { recovery_codes: string[]; session: { state: string; csrf: string } };
    assert.deepEqual(out.recovery_codes, ['stub-recovery']);
    assert.equal(out.session.state, 'signed_in');
    const signed = { cookie: cookieOf(reg), csrf: out.session.csrf };
    assert.equal((await call('GET', '/api/approvals', { cookie: signed.cookie })).status, 200);
    assert.equal(
      (await call('GET', '/api/approvals', { cookie: enrolling.cookie })).status,
      401,
      'enrolling id is dead',
    );
  });

  it('a ceremony must finish in the session that began it, once; a refused assertion is 403 presence_refused', async () => {
    const a = await signedIn();
    const b = await signedIn();
    backend.addApproval('ap-1');
    const opts = JSON.parse((await post('/api/approvals/ap-1/options', a)).body) as { challenge_id: string };
    const stolen = await post('/api/approvals/ap-1/approve', b, {
      challenge_id: opts.challenge_id,
      response: { id: STUB_CREDENTIAL },
    });
    assert.equal(stolen.status, 400);
    const wrong = await post('/api/approvals/ap-1/approve', a, {
      challenge_id: opts.challenge_id,
      response: { id: 'foreign' },
    });
    assert.equal(wrong.status, 403);
    assert.equal((JSON.parse(wrong.body) as { error: { code: string } }).error.code, 'presence_refused');
    const again = await post('/api/approvals/ap-1/approve', a, {
      challenge_id: opts.challenge_id,
      response: { id: STUB_CREDENTIAL },
    });
    assert.equal(again.status, 400, 'the challenge was spent by the refused attempt');
  });

  it('sign-out ends the session and closes its event stream', async () => {
    const s = await signedIn();
    const closed = new Promise<string>((res, rej) => {
      const r = request(
        {
          host: '127.0.0.1',
          port: consoleHandle.port,
          path: '/api/events',
          headers: { host: `localhost:${consoleHandle.port}`, cookie: s.cookie },
        },
        (resp) => {
          assert.equal(resp.statusCode, 200);
          assert.match(String(resp.headers['content-security-policy']), /default-src 'none'/);
          let text = '';
          resp.on('data', (c) => {
            text += c;
            if (text.includes(': connected')) void post('/api/signout', s);
          });
          resp.on('end', () => res(text));
        },
      );
      r.on('error', rej);
      r.end();
    });
    assert.match(await closed, /: connected/);
    assert.equal((await call('GET', '/api/approvals', { cookie: s.cookie })).status, 401);
  });

  it('wrong enrolment links are rate-limited', async () => {
    const s = await anonymous();
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await post('/api/session/link', s, { token: `guess-${i}` })).status);
    assert.deepEqual(codes.slice(0, 5), [403, 403, 403, 403, 403]);
    assert.equal(codes[6], 429);
  });
});

describe('console server: viewer tokens (browser extension)', () => {
  it('a viewer token reads the two viewer endpoints and nothing else', async () => {
    const { token, expires_at } = consoleHandle.mintViewerSession();
    assert.ok(Date.parse(expires_at) - Date.now() > 9 * 60_000);
    const auth = { authorization: `Bearer ${token}` };
    const a = await call('GET', '/api/viewer/approvals', auth);
    assert.equal(a.status, 200);
    assert.ok(Array.isArray((JSON.parse(a.body) as { approvals: unknown[] }).approvals));
    const r = await call('GET', '/api/viewer/receipts', { ...auth, origin: `chrome-extension://${'a'.repeat(32)}` });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { verify: { ok: boolean } }).verify.ok, true);
    for (const p of ['/api/approvals', '/api/receipts', '/api/session', '/api/passkeys', '/api/events']) {
      const x = await call('GET', p, auth);
      assert.ok(x.status === 401 || (p === '/api/session' && !x.body.includes('signed_in')), `${p}: ${x.status}`);
    }
    for (const p of ['/api/approvals/ap-1/reject', '/api/signin/options', '/api/viewer/approvals']) {
      const x = await call('POST', p, { ...auth, origin: origin(), 'content-type': 'application/json' }, '{}');
      assert.notEqual(x.status, 200, p);
    }
    assert.equal((await call('GET', '/api/viewer/approvals', { ...auth, origin: 'http://localhost:1' })).status, 403);
  });

  it('no token, a wrong token, the session cookie or an expired token are refused', async () => {
    const s = await signedIn();
    assert.equal((await call('GET', '/api/viewer/approvals')).status, 401);
    assert.equal((await call('GET', '/api/viewer/approvals', { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await call('GET', '/api/viewer/receipts', { cookie: s.cookie })).status, 401);
    const short = consoleHandle.mintViewerSession(1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await call('GET', '/api/viewer/approvals', { authorization: `Bearer ${short.token}` })).status, 401);
  });
});

describe('console server: static files and headers', () => {
  it('refuses directory traversal and dot-files in every spelling', async () => {
    for (const p of [
      '/../outside.txt',
      '/assets/../../outside.txt',
      '/..%2foutside.txt',
      '/%2e%2e/outside.txt',
      '/%2e%2e%2foutside.txt',
      '/assets/..%5c..%5coutside.txt',
      '/.secret',
      '/%2esecret',
      '/assets//app.js',
      '/index.html%00.js',
    ]) {
      const r = await call('GET', p);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.ok(!r.body.includes('CANARY'), p);
    }
    const ok = await call('GET', '/assets/app.js');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'text/javascript; charset=utf-8');
  });

  it('a missing build answers 503 telling how to build', async () => {
    const empty = await startConsole({ backend: stubBackend(), port: 0, staticDir: join(dir, 'nope') });
    try {
      const r = await call('GET', '/', {}, undefined, empty.port);
      assert.equal(r.status, 503);
      assert.match(r.body, /npm run build -w @briefcase\/console/);
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    } finally {
      await empty.close();
    }
  });

  it('every response type carries the strict CSP and the other security headers', async () => {
    const s = await signedIn();
    const replies = [
      await call('GET', '/'),
      await call('GET', '/assets/app.js'),
      await call('GET', '/nope'),
      await call('GET', '/api/session'),
      await call('GET', '/api/approvals', { cookie: s.cookie }),
      await call('GET', '/api/nope', { cookie: s.cookie }),
      await call('GET', '/api/approvals'),
      await call('GET', '/', { host: 'evil.example' }),
      await call('GET', '/', { host: `127.0.0.1:${consoleHandle.port}` }),
      await call('OPTIONS', '/api/session'),
      await call('GET', '/api/viewer/approvals'),
      await post('/api/signin/options', s, {}, { origin: 'http://localhost:1' }),
    ];
    const csp =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    for (const r of replies) {
      assert.equal(r.headers['content-security-policy'], csp, `${r.status} ${r.body.slice(0, 60)}`);
      assert.equal(r.headers['x-frame-options'], 'DENY');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
    for (const r of replies.slice(3, 7)) assert.equal(r.headers['cache-control'], 'no-store');
  });
});
