import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { dataPaths } from '@briefcase/briefcased/paths';
import { mintViewerSession, VIEWER_SESSION_PATH } from './daemon-session.ts';
import { EXTENSION_ORIGIN } from './extension-id.ts';
import { FrameReader, MAX_INCOMING, encodeFrame } from './framing.ts';
import { runHost } from './native-host.ts';
import type { ViewerSession } from './messages.ts';

const BIN = resolve(import.meta.dirname, '../bin/briefcase-native-host');
const SESSION: ViewerSession = {
  token: 'v'.repeat(43),
  expires_at: '2030-01-01T00:00:00.000Z',
  console_url: 'http://localhost:41234',
};

/** Runs the host in this process over in-memory streams; returns its answers and exit code. */
async function converse(
  input: Buffer[],
  opts: { origin?: string | undefined; mint?: () => Promise<ViewerSession> } = {},
) {
  const origin = 'origin' in opts ? opts.origin : EXTENSION_ORIGIN;
  const mint = opts.mint ?? (async () => SESSION);
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const reader = new FrameReader(1024 * 1024);
  const answers: unknown[] = [];
  stdout.on('data', (c: Buffer) => reader.push(c).forEach((e) => e.kind === 'message' && answers.push(e.value)));
  const done = runHost({ origin, input: stdin, output: stdout, mintSession: mint });
  for (const chunk of input) stdin.write(chunk);
  stdin.end();
  const code = await done;
  return { code, answers };
}

/** The real host process, as Chromium starts it: origin as argv[1], frames on stdin. */
function spawnHost(origin: string, input: Buffer, home: string): Promise<{ code: number | null; answers: unknown[] }> {
  return new Promise((res) => {
    const p = spawn(BIN, [origin], { env: { PATH: process.env.PATH ?? '', BRIEFCASE_HOME: home } });
    const reader = new FrameReader(1024 * 1024);
    const answers: unknown[] = [];
    p.stdout.on('data', (c: Buffer) => reader.push(c).forEach((e) => e.kind === 'message' && answers.push(e.value)));
    p.on('exit', (code) => res({ code, answers }));
    p.stdin.on('error', () => {}); // the host may exit before reading everything (bad origin, oversize)
    p.stdin.end(input);
  });
}

describe('the native messaging host', () => {
  const base = mkdtempSync(join(tmpdir(), 'bc-host-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  it('answers {"type":"session"} with exactly token, expires_at and console_url', async () => {
    const { code, answers } = await converse([encodeFrame({ type: 'session' })]);
    assert.equal(code, 0);
    assert.deepEqual(answers, [{ type: 'session', ...SESSION }]);
  });

  it('serves only the Briefcase extension’s origin (argv[1]) and reads nothing from anyone else', async () => {
    for (const origin of [
      undefined,
      'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/',
      `${EXTENSION_ORIGIN}x`,
      'https://evil.example/',
    ]) {
      let minted = 0;
      const { code, answers } = await converse([encodeFrame({ type: 'session' })], {
        origin,
        mint: async () => {
          minted += 1;
          return SESSION;
        },
      });
      assert.equal(code, 1);
      assert.equal(minted, 0);
      assert.deepEqual(answers, [
        {
          type: 'error',
          error: { code: 'forbidden_origin', message: 'this host serves the Briefcase extension only' },
        },
      ]);
    }
  });

  it('answers unknown and malformed messages with an error, and keeps serving', async () => {
    const { code, answers } = await converse([
      encodeFrame({ type: 'admin_token' }),
      encodeFrame({ type: 'session', extra: 1 }),
      encodeFrame('session'),
      encodeFrame({ type: 'session' }),
    ]);
    assert.equal(code, 0);
    const codes = answers.map((a) => (a as { error?: { code: string } }).error?.code ?? 'ok');
    assert.deepEqual(codes, ['unknown_type', 'bad_message', 'bad_message', 'ok']);
  });

  it('refuses an oversized message and exits without waiting for its body', async () => {
    const header = Buffer.alloc(4);
    header.writeUInt32LE(MAX_INCOMING + 1, 0);
    const { code, answers } = await converse([header]);
    assert.equal(code, 1);
    assert.equal((answers[0] as { error: { code: string } }).error.code, 'too_large');
  });

  it('exits cleanly (0, nothing written) when the input ends', async () => {
    const { code, answers } = await converse([]);
    assert.equal(code, 0);
    assert.deepEqual(answers, []);
  });

  it('does not leak why minting failed beyond a HostError’s own message', async () => {
    const { answers } = await converse([encodeFrame({ type: 'session' })], {
      mint: async () => {
        throw new Error('secret internal detail');
      },
    });
    assert.deepEqual(answers, [
      { type: 'error', error: { code: 'daemon_error', message: 'the session could not be made' } },
    ]);
  });

  it('as a process: the bin checks the origin, says when Briefcase is not initialised, and exits on stdin end', async () => {
    const home = join(base, 'none');
    const forbidden = await spawnHost(
      'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/',
      encodeFrame({ type: 'session' }),
      home,
    );
    assert.equal(forbidden.code, 1);
    assert.equal((forbidden.answers[0] as { error: { code: string } }).error.code, 'forbidden_origin');
    const uninitialised = await spawnHost(EXTENSION_ORIGIN, encodeFrame({ type: 'session' }), home);
    assert.equal(uninitialised.code, 0);
    assert.equal((uninitialised.answers[0] as { error: { code: string } }).error.code, 'not_initialised');
    const empty = await spawnHost(EXTENSION_ORIGIN, Buffer.alloc(0), home);
    assert.deepEqual(empty, { code: 0, answers: [] });
  });
});

/**
 * The host's guard against a daemon that answers the wrong thing. The server below stands in for
 * the daemon's admin route on a Unix socket so that it can misbehave, which the real daemon does
 * not (test/extension-browser.test.ts runs the real one).
 */
describe('the host reduces the daemon’s answer to a viewer session', () => {
  const base = mkdtempSync(join(tmpdir(), 'bc-host-'));
  const home = join(base, 'h');
  mkdirSync(home, { recursive: true });
  const paths = dataPaths(home);
  const ADMIN = 'a'.repeat(43);
  writeFileSync(paths.adminToken, `${ADMIN}\n`, { mode: 0o600 });
  let answer: unknown = {};
  let seen: { path?: string; auth?: string } = {};
  const server: Server = createServer((req, res) => {
    seen = { path: req.url ?? '', auth: req.headers.authorization ?? '' };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(answer));
  });
  const listening = new Promise<void>((r) => server.listen(paths.socket, r));
  after(() => {
    server.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('uses the admin token on the socket, and forwards only the three allowed fields', async () => {
    await listening;
    answer = { ...SESSION, admin_token: ADMIN, scope: 'viewer' };
    const session = await mintViewerSession(paths);
    assert.deepEqual(seen, { path: VIEWER_SESSION_PATH, auth: `Bearer ${ADMIN}` });
    assert.deepEqual(session, SESSION);
    assert.ok(!JSON.stringify(session).includes(ADMIN));
  });

  it('refuses an answer that is the admin token, or a console that is not on loopback', async () => {
    await listening;
    answer = { ...SESSION, token: ADMIN };
    await assert.rejects(mintViewerSession(paths), { code: 'bad_daemon_answer' });
    for (const console_url of ['https://localhost:41234', 'http://evil.example:41234', 'http://localhost']) {
      answer = { ...SESSION, console_url };
      await assert.rejects(mintViewerSession(paths), { code: 'bad_daemon_answer' });
    }
  });

  it('says the daemon is not running when nothing answers', async () => {
    const other = dataPaths(join(base, 'other'));
    mkdirSync(other.home, { recursive: true });
    writeFileSync(other.adminToken, ADMIN);
    await assert.rejects(mintViewerSession(other), { code: 'daemon_unreachable' });
  });
});
