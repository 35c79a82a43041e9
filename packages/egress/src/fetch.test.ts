import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { checkedFetch } from './fetch.ts';
import { EgressViolation, type EgressRules, type Lookup } from './rules.ts';

const SECRET = 'Bearer sec-Hq3Vn8Kx2Lp7Rt5W';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function server(handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

describe('checkedFetch', () => {
  let up: Awaited<ReturnType<typeof server>>;
  let other: Awaited<ReturnType<typeof server>>;
  const asked: string[] = [];
  const lookup: Lookup = async (name) => {
    asked.push(name);
    if (name === 'api.test' || name === 'second.test') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };

  before(async () => {
    other = await server((_req, res) => res.end('other'));
    up = await server((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      if (url.pathname === '/redirect' && to) {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to }).end();
      } else if (url.pathname === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (url.pathname === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(gzipSync('unzipped'));
      } else if (url.pathname === '/slow') {
        res.writeHead(200).write('partial');
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-seen-host': req.headers.host ?? '' });
        res.end(JSON.stringify({ path: req.url, method: req.method, body }));
      }
    });
  });
  after(async () => {
    await up?.close();
    await other?.close();
  });

  const literal = (): EgressRules => ({ grants: [`127.0.0.1:${up.port}`], allowPrivate: false });
  const named = (allowPrivate: boolean): EgressRules => ({
    grants: [`api.test:${up.port}`, `second.test:${up.port}`, `127.0.0.1:${up.port}`],
    allowPrivate,
  });
  const violation = (host: string, port: number, reason: RegExp) => (e: unknown) => {
    assert.ok(e instanceof EgressViolation, String(e));
    assert.equal(e.host, host);
    assert.equal(e.port, port);
    assert.match(e.reason, reason);
    assert.doesNotMatch(`${e.message} ${e.detail}`, /sec-Hq3Vn8Kx2Lp7Rt5W/);
    return true;
  };

  it('a granted literal: GET and POST work like fetch (status, headers, JSON body, content type)', async () => {
    const get = await checkedFetch(`http://127.0.0.1:${up.port}/a?b=c`, { rules: literal() });
    assert.equal(get.status, 200);
    assert.equal(get.url, `http://127.0.0.1:${up.port}/a?b=c`);
    assert.deepEqual(await get.json(), { path: '/a?b=c', method: 'GET', body: '' });
    assert.equal(up.seen.at(-1)!.headers['user-agent'], 'Briefcase');
    assert.equal(up.seen.at(-1)!.headers.accept, '*/*');
    const post = await checkedFetch(new URL(`http://127.0.0.1:${up.port}/p`), {
      rules: literal(),
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'x' }),
    });
    assert.deepEqual(await post.json(), { path: '/p', method: 'POST', body: 'grant_type=x' });
    assert.match(String(up.seen.at(-1)!.headers['content-type']), /application\/x-www-form-urlencoded/);
    assert.equal(
      await (await checkedFetch(`http://127.0.0.1:${up.port}/gzip`, { rules: literal() })).text(),
      'unzipped',
    );
  });

  it('a granted name resolves once and connects to the checked address; Host is the name', async () => {
    asked.length = 0;
    const r = await checkedFetch(`http://api.test:${up.port}/n`, { rules: named(true), lookup });
    assert.equal(r.headers.get('x-seen-host'), `api.test:${up.port}`);
    await r.body?.cancel();
    assert.deepEqual(asked, ['api.test'], 'one resolution, none by the socket');
  });

  it('a granted name that resolves to loopback is refused without allow_private; nothing is sent', async () => {
    const before = up.seen.length;
    await assert.rejects(
      checkedFetch(`http://api.test:${up.port}/n`, { rules: named(false), lookup, headers: { authorization: SECRET } }),
      violation('api.test', up.port, /api\.test resolves to loopback address 127\.0\.0\.1 and allow_private is off/),
    );
    assert.equal(up.seen.length, before);
  });

  it('literals that are not granted, metadata and hostile spellings are refused before connecting', async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      [`http://127.0.0.1:${other.port}/`, '127.0.0.1', other.port, /loopback address 127\.0\.0\.1 is not granted/],
      [`http://2130706433:${other.port}/`, '127.0.0.1', other.port, /loopback address 127\.0\.0\.1 is not granted/],
      [
        `http://[::ffff:127.0.0.1]:${up.port}/`,
        '::ffff:7f00:1',
        up.port,
        /embeds 127\.0\.0\.1\) is not allowed in IPv6 form/,
      ],
      [
        'http://169.254.169.254/latest/meta-data/',
        '169.254.169.254',
        80,
        /metadata address 169\.254\.169\.254 is never allowed/,
      ],
      ['http://evil.example.com/', 'evil.example.com', 80, /host evil\.example\.com is not granted/],
    ];
    for (const [url, host, port, reason] of cases) {
      await assert.rejects(checkedFetch(url, { rules: literal(), lookup }), violation(host, port, reason), url);
    }
    assert.equal(other.seen.length, 0);
    await assert.rejects(checkedFetch('file:///etc/passwd', { rules: literal() }), TypeError);
    await assert.rejects(checkedFetch(`http://u:p@127.0.0.1:${up.port}/`, { rules: literal() }), TypeError);
  });

  it('redirects are followed by hand, every hop checked: a redirect to loopback, a decimal IP, IPv6-mapped or metadata is refused', async () => {
    const via = (to: string) => `http://127.0.0.1:${up.port}/redirect?to=${encodeURIComponent(to)}`;
    const same = await checkedFetch(via(`/final`), { rules: literal() });
    assert.equal(same.status, 200);
    assert.equal(same.redirected, true);
    assert.equal(same.url, `http://127.0.0.1:${up.port}/final`);
    await same.body?.cancel();
    const cases: Array<[string, string, number, RegExp]> = [
      [`http://127.0.0.1:${other.port}/steal`, '127.0.0.1', other.port, /loopback address 127\.0\.0\.1 is not granted/],
      [`http://2130706433:${other.port}/`, '127.0.0.1', other.port, /not granted/],
      [`http://[::ffff:127.0.0.1]:${up.port}/`, '::ffff:7f00:1', up.port, /embeds 127\.0\.0\.1/],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 80, /never allowed/],
      ['http://localhost/', 'localhost', 80, /not granted/],
    ];
    for (const [to, host, port, reason] of cases) {
      await assert.rejects(
        checkedFetch(via(to), { rules: literal(), headers: { authorization: SECRET } }),
        violation(host, port, reason),
        to,
      );
    }
    assert.equal(other.seen.length, 0, 'the redirect targets got nothing');
  });

  it("a redirect to another origin does not carry the request's credentials; 303 turns POST into GET", async () => {
    const to = `http://api.test:${up.port}/landed`;
    const r = await checkedFetch(`http://127.0.0.1:${up.port}/redirect?status=303&to=${encodeURIComponent(to)}`, {
      rules: named(true),
      lookup,
      method: 'POST',
      body: '{"a":1}',
      headers: { authorization: SECRET, cookie: 'c=1', 'content-type': 'application/json', dpop: 'proof' },
    });
    assert.deepEqual(await r.json(), { path: '/landed', method: 'GET', body: '' });
    const last = up.seen.at(-1)!;
    assert.equal(last.headers.authorization, undefined);
    assert.equal(last.headers.cookie, undefined);
    assert.equal(last.headers.dpop, undefined);
    assert.equal(last.headers['content-type'], undefined);
    // 307 keeps the method and body; a same-origin hop keeps the credentials.
    const k = await checkedFetch(`http://127.0.0.1:${up.port}/redirect?status=307&to=/kept`, {
      rules: literal(),
      method: 'POST',
      body: 'same',
      headers: { authorization: SECRET },
    });
    assert.deepEqual(await k.json(), { path: '/kept', method: 'POST', body: 'same' });
    assert.equal(up.seen.at(-1)!.headers.authorization, SECRET);
  });

  it('at most maxRedirects hops; redirect: "manual" returns the redirect unless its target is refused', async () => {
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${up.port}/loop`, { rules: literal() }),
      /more than 5 redirects/,
    );
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${up.port}/loop`, { rules: literal(), maxRedirects: 1 }),
      /more than 1 redirects/,
    );
    const manual = await checkedFetch(`http://127.0.0.1:${up.port}/loop`, { rules: literal(), redirect: 'manual' });
    assert.equal(manual.status, 302);
    assert.equal(manual.headers.get('location'), '/loop');
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${up.port}/redirect?to=${encodeURIComponent('http://169.254.169.254/')}`, {
        rules: literal(),
        redirect: 'manual',
      }),
      violation('169.254.169.254', 80, /a redirect to it: metadata address/),
    );
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${up.port}/loop`, { rules: literal(), redirect: 'error' }),
      TypeError,
    );
  });

  it('an abort signal stops the request and the body', async () => {
    const c = new AbortController();
    const r = await checkedFetch(`http://127.0.0.1:${up.port}/slow`, { rules: literal(), signal: c.signal });
    const reader = r.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'partial');
    c.abort(new Error('stop'));
    await assert.rejects(reader.read());
    await assert.rejects(
      checkedFetch(`http://127.0.0.1:${up.port}/a`, { rules: literal(), signal: AbortSignal.abort() }),
      /abort/i,
    );
  });
});

/** A certificate for `tls.test` only, made by the openssl CLI (Debian `openssl`). */
function certificate(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'egress-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
        .concat(['-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=tls.test'])
        .concat(['-addext', 'subjectAltName=DNS:tls.test']),
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('checkedFetch over TLS', () => {
  const pair = certificate();
  it(
    'verifies the certificate against the name while connecting to the pinned address',
    { skip: pair ? false : 'needs the openssl CLI (Debian package openssl)' },
    async () => {
      const { key, cert } = pair!;
      const s = https.createServer({ key, cert }, (req, res) => res.end(`tls ${req.headers.host}`));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      const port = (s.address() as AddressInfo).port;
      try {
        const lookup: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];
        const rules: EgressRules = { grants: [`tls.test:${port}`, `other.test:${port}`], allowPrivate: true };
        const ok = await checkedFetch(`https://tls.test:${port}/`, { rules, lookup, ca: cert });
        assert.equal(await ok.text(), `tls tls.test:${port}`);
        // The same address under another name: the certificate does not match, so no request.
        await assert.rejects(checkedFetch(`https://other.test:${port}/`, { rules, lookup, ca: cert }), (e) => {
          assert.ok(e instanceof TypeError);
          assert.match(String((e.cause as Error).message), /altnames|Hostname\/IP does not match/);
          return true;
        });
        // Without the test's CA the system trust store refuses it.
        await assert.rejects(checkedFetch(`https://tls.test:${port}/`, { rules, lookup }), TypeError);
      } finally {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  );
});
