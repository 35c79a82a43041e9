import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sandboxAvailable } from '@briefcase/sandbox';
import {
  BIN,
  ROOT,
  cli,
  cliAsync,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  type DaemonProcess,
} from './helpers.ts';

const FIXTURE = join(ROOT, 'test/fixtures/stderr-mcp-server.ts');
/** Sandboxed where bubblewrap works (Debian package: bubblewrap), else added unsandboxed. */
const UNSANDBOXED = sandboxAvailable().ok ? [] : ['--isolation', 'none'];
if (UNSANDBOXED.length) console.warn('logs: the stdio server runs unsandboxed here: bubblewrap is not usable');

/** `briefcase logs -f …` in the background; `until` waits for its output to match. */
function follower(home: string, args: string[]) {
  const p = spawn(process.execPath, [BIN, 'logs', '-f', ...args], {
    env: { ...process.env, BRIEFCASE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout.on('data', (c) => (out += c));
  p.stderr.on('data', (c) => (out += c));
  return {
    async until(pattern: RegExp): Promise<string> {
      for (let i = 0; i < 300 && !pattern.test(out); i++) await sleep(100);
      assert.match(out, pattern);
      return out;
    },
    stop: () => p.kill('SIGTERM'),
  };
}

/** Issue 11 "See what happens": call outcomes in the daemon log, stdio servers' stderr in their own log. */
describe('logs: every call outcome with its receipt, server stderr scrubbed (issue 11)', () => {
  const { home, cleanup } = tempHome();
  const secret = `noisy-canary-${Date.now().toString(36)}-Qm7x`;
  let daemon: DaemonProcess;
  let agent: Client;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    assert.equal(cli(home, ['secrets', 'set', 'noisy_key'], `${secret}\n`).code, 0);
    const added = await cliAsync(home, [
      'remote',
      'add',
      'noisy',
      ...UNSANDBOXED,
      '--env-secret',
      'NOISY_KEY=noisy_key',
      '--allow-read',
      ROOT,
      '--stdio',
      '--',
      process.execPath,
      FIXTURE,
    ]);
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; i < 200 && (await remoteState(home, 'noisy'))?.status !== 'connected'; i++) await sleep(100);
    agent = await stdioClient(home);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    cleanup();
  });

  it('logs a successful call at info with its receipt id, and no argument value', async () => {
    const r = await agent.callTool({ name: 'echo', arguments: { text: 'arg-value-not-for-logs' } });
    const receipt = (r._meta as Record<string, string>)['dev.briefcase/receipt'];
    assert.match(receipt ?? '', /^r\d+-[0-9a-f]{12}$/);
    const log = readFileSync(join(home, 'logs', 'daemon.log'), 'utf8');
    const line = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'tool call' && l.receipt === receipt);
    assert.ok(line, `no log line for ${receipt}`);
    assert.deepEqual(
      { level: line.level, tool: line.tool, outcome: line.outcome },
      { level: 'info', tool: 'echo', outcome: 'ok' },
    );
    assert.equal(typeof line.ms, 'number');
    assert.ok(!log.includes('arg-value-not-for-logs'));
    const shown = cli(home, ['logs', '-n', '5']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`info  tool call .*receipt=${receipt}`));
  });

  it("writes the server's stderr to its own log, the vault secret and token shapes redacted", async () => {
    const file = join(home, 'logs', 'servers', 'noisy.log');
    let text = '';
    for (let i = 0; i < 100 && !/minted/.test(text); i++) {
      await sleep(100);
      try {
        text = readFileSync(file, 'utf8');
      } catch {}
    }
    assert.match(text, /noisy starting; key=\[redacted\] \(careless\)/);
    assert.match(text, /minted \[redacted\] for later/);
    assert.ok(!text.includes(secret), 'the secret is not in the server log');
    assert.ok(!text.includes('ghp_'), 'nor the token-shaped string');
    const shown = cli(home, ['logs', '--server', 'noisy']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /noisy starting; key=\[redacted\]/);
    assert.ok(!shown.stdout.includes(secret));
    const bad = cli(home, ['logs', '--server', '../daemon']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a server name/);
  });

  it('never sends the server stderr to the agent', async () => {
    const r = await agent.callTool({ name: 'noisy.shout', arguments: { word: 'agent-call' } });
    assert.ok(!JSON.stringify(r).includes('shout:'), JSON.stringify(r));
  });

  it('`logs -f --server` prints a line the server writes after it started', async () => {
    const f = follower(home, ['--server', 'noisy', '-n', '0']);
    try {
      await sleep(500);
      await agent.callTool({ name: 'noisy.shout', arguments: { word: 'followed-word' } });
      await f.until(/shout: followed-word/);
    } finally {
      f.stop();
    }
  });

  it('`logs -f` follows a log across rotation', async () => {
    const dir = join(home, 'logs', 'servers');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'rotating.log');
    writeFileSync(file, 'before-1\n');
    const f = follower(home, ['--server', 'rotating']);
    try {
      await f.until(/before-1/);
      appendFileSync(file, 'appended-2\n');
      await f.until(/appended-2/);
      renameSync(file, `${file}.1`);
      writeFileSync(file, 'after-rotation-3\n');
      await f.until(/after-rotation-3/);
    } finally {
      f.stop();
    }
  });
});
