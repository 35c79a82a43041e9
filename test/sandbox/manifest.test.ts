import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sandboxAvailable } from '@briefcase/sandbox';
import { cli, cliJson, receiptRecords, ROOT, startDaemon, tempHome, type DaemonProcess } from '../helpers.ts';

/** Needs nothing beyond Node.js and this repository: it runs under the manifest inferred for it. */
const SERVER = join(ROOT, 'test/fixtures/test-mcp-server.ts');
const sandbox = sandboxAvailable();
/** `remote add` now starts the server (an unreachable one is not added): that needs the sandbox. */
const skip = sandbox.ok ? false : `the OS sandbox is not usable here (Debian package: bubblewrap): ${sandbox.reason}`;

/**
 * Issue 10, manifests: `remote add` infers a starting manifest for its launcher and says what it
 * granted; the manifest is stored with the server, receipted, and shown; a change that widens it
 * is a guarded operation once a passkey exists (here: before one, it runs, receipted with before
 * and after), and a narrowing one always runs.
 */
describe('access manifests of remote MCP servers', { skip }, () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const added = cli(home, ['remote', 'add', 'files', '--stdio', '--', process.execPath, SERVER]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /It may reach:/);
    assert.match(added.stdout, /granted: node: read-only .* \(Node\.js\) and .* \(the script's project, read-only\)/);
    assert.match(added.stdout, /network: {2}none/);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('the inferred manifest is stored, shown and receipted', () => {
    const access = cliJson<{ isolation: string; filesystem: { path: string; access: string }[]; network: string[] }>(
      home,
      ['remote', 'access', 'files'],
    ).json;
    assert.equal(access.isolation, 'sandbox');
    assert.deepEqual(access.network, []);
    assert.ok(access.filesystem.some((f) => f.path === dirname(dirname(process.execPath)) && f.access === 'ro'));
    assert.ok(access.filesystem.some((f) => f.path === ROOT && f.access === 'ro'));
    assert.ok(
      access.filesystem.every((f) => !f.path.startsWith(home)),
      'the data directory is never granted',
    );
    const added = receiptRecords(home).find((r) => r.kind === 'remote' && r.body.event === 'added');
    assert.deepEqual((added?.body.access as { filesystem: unknown }).filesystem, access.filesystem);
  });

  it('a widening change and a narrowing one are each receipted with before and after', () => {
    const current = cliJson<Record<string, unknown>>(home, ['remote', 'access', 'files']).json;
    const wider = { ...current, network: ['api.example.com'] };
    const file = join(home, '..', 'wider.json');
    writeFileSync(file, JSON.stringify(wider));
    const set = cli(home, ['remote', 'access', 'files', '--set', file]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /network: {2}api\.example\.com/);
    writeFileSync(file, JSON.stringify({ ...current, network: [] }));
    assert.equal(cli(home, ['remote', 'access', 'files', '--set', file]).code, 0);
    const changes = receiptRecords(home).filter((r) => r.kind === 'remote' && r.body.event === 'access_changed');
    assert.equal(changes.length, 2);
    assert.deepEqual((changes[0]!.body.after as { network: string[] }).network, ['api.example.com']);
    assert.deepEqual((changes[1]!.body.after as { network: string[] }).network, []);
  });

  it('a manifest that names the data directory, uses .., or is malformed is refused with where and why', () => {
    const file = join(home, '..', 'bad.json');
    for (const [access, expect] of [
      [{ filesystem: [{ path: '/tmp/../etc', access: 'ro' }] }, /no "\.\." in a granted path/],
      [{ filesystem: [{ path: 'relative', access: 'ro' }] }, /an absolute path/],
      [{ network: ['http://x'] }, /host, host:port/],
      [{ isolation: 'off' }, /isolation/],
    ] as const) {
      writeFileSync(file, JSON.stringify(access));
      const r = cli(home, ['remote', 'access', 'files', '--set', file]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, expect);
    }
  });
});
