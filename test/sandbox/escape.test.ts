import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sandboxAvailable } from '@briefcase/sandbox';
import {
  BIN,
  ROOT,
  cli,
  daemonRequest,
  freePort,
  healthy,
  receiptRecords,
  remoteState,
  sleep,
  stdioClient,
  tempHome,
  token,
} from '../helpers.ts';

const SERVER = join(ROOT, 'test/sandbox/lib/escape-server.ts');
const available = sandboxAvailable();
const skip = available.ok
  ? false
  : `the OS sandbox is not usable here (Debian package: bubblewrap): ${available.reason}`;
/**
 * BC_ESCAPE_ISOLATION=none runs the same suite with the server unsandboxed: every case must then
 * fail, which shows each test detects the escape it is about (how the suite itself was checked).
 */
const ISOLATION = process.env['BC_ESCAPE_ISOLATION'] === 'none' ? 'none' : 'sandbox';
const LIMITS = { processes: 16, memory_mb: 128 };
const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'NODE_USE_ENV_PROXY'];

const code = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string }> | undefined)?.['dev.briefcase/error'];

interface Attempt {
  ok: boolean;
  error?: string;
  content?: string;
  entries?: string[];
  [k: string]: unknown;
}

/**
 * Issue 10, AC 1: a hostile stdio MCP server, run by a real daemon in its default sandbox, tries
 * each way out. The daemon holds canaries it must not leak: a file in its data directory, an SSH
 * key in its HOME, a variable in its environment, a descriptor it inherited, its loopback ports.
 */
describe('sandbox escape suite: a hostile stdio server (issue 10, AC 1)', { skip }, () => {
  const { home, cleanup } = tempHome();
  const work = join(home, '..');
  const person = join(work, 'person');
  const toolDir = join(home, 'tools', 'escape');
  const CANARY = `canary-${randomUUID()}`;
  let daemon: ChildProcess;
  let httpPort: number;
  let upstream: Server;
  let upPort: number;
  let agent: Client;

  const call = async (tool: string, args: Record<string, unknown> = {}): Promise<Attempt> => {
    const r = await agent.callTool({ name: `escape.${tool}`, arguments: args });
    const text = (r.content as { type: string; text: string }[])[0]?.text ?? '';
    if (r.isError) throw new Error(`escape.${tool} failed: ${JSON.stringify(r)}`);
    return JSON.parse(text) as Attempt;
  };
  const refused = async (tool: string, args: Record<string, unknown> = {}): Promise<Attempt> => {
    const r = await call(tool, args);
    assert.equal(r.ok, false, `escape.${tool} ${JSON.stringify(args)} must be refused: ${JSON.stringify(r)}`);
    assert.ok(!JSON.stringify(r).includes(CANARY), 'no canary in what the server saw');
    return r;
  };

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    mkdirSync(join(person, '.ssh'), { recursive: true });
    writeFileSync(join(person, '.ssh', 'id_ed25519'), CANARY);
    writeFileSync(join(home, 'canary.txt'), CANARY);
    // Made before the server starts, in its own directory: links pointing at the data directory and the SSH key.
    mkdirSync(toolDir, { recursive: true, mode: 0o700 });
    symlinkSync(home, join(toolDir, 'data-link'));
    symlinkSync(join(person, '.ssh'), join(toolDir, 'ssh-link'));
    httpPort = await freePort();
    // A granted upstream (by IP literal: loopback only when granted so), which can also redirect.
    upPort = await freePort();
    upstream = createServer((req, res) => {
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: `http://127.0.0.1:${httpPort}/v1/health` }).end();
      } else res.end('upstream ok');
    });
    await new Promise<void>((r) => upstream.listen(upPort, '127.0.0.1', r));
    // The daemon inherits a descriptor of the canary (fd 200, not close-on-exec, opened by the
    // shell that starts it), as a daemon may from whatever starts it, and has the canary in its
    // environment. (Node reuses low descriptor numbers for its own, so a high one is what survives.)
    daemon = spawn(
      '/bin/bash',
      [
        '-c',
        'exec 200<"$0"; exec "$@"',
        join(home, 'canary.txt'),
        process.execPath,
        BIN,
        'start',
        '--port',
        String(httpPort),
      ],
      {
        env: { ...process.env, BRIEFCASE_HOME: home, HOME: person, BC_ESCAPE_CANARY: CANARY },
        stdio: 'ignore',
      },
    );
    for (let i = 0; !(await healthy(home)); i++) {
      assert.ok(i < 400 && daemon.exitCode === null, 'the daemon starts');
      await sleep(50);
    }
    const added = await daemonRequest(
      home,
      'POST',
      '/v1/admin/remotes',
      token(home, 'admin'),
      JSON.stringify({
        name: 'escape',
        transport: 'stdio',
        command: process.execPath,
        args: [SERVER],
        access: {
          isolation: ISOLATION,
          filesystem: [{ path: ROOT, access: 'ro' }],
          network: [`127.0.0.1:${upPort}`, `localhost:${upPort}`],
          limits: LIMITS,
        },
      }),
    );
    assert.equal(added.status, 200, added.body);
    for (let i = 0; (await remoteState(home, 'escape'))?.status !== 'connected'; i++) {
      assert.ok(i < 200, 'the escape server connects');
      await sleep(100);
    }
    agent = await stdioClient(home);
  });
  after(async () => {
    await agent?.close();
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    upstream?.close();
    cleanup();
  });

  it("cannot read the data directory, admin.token or the person's ~/.ssh: they are not in its world", async () => {
    await refused('read', { path: join(home, 'admin.token') });
    await refused('read', { path: join(home, 'canary.txt') });
    await refused('read', { path: join(person, '.ssh', 'id_ed25519') });
    await refused('list', { path: person });
    // The data directory exists inside only as the path to its own tool directory.
    const listed = await call('list', { path: home });
    assert.deepEqual(listed.entries, ['tools'], JSON.stringify(listed));
    assert.deepEqual((await call('list', { path: join(home, 'tools') })).entries, ['escape']);
  });

  it('sees only its own processes: not the daemon, not its /proc/<pid>/environ', async () => {
    await refused('read', { path: `/proc/${daemon.pid}/environ` });
    const r = await call('processes');
    const text = JSON.stringify(r);
    assert.ok(!text.includes(CANARY), 'no visible process has the canary in its environment');
    assert.ok(!text.includes(BIN), 'the daemon is not among the processes it sees');
    assert.ok(
      Object.keys(r['seen'] as object).length <= 5,
      `a handful of its own: ${Object.keys(r['seen'] as object).join(',')}`,
    );
  });

  it('cannot write outside its own directory; what it writes to /tmp stays in its private /tmp', async () => {
    await refused('write', { path: join(ROOT, `escape-${CANARY}.txt`), content: 'x' });
    await refused('write', { path: '/usr/escape.txt', content: 'x' });
    // The data directory's path exists inside only in the sandbox's own memory: a write there
    // stays there.
    await call('write', { path: join(home, 'canary.txt'), content: 'overwritten' });
    assert.equal(readFileSync(join(home, 'canary.txt'), 'utf8'), CANARY);
    const tmp = `/tmp/escape-${randomUUID()}`;
    await call('write', { path: tmp, content: 'x' });
    assert.equal(existsSync(tmp), false, 'its /tmp is not the host /tmp');
    assert.equal(existsSync(join(ROOT, `escape-${CANARY}.txt`)), false);
    // Its own directory works (the control).
    assert.equal((await call('write', { path: join(toolDir, 'own.txt'), content: 'mine' })).ok, true);
    assert.equal(readFileSync(join(toolDir, 'own.txt'), 'utf8'), 'mine');
  });

  it('symlinks and hard links do not reach the data directory or the SSH key', async () => {
    await refused('read', { path: join(toolDir, 'data-link', 'admin.token') });
    await refused('read', { path: join(toolDir, 'ssh-link', 'id_ed25519') });
    await refused('symlink', { target: join(home, 'admin.token'), link: join(toolDir, 'token-link') });
    await refused('hardlink', { target: join(home, 'admin.token'), link: join(toolDir, 'token-hard') });
    await refused('hardlink', { target: join(person, '.ssh', 'id_ed25519'), link: join(toolDir, 'ssh-hard') });
    // A file it can read is on another mount: no hard link into its writable directory either.
    await refused('hardlink', { target: join(ROOT, 'package.json'), link: join(toolDir, 'pkg-hard') });
  });

  it("has no network: loopback (the daemon's HTTP port), the daemon's socket, link-local, metadata, IPv6, private, names", async () => {
    await refused('connect', { host: '127.0.0.1', port: httpPort });
    await refused('connect', { host: '::1', port: httpPort });
    await refused('connect', { path: join(home, 'daemon.sock') });
    await refused('connect', { host: '169.254.169.254', port: 80 });
    await refused('connect', { host: 'fe80::1', port: 80 });
    await refused('connect', { host: '10.0.0.1', port: 80 });
    await refused('connect', { host: 'localhost', port: httpPort });
    // Not even a granted host directly: only through the proxy.
    await refused('connect', { host: '127.0.0.1', port: upPort });
  });

  it('reaches a granted host through the egress proxy; every other target fails the call with sandbox_violation and one receipt naming it', async () => {
    const ok = await call('fetch', { url: `http://127.0.0.1:${upPort}/` });
    assert.deepEqual([ok.ok, ok['status'], ok['body']], [true, 200, 'upstream ok'], JSON.stringify(ok));
    const cases: [string, string][] = [
      [`http://127.0.0.1:${httpPort}/v1/health`, `127.0.0.1:${httpPort}`], // loopback: the daemon's HTTP port
      [`https://127.0.0.1:${httpPort}/`, `127.0.0.1:${httpPort}`], // the same through CONNECT
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254:80'], // metadata
      ['http://169.254.10.1:8080/', '169.254.10.1:8080'], // link-local
      [`http://[::1]:${httpPort}/`, `[::1]:${httpPort}`], // IPv6 loopback literal
      ['http://10.0.0.1/', '10.0.0.1:80'], // private
      [`http://localhost:${upPort}/`, `localhost:${upPort}`], // a granted name that resolves to loopback
      ['https://not-granted.example/', 'not-granted.example:443'], // a host not in the manifest
      [`http://127.0.0.1:${upPort}/redirect`, `127.0.0.1:${httpPort}`], // a redirect to a refused target
    ];
    for (const [url, target] of cases) {
      const before = receiptRecords(home).length;
      const r = await agent.callTool({ name: 'escape.fetch', arguments: { url } });
      assert.equal(code(r)?.code, 'sandbox_violation', `${url}: ${JSON.stringify(r)}`);
      const added = receiptRecords(home).slice(before);
      const calls = added.filter((x) => x.kind === 'tool_call');
      assert.equal(calls.length, 1, `${url}: one receipt`);
      assert.ok(!added.some((x) => x.body['event'] === 'sandbox_violation'), `${url}: and no second one`);
      assert.equal(calls[0]!.body['outcome'], 'sandbox_violation');
      const detail = String(calls[0]!.body['detail']);
      const host = target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      assert.ok(detail.includes(host) && detail.includes(target.split(':').pop()!), `${url}: ${detail}`);
    }
  });

  it('a refusal while none of its calls is in flight is receipted by the daemon on its own, naming the target', async () => {
    const before = receiptRecords(home).length;
    assert.equal((await call('fetch_later', { url: 'http://169.254.169.254/latest/' })).ok, true);
    let found: { body: Record<string, unknown> } | undefined;
    for (let i = 0; i < 100 && !found; i++) {
      await sleep(100);
      found = receiptRecords(home)
        .slice(before)
        .find((x) => x.kind === 'remote' && x.body['event'] === 'sandbox_violation');
    }
    assert.ok(found, 'a remote sandbox_violation receipt');
    assert.equal(found.body['server'], 'escape');
    assert.equal(found.body['target'], '169.254.169.254:80');
  });

  it('a fork bomb stops at its process limit; the daemon and the server carry on', async () => {
    const r = await refused('fork_bomb', { count: 500 });
    assert.ok((r['started'] as number) < LIMITS.processes, `started ${String(r['started'])}`);
    assert.ok(await healthy(home));
    assert.equal((await call('env')).ok, true, 'the server still answers');
  });

  it('a memory bomb is refused at its memory limit; the daemon carries on', async () => {
    const r = await refused('memory_bomb', { max_mb: 8192 });
    assert.ok((r['allocated_mb'] as number) <= LIMITS.memory_mb + 768, `allocated ${String(r['allocated_mb'])} MiB`);
    assert.ok(await healthy(home));
  });

  it("inherits no descriptor beyond stdio (the daemon's inherited canary fd is closed)", async () => {
    const inherited = readdirSync(`/proc/${daemon.pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${daemon.pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    assert.ok(inherited.includes(join(home, 'canary.txt')), 'the control: the daemon holds the canary descriptor');
    const { fds } = (await call('fds')) as unknown as { fds: Record<string, string> };
    const paths = Object.entries(fds).filter(([, target]) => target.startsWith('/') && target !== '/dev/null');
    assert.deepEqual(paths, [], `no file descriptor to a file: ${JSON.stringify(fds)}`);
  });

  it("sees none of the daemon's environment: only what it was granted, HOME its own directory", async () => {
    const { env } = (await call('env')) as unknown as { env: Record<string, string> };
    assert.ok(!JSON.stringify(env).includes(CANARY));
    assert.equal(env['BC_ESCAPE_CANARY'], undefined);
    assert.equal(env['HOME'], toolDir);
    // PWD, SHLVL and _ are set by the shell that starts it inside the sandbox; the proxy
    // variables point at the bridge to its egress proxy.
    for (const key of Object.keys(env))
      assert.ok(
        ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'USER', 'PWD', 'SHLVL', '_', ...PROXY_ENV].includes(key),
        `unexpected variable ${key}`,
      );
  });
});
