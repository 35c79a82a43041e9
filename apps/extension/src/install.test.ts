import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXTENSION_ORIGIN, HOST_NAME } from './extension-id.ts';
import { FrameReader, encodeFrame } from './framing.ts';
import { launcherScript, type HostManifest } from './install.ts';

const CLI = resolve(import.meta.dirname, '../../cli/bin/briefcase.js');

describe('briefcase extension install', () => {
  const base = mkdtempSync(join(tmpdir(), 'bc-ext-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  // A browser started from a menu has no shell PATH and no BRIEFCASE_HOME: run with neither.
  const env = { HOME: join(base, 'user'), XDG_CONFIG_HOME: join(base, 'user', '.config') };
  const briefcase = (args: string[]) =>
    spawnSync(process.execPath, [CLI, '--home', join(base, 'h'), ...args], { env, encoding: 'utf8' });

  it('registers the host in a browser profile, with a launcher that needs no PATH', () => {
    const profile = join(base, 'profile');
    const r = briefcase(['extension', 'install', '--user-data-dir', profile, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { manifest: string; launcher: string; extension_id: string };
    assert.equal(report.manifest, join(profile, 'NativeMessagingHosts', `${HOST_NAME}.json`));
    const manifest = JSON.parse(readFileSync(report.manifest, 'utf8')) as HostManifest;
    assert.deepEqual(manifest.allowed_origins, [EXTENSION_ORIGIN]);
    assert.equal(manifest.type, 'stdio');
    assert.equal(manifest.path, report.launcher);
    assert.equal(statSync(report.launcher).mode & 0o777, 0o700);
    // Chromium starts it with the origin as argv[1] and an environment we do not choose.
    const run = spawnSync(report.launcher, [EXTENSION_ORIGIN], { env: {}, input: encodeFrame({ type: 'session' }) });
    assert.equal(run.status, 0, run.stderr.toString());
    const [answer] = new FrameReader(1 << 20).push(run.stdout);
    assert.deepEqual(
      answer?.kind === 'message' && (answer.value as { error: { code: string } }).error.code,
      'not_initialised',
    );
    assert.match(r.stderr, /not initialised yet/);
  });

  it('writes to the browser’s per-user directory by default, and uninstall removes both files', () => {
    for (const [browser, dir] of [
      ['chromium', 'chromium'],
      ['chrome', 'google-chrome'],
    ] as const) {
      const r = briefcase(['extension', 'install', '--browser', browser]);
      assert.equal(r.status, 0, r.stderr);
      const manifest = join(env.XDG_CONFIG_HOME, dir, 'NativeMessagingHosts', `${HOST_NAME}.json`);
      assert.ok(existsSync(manifest));
      assert.match(r.stdout, /Load unpacked/);
      const u = briefcase(['extension', 'uninstall', '--browser', browser, '--json']);
      assert.equal(u.status, 0, u.stderr);
      assert.ok(!existsSync(manifest));
    }
  });

  it('refuses an unknown browser with exit 2', () => {
    const r = briefcase(['extension', 'install', '--browser', 'firefox']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--browser must be one of chromium, chrome/);
  });

  it('quotes paths in the launcher so that a quote or space in a path is not shell syntax', () => {
    const script = launcherScript('/opt/node 24/bin/node', "/home/o'brien/.briefcase", '/x/host.ts');
    assert.match(script, /^BRIEFCASE_HOME='\/home\/o'\\''brien\/\.briefcase'$/m);
    assert.match(script, /^exec '\/opt\/node 24\/bin\/node' '\/x\/host\.ts' "\$@"$/m);
  });
});
