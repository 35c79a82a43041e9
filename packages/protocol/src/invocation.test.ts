import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliInvocation, homeArgsFor, homeOfSocket, shellQuote } from './invocation.ts';

/** Issue 11: every message names a command that works where it is printed. */
describe('cliInvocation: how the person runs `briefcase` here', () => {
  const base = mkdtempSync(join(tmpdir(), 'bc-inv-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const file = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    return path;
  };
  const node = file(join(base, 'node24/bin/node'));
  const entry = file(join(base, 'checkout/apps/cli/bin/briefcase.js'));

  it('`briefcase` when the briefcase on the PATH is this very command (a global install links it)', () => {
    const bin = join(base, 'prefix/bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(entry, join(bin, 'briefcase'));
    const r = cliInvocation({ entry, execPath: node, env: { PATH: `${bin}:${join(base, 'node24/bin')}` } });
    assert.deepEqual(r.argv, ['briefcase']);
    assert.equal(r.how, 'path');
  });

  it('not `briefcase` when the one on the PATH is another program (an unrelated package)', () => {
    const other = join(base, 'other/bin');
    file(join(other, 'briefcase'));
    const r = cliInvocation({ entry, execPath: node, env: { PATH: `${other}:${join(base, 'node24/bin')}` } });
    assert.deepEqual(r.argv, ['node', entry]);
  });

  it('`npx briefcase-agent` when running from npx’s cache', () => {
    const cached = file(join(base, 'home/.npm/_npx/1a2b3c/node_modules/briefcase-agent/bin/briefcase.js'));
    const r = cliInvocation({ entry: cached, execPath: node, env: { PATH: join(base, 'node24/bin') } });
    assert.deepEqual(r.argv, ['npx', 'briefcase-agent']);
    assert.equal(r.text, 'npx briefcase-agent');
  });

  it('`node <abs>/briefcase.js` from a checkout; the absolute Node when `node` on the PATH is another', () => {
    assert.deepEqual(cliInvocation({ entry, execPath: node, env: { PATH: join(base, 'node24/bin') } }).argv, [
      'node',
      entry,
    ]);
    const old = file(join(base, 'node20/bin/node'));
    const r = cliInvocation({ entry, execPath: node, env: { PATH: join(old, '..') } });
    assert.deepEqual(r.argv, [node, entry]);
  });

  it('quotes what a shell would split, and relative PATH entries never count', () => {
    assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
    assert.equal(shellQuote('/plain/path-1.js'), '/plain/path-1.js');
    const r = cliInvocation({ entry, execPath: node, env: { PATH: `.:${join(base, 'node24/bin')}` } });
    assert.equal(r.how, 'node');
  });

  it('--home only for a data directory that is not the default', () => {
    assert.deepEqual(homeArgsFor(join(homedir(), '.briefcase')), []);
    assert.deepEqual(homeArgsFor('/srv/bc'), ['--home', '/srv/bc']);
    assert.equal(homeOfSocket('/srv/bc/daemon.sock'), '/srv/bc');
    assert.equal(homeOfSocket('/run/briefcase/agent.sock'), undefined);
  });
});
