import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEgressProxy, type EgressProxy } from './proxy.ts';
import type { EgressViolation, Lookup } from './rules.ts';

const CANARY = 'canary-Zp4Qw8Lr2Tx6Vb9N';

/** A resolver for names that do not exist, so no test depends on /etc/hosts or the network. */
const asked: string[] = [];
const lookup: Lookup = async (name) => {
  asked.push(name);
  const table: Record<string, string[]> = {
    'upstream.test': ['127.0.0.1'],
    'rebind.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
  };
  // `localhost` goes to the system resolver (/etc/hosts): a real name that is loopback.
  if (name === 'localhost') return dnsLookup(name, { all: true });
  const answers = table[name];
  if (!answers) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: 4 }));
};

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
}

function upstreamServer(redirectPort = () => 0): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${redirectPort()}/stolen` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close, x-upstream-hop', 'x-upstream-hop': 'h' });
    res.end(`hello from upstream ${req.url}`);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        seen,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

type Endpoint = { path: string } | { port: number };

/** Send raw bytes; resolve with the head of the first response and the open socket. */
function raw(to: Endpoint, text: string | Buffer): Promise<{ head: string; rest: Buffer; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in to ? net.connect(to.path) : net.connect(to.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4), socket });
      }
    };
    const onClose = () => resolve({ head: buf.toString('latin1'), rest: Buffer.alloc(0), socket });
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', reject);
    socket.write(text);
  });
}

function readAll(socket: net.Socket, initial: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const chunks = [initial];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

const connect = (to: Endpoint, authority: string, extra = '') =>
  raw(to, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);

/** A CONNECT that is answered and closed: the whole answer. */
async function refusedConnect(to: Endpoint, authority: string, extra = ''): Promise<string> {
  const { head, rest, socket } = await connect(to, authority, extra);
  if (socket.destroyed) return head;
  return `${head}\r\n\r\n${await readAll(socket, rest)}`;
}

function viaProxy(
  to: Endpoint,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...('path' in to ? { socketPath: to.path } : { host: '127.0.0.1', port: to.port }),
        path: url,
        headers: { host: new URL(url).host, ...headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('egress proxy over real sockets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-proxy-'));
  const socketPath = join(dir, 'egress.sock');
  const daemonSocket = join(dir, 'daemon.sock');
  let up: Awaited<ReturnType<typeof upstreamServer>>;
  let other: Awaited<ReturnType<typeof upstreamServer>>;
  let strict: EgressProxy;
  let local: EgressProxy;
  let tcp: EgressProxy;
  const violations: EgressViolation[] = [];
  const lastViolation = () => violations.at(-1)!;

  before(async () => {
    other = await upstreamServer();
    up = await upstreamServer(() => other.port);
    // Grants: the upstream by name (allow_private off: its loopback answer is refused) and a few
    // literals that are never reachable however they are granted.
    strict = await startEgressProxy({
      listen: { path: socketPath },
      rules: {
        grants: [
          `rebind.test:${up.port}`,
          `mixed.test:${up.port}`,
          `127.0.0.1:${up.port}`,
          '169.254.169.254',
          '169.254.169.254:80',
          '[fd00:ec2::254]:80',
          '[fe80::1]:80',
          `localhost:${up.port}`,
        ],
        allowPrivate: false,
      },
      onViolation: (v) => violations.push(v),
      lookup,
    });
    local = await startEgressProxy({
      listen: { host: '127.0.0.1', port: 0 },
      rules: { grants: [`upstream.test:${up.port}`], allowPrivate: true },
      onViolation: (v) => violations.push(v),
      lookup,
    });
    tcp = await startEgressProxy({
      listen: { host: '127.0.0.1', port: 0 },
      rules: { grants: [`upstream.test:${up.port}`], allowPrivate: true },
      onViolation: (v) => violations.push(v),
      lookup,
      maxConnections: 2,
      idleMs: 300,
    });
  });
  after(async () => {
    await strict?.close();
    await local?.close();
    await tcp?.close();
    await up?.close();
    await other?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const L = () => ({ port: Number(new URL(local.url).port) });
  const S = () => ({ path: socketPath });

  it('listens on a Unix socket of mode 0600, or on 127.0.0.1 only', async () => {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    assert.equal(strict.socketPath, socketPath);
    assert.match(strict.url, /^http\+unix:\/\//);
    assert.match(local.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await assert.rejects(
      startEgressProxy({
        listen: { host: '0.0.0.0' as '127.0.0.1', port: 0 },
        rules: { grants: [], allowPrivate: false },
        onViolation: () => undefined,
      }),
      /127\.0\.0\.1 or a Unix socket/,
    );
  });

  it('a granted host works: CONNECT tunnels bytes both ways, and plain HTTP is forwarded without proxy credentials or hop-by-hop headers', async () => {
    const { head, rest, socket } = await connect(
      L(),
      `upstream.test:${up.port}`,
      `Proxy-Authorization: Basic ${CANARY}\r\n`,
    );
    assert.match(head, /^HTTP\/1\.1 200 /);
    socket.write(`GET /tunnelled HTTP/1.1\r\nHost: upstream.test\r\nConnection: close\r\n\r\n`);
    assert.match(await readAll(socket, rest), /hello from upstream \/tunnelled/);

    up.seen.length = 0;
    const r = await viaProxy(L(), `http://upstream.test:${up.port}/plain?q=1`, {
      'proxy-authorization': `Basic ${CANARY}`,
      connection: 'keep-alive, x-client-hop',
      'x-client-hop': 'drop me',
      'x-keep': 'kept',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello from upstream /plain?q=1');
    assert.equal(r.headers['x-upstream-hop'], undefined, 'a header the upstream named in Connection is dropped');
    const seen = up.seen[0]!;
    assert.equal(seen.path, '/plain?q=1');
    assert.equal(seen.headers['proxy-authorization'], undefined);
    assert.equal(seen.headers['x-client-hop'], undefined);
    assert.equal(seen.headers['x-keep'], 'kept');
    assert.equal(seen.headers.host, `upstream.test:${up.port}`);
  });

  it('a host that is not granted is refused with 403 before any DNS query, and onViolation hears host, port and reason', async () => {
    const before = violations.length;
    const head = await refusedConnect(S(), 'evil.example.com:443', `Authorization: Bearer ${CANARY}\r\n`);
    assert.match(head, /^HTTP\/1\.1 403 /);
    assert.match(head, /egress refused: host evil\.example\.com is not granted/);
    assert.equal(violations.length, before + 1);
    assert.equal(lastViolation().host, 'evil.example.com');
    assert.equal(lastViolation().port, 443);
    const plain = await viaProxy(S(), 'http://evil.example.com/x', { cookie: CANARY });
    assert.equal(plain.status, 403);
    assert.equal(lastViolation().port, 80);
    assert.ok(!asked.includes('evil.example.com'), 'no DNS query for a name that is not granted');
    for (const v of violations)
      assert.doesNotMatch(JSON.stringify([v.reason, v.detail, v.message]), new RegExp(CANARY));
  });

  it('loopback by literal, decimal, hex, octal, short form and IPv6-mapped spellings is refused', async () => {
    const targets = [
      [`127.0.0.2:${up.port}`, /loopback address 127\.0\.0\.2 is not granted/],
      [`127.0.0.1:${other.port}`, /loopback address 127\.0\.0\.1 is not granted/],
      [`2130706433:${up.port}`, /not a canonical IPv4 address \(a resolver reads it as 127\.0\.0\.1\)/],
      [`0x7f.1:${up.port}`, /not a canonical IPv4/],
      [`0177.0.0.1:${up.port}`, /not a canonical IPv4/],
      [`127.1:${up.port}`, /not a canonical IPv4/],
      [`[::ffff:127.0.0.1]:${up.port}`, /embeds 127\.0\.0\.1\) is not allowed in IPv6 form/],
      [`[::ffff:7f00:1]:${up.port}`, /embeds 127\.0\.0\.1\) is not allowed in IPv6 form/],
      [`[::1]:${up.port}`, /loopback address ::1 is not granted/],
      [`[0:0:0:0:0:0:0:1]:${up.port}`, /loopback address ::1 is not granted/],
      [`0.0.0.0:${up.port}`, /unspecified address 0\.0\.0\.0 is never allowed/],
    ] as const;
    for (const [authority, reason] of targets) {
      const head = await refusedConnect(S(), authority);
      assert.match(head, /^HTTP\/1\.1 403 /, authority);
      assert.match(head, reason, authority);
    }
    assert.equal(other.seen.length, 0);
    // The granted literal itself is reachable (an IP-literal grant is consent to that address).
    const { head, socket } = await connect(S(), `127.0.0.1:${up.port}`);
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 200 /);
  });

  it('a granted name that resolves to loopback is refused without allow_private (rebinding), even with one public answer', async () => {
    for (const name of ['rebind.test', 'mixed.test']) {
      const head = await refusedConnect(S(), `${name}:${up.port}`);
      assert.match(head, /^HTTP\/1\.1 403 /, name);
      assert.match(
        head,
        new RegExp(`${name.replace('.', '\\.')} resolves to loopback address 127\\.0\\.0\\.1 and allow_private is off`),
      );
    }
    // The real resolver: `localhost` is granted by name, and is loopback.
    assert.match(await refusedConnect(S(), `localhost:${up.port}`), /localhost resolves to loopback/);
  });

  it('metadata and link-local addresses are refused, metadata even when granted and allow_private', async () => {
    for (const [authority, reason] of [
      ['169.254.169.254:80', /metadata address 169\.254\.169\.254 is never allowed/],
      ['[fd00:ec2::254]:80', /metadata address fd00:ec2::254 is never allowed/],
      ['[::ffff:169.254.169.254]:80', /metadata address .* \(embeds 169\.254\.169\.254\) is never allowed/],
      ['169.254.1.1:80', /link-local address 169\.254\.1\.1 is not granted/],
      ['[fe80::2]:80', /link-local address fe80::2 is not granted/],
    ] as const) {
      const head = await refusedConnect(S(), authority);
      assert.match(head, /^HTTP\/1\.1 403 /, authority);
      assert.match(head, reason, authority);
    }
    const plain = await viaProxy(L(), 'http://169.254.169.254/latest/meta-data/');
    assert.equal(plain.status, 403);
  });

  it("the daemon's own socket cannot even be named: a CONNECT target is host:port, a plain request names a host", async () => {
    for (const target of [daemonSocket, `unix:${daemonSocket}`, `${daemonSocket}:80`]) {
      const { head, socket } = await connect(S(), target);
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 400 /, target);
    }
    const plain = await viaProxy(S(), `http://unix:${daemonSocket}:/`);
    assert.equal(plain.status, 403);
    assert.match(plain.body, /host unix is not granted/);
  });

  it('a redirect is passed to the client as it is; the next request is checked again', async () => {
    const r = await viaProxy(L(), `http://upstream.test:${up.port}/redirect`);
    assert.equal(r.status, 302);
    const next = new URL(r.headers.location!);
    const followed = await viaProxy(L(), next.href);
    assert.equal(followed.status, 403);
    assert.match(followed.body, /loopback address 127\.0\.0\.1 is not granted/);
    assert.equal(other.seen.length, 0);
  });

  it('survives garbage, oversized heads and half-open requests, and keeps serving', async () => {
    const junk = [
      Buffer.from([0, 1, 2, 3, 255, 254, 13, 10, 13, 10]),
      'GET\r\n\r\n',
      'CONNECT\r\n\r\n',
      'CONNECT :443 HTTP/1.1\r\n\r\n',
      'CONNECT [::1 HTTP/1.1\r\n\r\n',
      'CONNECT a:99999 HTTP/1.1\r\n\r\n',
      'GET /relative HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET https://upstream.test/ HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET http://u:p@upstream.test:${up.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET http://upstream.test/ HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
      'GET ws://upstream.test/ HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    ];
    for (const j of junk) {
      const { head, socket } = await raw(L(), j);
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 (400|431|501) /, JSON.stringify(String(j).slice(0, 40)));
    }
    const ok = await viaProxy(L(), `http://upstream.test:${up.port}/still`);
    assert.equal(ok.status, 200);
  });

  it('limits concurrent tunnels and closes idle ones', async () => {
    const a = await connect({ port: Number(new URL(tcp.url).port) }, `upstream.test:${up.port}`);
    const b = await connect({ port: Number(new URL(tcp.url).port) }, `upstream.test:${up.port}`);
    assert.match(a.head, /^HTTP\/1\.1 200 /);
    assert.match(b.head, /^HTTP\/1\.1 200 /);
    const c = await connect({ port: Number(new URL(tcp.url).port) }, `upstream.test:${up.port}`);
    c.socket.destroy();
    assert.match(c.head, /^HTTP\/1\.1 503 /);
    // Idle for longer than idleMs: both tunnels are closed by the proxy, not by us.
    await Promise.all([a, b].map(({ socket }) => new Promise((r) => socket.once('close', r))));
    const d = await connect({ port: Number(new URL(tcp.url).port) }, `upstream.test:${up.port}`);
    d.socket.destroy();
    assert.match(d.head, /^HTTP\/1\.1 200 /);
  });
});
