import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsyncEntry } from '@napi-rs/keyring';
import { privateSessionBus } from './fixtures/session-bus.ts';
import { cli, cliJson, freePort, sleep, startDaemon, tempHome } from './helpers.ts';

/** Why the Secret Service cannot run here, naming the packages; false when it can. */
function keyringMissing(): string | false {
  const absent = ['gnome-keyring-daemon', 'dbus-daemon'].filter((t) => spawnSync('which', [t]).status !== 0);
  return absent.length
    ? `needs the Debian packages gnome-keyring and dbus-daemon (missing: ${absent.join(', ')}); .ci/run installs them`
    : false;
}

/**
 * Key-custody: the vault master key in the OS keychain. On Linux that is the Secret Service; here a
 * real gnome-keyring on a private D-Bus session bus, with its own keyring directory.
 */
describe('vault master key in the OS keychain (gnome-keyring Secret Service)', { skip: keyringMissing() }, () => {
  const { home, cleanup } = tempHome();
  const processes: ChildProcess[] = [];
  let stopBus = () => {};
  let env: Record<string, string> = {};
  let header: { service: string; account: string };
  const entry = () => new AsyncEntry(header.service, header.account, { linux: { store: 'secret-service' } });
  const files = () => {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (statSync(p).isFile()) out.push(readFileSync(p, 'latin1'));
      }
    };
    walk(home);
    return out;
  };

  before(async () => {
    const xdg = join(home, '..', 'xdg');
    mkdirSync(join(xdg, 'data'), { recursive: true });
    mkdirSync(join(xdg, 'runtime'), { recursive: true, mode: 0o700 });
    const bus = privateSessionBus(xdg);
    stopBus = bus.stop;
    env = {
      DBUS_SESSION_BUS_ADDRESS: bus.address,
      XDG_DATA_HOME: join(xdg, 'data'),
      XDG_RUNTIME_DIR: join(xdg, 'runtime'),
    };
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    keyring.stdin.end('keyring-test-password');
    processes.push(keyring);
    Object.assign(process.env, env);
    // The keyring owns org.freedesktop.secrets once it answers.
    for (let i = 0; i < 100; i++) {
      try {
        await new AsyncEntry('briefcase-test', 'probe', { linux: { store: 'secret-service' } }).getPassword();
        break;
      } catch {
        await sleep(100);
      }
    }
  });
  after(() => {
    for (const p of processes) p.kill();
    stopBus();
    delete process.env.DBUS_SESSION_BUS_ADDRESS;
    cleanup();
  });

  it('init keeps the master key in the keychain: no key file, and no file holds the key', async () => {
    const init = cliJson<{ key_source: string; warnings: { code: string }[] }>(home, [
      'init',
      '--demo',
      '--demo-port',
      String(await freePort()),
    ]);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(init.json.key_source, 'keychain');
    assert.ok(!init.json.warnings.some((w) => w.code === 'no_keychain'));
    assert.ok(!existsSync(join(home, 'master.key')) && !existsSync(join(home, 'master.passphrase.json')));
    header = JSON.parse(readFileSync(join(home, 'master.keychain.json'), 'utf8')) as typeof header;
    const stored = await entry().getPassword();
    assert.ok(stored);
    const key = Buffer.from(stored, 'base64');
    assert.equal(key.length, 32);
    for (const file of files()) {
      for (const form of [stored, key.toString('hex'), key.toString('base64url'), key.toString('latin1')]) {
        assert.ok(!file.includes(form), 'the master key is written in the data directory');
      }
    }
  });

  it('the daemon opens the vault with it, across restarts; doctor and keys backends say so', async () => {
    for (let i = 0; i < 2; i++) {
      const d = await startDaemon(home);
      try {
        const r = cliJson<{ ok: boolean }>(home, ['tools', 'call', 'demo.weather', '--args', '{"city":"Oslo"}']);
        assert.equal(r.json.ok, true, `the demo API key came out of the vault: ${JSON.stringify(r.json)}`);
        assert.doesNotMatch(d.output(), /no_keychain/);
        assert.match(
          d.output(),
          /software keys \(identity, receipts, dpop\): sealed under the vault master key, which is in the OS keychain/,
        );
      } finally {
        await d.stop();
      }
    }
    const doctor = cliJson<{ code: string; message: string }[]>(home, ['doctor']).json;
    assert.match(doctor.find((c) => c.code === 'keys_present')?.message ?? '', /vault master key \(keychain\)/);
    assert.ok(doctor.some((c) => c.code === 'master_key_reachable'));
    const { backends } = cliJson<{ backends: { backend: string; available: boolean }[] }>(home, [
      'keys',
      'backends',
    ]).json;
    assert.equal(backends.find((b) => b.backend === 'keychain')?.available, true);
  });

  it('a missing, wrong or unreachable keychain entry is a clear error that changes nothing', async () => {
    const before = files();
    const stored = (await entry().getPassword())!;
    const start = (extra: Record<string, string | undefined> = {}) => {
      const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js'), 'start'], {
        env: { ...process.env, BRIEFCASE_HOME: home, ...extra },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.notEqual(r.status, 0);
      return r.stderr;
    };
    try {
      await entry().deleteCredential();
      assert.match(
        start(),
        /vault master key is missing from the OS keychain \(service "briefcase", account "master-key:/,
      );
      const doctor = cliJson<{ code: string; ok: boolean }[]>(home, ['doctor']);
      assert.equal(doctor.code, 1);
      assert.equal(doctor.json.find((c) => c.code === 'master_key_unreachable')?.ok, false);
      await entry().setPassword(Buffer.alloc(32, 7).toString('base64'));
      assert.match(start(), /the key in the OS keychain .* does not open this vault/);
      assert.match(
        start({ DBUS_SESSION_BUS_ADDRESS: '' }),
        /in the OS keychain, which does not answer: no D-Bus session bus/,
      );
    } finally {
      await entry().setPassword(stored);
    }
    assert.deepEqual(files(), before);
    const d = await startDaemon(home);
    await d.stop();
  });

  it('an existing key file moves into the keychain and back, keeping the vault readable', async () => {
    const { home: other, cleanup: done } = tempHome();
    try {
      assert.equal(
        cli(other, ['init', '--demo', '--master-key', 'file', '--demo-port', String(await freePort())]).code,
        0,
      );
      const keyFile = join(other, 'master.key');
      const key = readFileSync(keyFile, 'utf8').trim();
      const moved = cliJson<{ from: string; to: string; removed: string[] }>(other, [
        'keys',
        'move-master',
        '--to',
        'keychain',
      ]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.deepEqual([moved.json.from, moved.json.to, moved.json.removed], ['key_file', 'keychain', ['master.key']]);
      assert.ok(!existsSync(keyFile));
      const where = JSON.parse(readFileSync(join(other, 'master.keychain.json'), 'utf8')) as typeof header;
      const entry = () => new AsyncEntry(where.service, where.account, { linux: { store: 'secret-service' } });
      assert.equal(await entry().getPassword(), key, 'the same key, now in the keychain');
      const call = async () => {
        const d = await startDaemon(other);
        try {
          return cliJson<{ ok: boolean }>(other, ['tools', 'call', 'demo.weather', '--args', '{"city":"Oslo"}']).json
            .ok;
        } finally {
          await d.stop();
        }
      };
      assert.equal(await call(), true, 'the vault opens with the moved key');
      // A move interrupted after the keychain write leaves the old file behind; running it again finishes.
      writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
      const again = cliJson<{ from: string; removed: string[] }>(other, ['keys', 'move-master', '--to', 'keychain']);
      assert.deepEqual([again.json.from, again.json.removed], ['keychain', ['master.key']]);
      assert.ok(!existsSync(keyFile));
      const back = cliJson<{ removed: string[] }>(other, ['keys', 'move-master', '--to', 'file']);
      assert.equal(back.code, 0, back.stderr);
      assert.equal(readFileSync(keyFile, 'utf8').trim(), key);
      assert.ok(!existsSync(join(other, 'master.keychain.json')));
      assert.equal(await entry().getPassword(), null, 'the keychain entry is gone');
      assert.equal(await call(), true);
    } finally {
      done();
    }
  });

  it('--master-key keychain without a keychain refuses; auto falls back to a file with a warning', () => {
    const { home: other, cleanup: done } = tempHome();
    try {
      const noBus = { DBUS_SESSION_BUS_ADDRESS: '' };
      const run = (args: string[]) =>
        spawnSync(process.execPath, [join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js'), ...args], {
          env: { ...process.env, BRIEFCASE_HOME: other, ...noBus },
          encoding: 'utf8',
        });
      const refused = run(['init', '--master-key', 'keychain']);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /no OS keychain to keep the master key in: no D-Bus session bus/);
      assert.ok(!existsSync(join(other, 'master.key')) && !existsSync(join(other, 'master.keychain.json')));
      const auto = run(['init']);
      assert.equal(auto.status, 0, auto.stderr);
      assert.match(auto.stderr, /warning \[no_keychain\]: no OS keychain answered/);
      assert.ok(existsSync(join(other, 'master.key')));
    } finally {
      done();
    }
    assert.equal(cli(home, ['keys', 'list']).code, 0);
  });
});
