import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AccessManifest, BriefcaseError } from '@briefcase/protocol';
import { sandboxLaunch, stdioLaunch } from './sandboxed-stdio.ts';

describe('where there is no OS sandbox (Windows), a sandboxed process does not start (issue 10)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bc-platform-'));
  const toolDir = join(dataDir, 'tools', 'srv');
  mkdirSync(toolDir, { recursive: true });
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const launch = (platform: string, access: Record<string, unknown> = {}) =>
    sandboxLaunch({
      server: 'srv',
      command: 'node',
      args: ['server.js'],
      cwd: undefined,
      env: {},
      access: AccessManifest.parse(access),
      dataDir,
      toolDir,
      cgroupKey: 'srv',
      platform,
    });

  it('Windows: unsupported_platform, saying what is missing and how to run it anyway', () => {
    assert.throws(
      () => launch('win32'),
      (e: unknown) =>
        e instanceof BriefcaseError &&
        e.code === 'unsupported_platform' &&
        /no OS sandbox on Windows/.test(e.message) &&
        /isolation to "none"/.test(e.message),
    );
    assert.throws(
      () => launch('freebsd'),
      (e: unknown) => e instanceof BriefcaseError && e.code === 'unsupported_platform',
    );
  });

  it('isolation "none" (set explicitly, receipted) runs the command as given', () => {
    const r = stdioLaunch({
      server: 'srv',
      command: 'node',
      args: ['server.js'],
      cwd: undefined,
      env: { A: '1' },
      access: AccessManifest.parse({ isolation: 'none' }),
      dataDir,
    });
    assert.deepEqual([r.command, r.args, r.env], ['node', ['server.js'], { A: '1' }]);
  });

  it(
    'macOS without sandbox-exec (as on this Linux machine) fails closed',
    { skip: process.platform === 'darwin' },
    () => {
      assert.throws(
        () => launch('darwin'),
        (e: unknown) =>
          e instanceof BriefcaseError && e.code === 'unavailable' && /sandbox-exec is missing/.test(e.message),
      );
    },
  );
});
