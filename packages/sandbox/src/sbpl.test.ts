import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessManifest } from '@briefcase/protocol';
import { isolationSupport, sandboxExecCommand, sbplProfile, sbplString } from './index.ts';

/**
 * The macOS profile, read as text (it cannot run here: these tests are all the checking it has had
 * on this machine; sbpl.ts says so). Paths are fictional; realpath is the identity.
 */
const DATA = '/Users/p/Library/Application Support/briefcase';
const TOOL = `${DATA}/tools/srv`;
const spec = (access: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  access: AccessManifest.parse(access),
  command: '/opt/node/bin/node',
  toolDir: TOOL,
  dataDir: DATA,
  home: '/Users/p',
  runtimeDirs: ['/opt/node'],
  realpath: (p: string) => p,
  ...extra,
});
const profile = (access: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
  const r = sbplProfile(spec(access, extra));
  if (!r.ok) throw new Error(r.reason);
  return r.profile;
};
/** The profile with every string literal blanked: what is left is the rules themselves. */
const structure = (p: string) => p.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/;[^\n]*/g, '');

describe('macOS sandbox-exec profile (SBPL) from an access manifest', () => {
  it('denies by default and never allows everything', () => {
    const p = profile({ network: ['api.github.com'] }, { proxyPort: 41234 });
    assert.match(p, /^\(version 1\)\n/);
    assert.match(structure(p), /\(deny default\)/);
    assert.doesNotMatch(
      structure(p),
      /\(allow default\)|\(allow network\*?\s*\)|\(allow file-read\*\s*\)|\(allow process-exec\s*\)/,
    );
  });

  it('allows the data directory only through the tool’s own directory', () => {
    const p = profile({ filesystem: [{ path: '/Users/p/projects', access: 'ro' }] });
    const subpaths = [...p.matchAll(/\(subpath "((?:[^"\\]|\\.)*)"\)/g)].map((m) => m[1]!);
    for (const sp of subpaths) {
      assert.ok(sp === TOOL || !(DATA.startsWith(sp) || sp.startsWith(DATA)), `${sp} would reach the data directory`);
    }
    assert.ok(subpaths.includes(TOOL));
    assert.ok(subpaths.includes('/Users/p/projects'));
  });

  it('refuses a grant inside the data directory, or of a parent of it ($HOME)', () => {
    for (const path of [`${DATA}/admin.token`, DATA, `${DATA}/tools`, '$HOME', '/Users', '/']) {
      const r = sbplProfile(spec({ filesystem: [{ path, access: 'ro' }] }));
      assert.equal(r.ok, false, path);
    }
  });

  it('escapes quotes and parentheses in a path, so a path cannot add a rule', () => {
    const hostile = '/tmp/x") (allow default) (allow file-read* (subpath "/';
    const p = profile({ filesystem: [{ path: hostile, access: 'ro' }] });
    assert.ok(p.includes(sbplString(hostile)));
    assert.equal(sbplString('a"b\\c(d)'), '"a\\"b\\\\c(d)"');
    assert.doesNotMatch(structure(p), /allow default/);
    assert.throws(() => sbplString('/tmp/a\n(allow default)'), /control character/);
    assert.equal(sbplProfile(spec({ filesystem: [{ path: '/tmp/a\n(allow default)', access: 'ro' }] })).ok, false);
  });

  it('network only to the egress proxy on loopback, and none without a grant', () => {
    const withNet = structure(profile({ network: ['api.github.com'] }, { proxyPort: 41234 }));
    const rules = profile({ network: ['api.github.com'] }, { proxyPort: 41234 })
      .split('\n')
      .filter((l) => /network/.test(l) && !l.startsWith(';'));
    assert.deepEqual(rules, ['(allow network-outbound (remote tcp "localhost:41234"))']);
    assert.match(withNet, /network-outbound/);
    assert.doesNotMatch(structure(profile()), /network/);
  });

  it('execs only the command', () => {
    const execs = profile()
      .split('\n')
      .filter((l) => l.includes('process-exec'));
    assert.deepEqual(execs, ['(allow process-exec (literal "/opt/node/bin/node"))']);
  });

  it('the command line: limits in sh, then sandbox-exec with the profile; only the granted environment', () => {
    const built = sandboxExecCommand({ ...spec({ env: ['LANG'] }), args: ['server.js'], env: { LANG: 'en' } });
    assert.ok(built.ok);
    assert.equal(built.command, '/bin/sh');
    assert.equal(built.args[3], '/usr/bin/sandbox-exec');
    assert.equal(built.args[4], '-p');
    assert.deepEqual(built.args.slice(6), ['/opt/node/bin/node', 'server.js']);
    assert.deepEqual(Object.keys(built.env).sort(), ['HOME', 'LANG', 'PATH', 'TMPDIR']);
    assert.equal(built.env.HOME, TOOL);
  });

  it('which isolation each platform has', () => {
    assert.equal(isolationSupport('win32').ok, false);
    assert.equal(isolationSupport('win32').mechanism, null);
    assert.match(isolationSupport('win32').detail, /Windows/);
    assert.equal(isolationSupport('darwin').mechanism, 'sandbox-exec');
    assert.equal(isolationSupport('linux').mechanism, 'bubblewrap');
  });
});
