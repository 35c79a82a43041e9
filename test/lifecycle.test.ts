import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, stdioClient, tempHome } from './helpers.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Issue 11: the daemon in the background, from a checkout (the package test covers an install). */
describe('briefcase start --detach / status / stop', () => {
  const { home, cleanup } = tempHome();
  let pid: number | undefined;
  after(() => {
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGTERM');
    cleanup();
  });

  it('before init: start --detach refuses and names the init command, runnable as printed', () => {
    const r = cli(home, ['start', '--detach']);
    assert.equal(r.code, 2, r.stderr);
    const command = /run `([^`]+)` first/.exec(r.stderr)?.[1];
    assert.ok(command, r.stderr);
    // Printed with --home (this data directory is not the default): it works without BRIEFCASE_HOME.
    const run = spawnSync('/bin/sh', ['-c', `${command} --master-key file`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(home, 'admin.token')));
  });

  it('status with the daemon down exits 3 and the command it names starts the daemon', () => {
    const down = cli(home, ['status']);
    assert.equal(down.code, 3);
    const command = /start it with `([^`]+)`/.exec(down.stderr)?.[1];
    assert.match(command ?? '', /briefcase\.js --home \S+ start --detach$/, down.stderr);
    const run = spawnSync('/bin/sh', ['-c', `${command!} --console-port 0`], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(run.status, 0, run.stderr);
    pid = Number(/pid (\d+)/.exec(run.stdout)?.[1]);
    assert.ok(alive(pid));
    assert.equal(readFileSync(join(home, 'daemon.pid'), 'utf8').trim(), String(pid));
  });

  it('a second start --detach is refused while one runs', () => {
    const r = cli(home, ['start', '--detach']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already running .*\(pid \d+\)/);
  });

  it('status --json: running, pid, version, uptime, listeners, data directory', () => {
    const { code, json } = cliJson<{ running: boolean; pid: number; home: string; listeners: { socket: string } }>(
      home,
      ['status'],
    );
    assert.equal(code, 0);
    assert.equal(json.running, true);
    assert.equal(json.pid, pid);
    assert.equal(json.home, home);
    assert.equal(json.listeners.socket, join(home, 'daemon.sock'));
  });

  it('stop waits for a clean exit: the call before it and the stop are in the receipt log', () => {
    assert.equal(cli(home, ['tools', 'call', 'echo', '--args', '{"text":"before stop"}']).code, 0);
    const r = cli(home, ['stop']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(alive(pid!), false);
    assert.equal(existsSync(join(home, 'daemon.pid')), false);
    const out = join(home, '..', 'export.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    const verify = cli(home, ['receipts', 'verify', out]);
    assert.equal(verify.code, 0, verify.stdout);
    const lines = readFileSync(out, 'utf8');
    assert.ok(lines.indexOf('"tool":"echo"') < lines.indexOf('"event":"stopped"'));
    assert.equal(cli(home, ['stop']).code, 0, 'stopping a stopped daemon is not an error');
  });

  it("the agent's error with the daemon down names the start command", async () => {
    const client = await stdioClient(home);
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'x' } }).catch((e: Error) => e);
      const text = r instanceof Error ? r.message : JSON.stringify(r.content);
      assert.match(text, /start it with `[^`]*briefcase\.js --home \S+ start --detach`/);
    } finally {
      await client.close();
    }
  });

  it('a daemon that cannot start: start --detach fails with its cause', () => {
    writeFileSync(join(home, 'config.json'), '{"log": {"level": "loud"}}');
    const r = cli(home, ['start', '--detach']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not start/);
    assert.match(r.stderr, /config\.json/);
  });
});

describe('start --detach hands the daemon an allowlisted environment', () => {
  let detachedEnv: (env: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;
  before(async () => {
    ({ detachedEnv } = await import('../apps/cli/src/commands/lifecycle.ts'));
  });
  it('passes PATH, HOME, BRIEFCASE_*, OTEL_* and drops the rest', () => {
    const env = detachedEnv({
      PATH: '/bin',
      HOME: '/h',
      BRIEFCASE_PASSPHRASE: 'p',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
      AWS_SECRET_ACCESS_KEY: 'no',
      GITHUB_TOKEN: 'no',
      npm_config_registry: 'no',
    });
    assert.deepEqual(Object.keys(env).sort(), ['BRIEFCASE_PASSPHRASE', 'HOME', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'PATH']);
  });
});

describe('stop trusts a pid file only for a briefcase daemon', () => {
  const { home, cleanup } = tempHome();
  after(cleanup);
  it('a pid file naming another live process (written by someone with access to the data dir) is not signalled', () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    // This test process itself is the bystander: if stop signalled it, the test would die.
    writeFileSync(join(home, 'daemon.pid'), `${process.pid}\n`);
    const r = cli(home, ['stop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No daemon is running/);
    assert.equal(alive(process.pid), true);
  });
});
