import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { findTool } from './os.ts';
import { checkLayout, execStart, runtimeDirectory, serviceUnit, UNIT_NAME, type ServiceLayout } from './unit.ts';

const LAYOUT: ServiceLayout = {
  user: 'briefcase',
  agentsGroup: 'briefcase-agents',
  home: '/var/lib/briefcase',
  socketDir: '/run/briefcase',
  node: '/usr/local/bin/node',
  cli: '/opt/briefcase/apps/cli/bin/briefcase.js',
  chgrp: '/usr/bin/chgrp',
};

/** `Key=value` lines of a unit, in order (a key may repeat). */
function entries(unit: string): [string, string][] {
  return unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}
const value = (unit: string, key: string) =>
  entries(unit)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe('service unit (docs/service.md)', () => {
  it('runs the daemon as the service user, the agent socket given to the agents group', () => {
    const unit = serviceUnit(LAYOUT);
    assert.deepEqual(value(unit, 'User'), ['briefcase']);
    // The primary group is the user's own; the agents group only lets it hand the socket over.
    assert.deepEqual(value(unit, 'Group'), ['briefcase']);
    assert.deepEqual(value(unit, 'SupplementaryGroups'), ['briefcase-agents']);
    assert.deepEqual(value(unit, 'ExecStart'), [
      '/usr/local/bin/node --max-semi-space-size=2 /opt/briefcase/apps/cli/bin/briefcase.js --home /var/lib/briefcase start --agent-socket /run/briefcase/agent.sock --agent-group briefcase-agents',
    ]);
    assert.deepEqual(value(unit, 'RuntimeDirectory'), ['briefcase']);
    assert.deepEqual(value(unit, 'RuntimeDirectoryMode'), ['0750']);
    assert.deepEqual(value(unit, 'ExecStartPre'), ['+/usr/bin/chgrp briefcase-agents /run/briefcase']);
  });

  it('is hardened: read-only system but the data directory, no home, no privileges, private umask', () => {
    const unit = serviceUnit(LAYOUT);
    for (const [k, v] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ReadWritePaths', '/var/lib/briefcase'],
      ['UMask', '0077'],
      ['Restart', 'on-failure'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      assert.deepEqual(value(unit, k), [v], k);
    }
    assert.deepEqual(value(unit, 'WantedBy'), ['multi-user.target']);
  });

  it('a socket directory outside /run is made by the install and writable to the service', () => {
    const unit = serviceUnit({ ...LAYOUT, socketDir: '/srv/briefcase-run' });
    assert.deepEqual(value(unit, 'RuntimeDirectory'), []);
    assert.deepEqual(value(unit, 'ExecStartPre'), []);
    assert.deepEqual(value(unit, 'ReadWritePaths'), ['/var/lib/briefcase /srv/briefcase-run']);
    assert.equal(runtimeDirectory('/run/briefcase'), 'briefcase');
    assert.equal(runtimeDirectory('/run/a/b'), 'a/b');
    assert.equal(runtimeDirectory('/srv/run'), null);
  });

  it('is the same text for the same layout', () => {
    assert.equal(serviceUnit(LAYOUT), serviceUnit({ ...LAYOUT }));
    // The daemon's V8 flags (issue 13) come before the script, then the command.
    assert.deepEqual(execStart(LAYOUT).slice(1, 6), [
      '--max-semi-space-size=2',
      LAYOUT.cli,
      '--home',
      '/var/lib/briefcase',
      'start',
    ]);
  });

  it('refuses names and paths that would break or widen the unit', () => {
    const bad: [Partial<ServiceLayout>, RegExp][] = [
      [{ user: 'Root Kit' }, /--user/],
      [{ agentsGroup: 'a;b' }, /--group/],
      [{ agentsGroup: 'briefcase' }, /must differ/],
      [{ home: '/var/lib/brief case' }, /--home/],
      [{ home: '/var/lib/%n' }, /--home/],
      [{ home: '/var/lib/../etc' }, /--home/],
      [{ home: 'relative' }, /--home/],
      [{ home: '/' }, /--home/],
      [{ socketDir: '/var/lib/briefcase/run' }, /contain each other/],
      [{ home: '/run/briefcase/data' }, /contain each other/],
      [{ socketDir: `/run/${'x'.repeat(100)}` }, /too long/],
      [{ node: '/usr/bin/node\nExecStartPost=/bin/sh' }, /node/],
    ];
    for (const [change, message] of bad) {
      const problems = checkLayout({ ...LAYOUT, ...change });
      assert.ok(
        problems.some((p) => message.test(p)),
        `${JSON.stringify(change)}: ${problems.join('; ')}`,
      );
      assert.throws(() => serviceUnit({ ...LAYOUT, ...change }));
    }
    assert.deepEqual(checkLayout(LAYOUT), []);
  });

  it('passes `systemd-analyze verify` (offline: systemd need not be PID 1)', (t) => {
    const analyze = findTool('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is missing (Debian package: systemd)');
    const dir = mkdtempSync(join(tmpdir(), 'bc-unit-'));
    try {
      // verify checks that ExecStart's programs exist, so point them at real files.
      const unit = serviceUnit({
        ...LAYOUT,
        node: process.execPath,
        cli: resolve(import.meta.dirname, '../../bin/briefcase.js'),
        chgrp: findTool('chgrp') ?? '/usr/bin/chgrp',
      });
      const file = join(dir, UNIT_NAME);
      writeFileSync(file, unit);
      const r = spawnSync(analyze, ['verify', '--man=no', file], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_LOG_LEVEL: 'notice' },
      });
      assert.equal(r.status, 0, r.stderr);
      // Unknown keys and bad values are only warnings: any line about our unit fails the test.
      const ours = r.stderr.split('\n').filter((l) => l.includes(UNIT_NAME) || l.includes(dir));
      assert.deepEqual(ours, [], r.stderr);
      assert.ok(existsSync(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('verify catches a broken unit (so the check above can fail)', (t) => {
    const analyze = findTool('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is missing (Debian package: systemd)');
    const dir = mkdtempSync(join(tmpdir(), 'bc-unit-'));
    try {
      const file = join(dir, UNIT_NAME);
      writeFileSync(file, serviceUnit(LAYOUT).replace('ProtectSystem=strict', 'ProtectSystem=banana'));
      const r = spawnSync(analyze, ['verify', '--man=no', file], { cwd: dir, encoding: 'utf8' });
      assert.ok(r.status !== 0 || r.stderr.includes(UNIT_NAME), 'a bad value is reported');
      assert.match(r.stderr, /protect system|ProtectSystem|not executable/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
