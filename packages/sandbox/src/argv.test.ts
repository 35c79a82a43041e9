import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AccessManifest } from '@briefcase/protocol';
import { bwrapCommand, type SandboxSpec } from './argv.ts';

/** The bubblewrap command line, as a pure function of the manifest (real paths in a temp dir). */
describe('bwrapCommand', () => {
  const base = mkdtempSync(join(tmpdir(), 'bc-argv-'));
  const dataDir = join(base, 'person', '.briefcase');
  const toolDir = join(dataDir, 'tools', 'srv');
  const project = join(base, 'person', 'project');
  mkdirSync(toolDir, { recursive: true });
  mkdirSync(project, { recursive: true });
  symlinkSync(dataDir, join(project, 'innocent-looking'));
  after(() => rmSync(base, { recursive: true, force: true }));

  const spec = (access: unknown, extra: Partial<SandboxSpec> = {}): SandboxSpec => ({
    access: AccessManifest.parse(access),
    command: 'node',
    args: ['server.js'],
    env: { API_KEY: 'sk-secret-value' },
    toolDir,
    dataDir,
    home: join(base, 'person'),
    runtimeDirs: [],
    bwrap: '/usr/bin/bwrap',
    prlimit: '/usr/bin/prlimit',
    bash: '/usr/bin/bash',
    ...extra,
  });
  const build = (access: unknown, extra: Partial<SandboxSpec> = {}) => {
    const r = bwrapCommand(spec(access, extra));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    return r;
  };

  it('fresh namespaces, no capabilities, dies with the daemon, own session, its own directory read-write', () => {
    const { args } = build({});
    for (const flag of ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session'])
      assert.ok(args.includes(flag), flag);
    assert.deepEqual(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
    assert.ok(args.join(' ').includes(`--bind ${toolDir} ${toolDir}`));
    assert.ok(!args.includes(dataDir), 'the data directory itself is never bound');
    assert.ok(!args.includes('--share-net'));
  });

  it('secrets travel in the environment of bwrap, never in its argv (world-readable in /proc)', () => {
    const r = build({});
    assert.ok(!r.args.join(' ').includes('sk-secret-value'));
    assert.equal(r.env['API_KEY'], 'sk-secret-value');
    assert.equal(r.env['HOME'], toolDir);
  });

  it('limits come from the manifest (prlimit before the server starts)', () => {
    const { args } = build({ limits: { memory_mb: 100, processes: 8, cpu_seconds: 30, open_files: 64 } });
    const at = args.indexOf('/usr/bin/prlimit');
    assert.deepEqual(args.slice(at + 1, at + 6), [
      `--data=${(100 + 768) * 1024 * 1024}`,
      '--nproc=9',
      '--cpu=30:31',
      '--nofile=64',
      '--core=0',
    ]);
  });

  it('refuses a grant of the data directory or anything in it (also through a symlink), but not its own directory', () => {
    for (const path of [dataDir, join(dataDir, 'admin.token'), join(project, 'innocent-looking')]) {
      const r = bwrapCommand(spec({ filesystem: [{ path, access: 'ro' }] }));
      assert.equal(r.ok, false, path);
    }
    assert.ok(bwrapCommand(spec({ filesystem: [{ path: '$TOOL_DIR/cache', access: 'rw' }] })).ok);
  });

  it('a granted parent of the data directory ($HOME) shows it empty', () => {
    const { args } = build({ filesystem: [{ path: '$HOME', access: 'ro' }] });
    const text = args.join(' ');
    const home = join(base, 'person');
    assert.ok(text.indexOf(`--ro-bind ${home} ${home}`) < text.indexOf(`--tmpfs ${dataDir}`));
    assert.ok(text.indexOf(`--tmpfs ${dataDir}`) < text.indexOf(`--bind ${toolDir} ${toolDir}`));
  });

  it('a working directory must be granted', () => {
    assert.equal(bwrapCommand(spec({}, { cwd: project })).ok, false);
    assert.ok(bwrapCommand(spec({ filesystem: [{ path: project, access: 'ro' }] }, { cwd: project })).ok);
  });

  it('with a proxy: the socket is bound at a fixed path and the proxy variables point at the bridge', () => {
    const r = build(
      { network: ['example.com'] },
      { proxy: { socketPath: join(dataDir, 'run', 'x.sock'), port: 3128 } },
    );
    assert.ok(r.args.join(' ').includes(`--ro-bind ${join(dataDir, 'run', 'x.sock')} /run/briefcase/egress.sock`));
    assert.equal(r.env['HTTPS_PROXY'], 'http://127.0.0.1:3128');
    assert.equal(r.env['NODE_USE_ENV_PROXY'], '1');
  });
});
