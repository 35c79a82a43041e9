import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliInvocation } from '@briefcase/protocol/invocation';

/**
 * Issue 11: every command a message names must work when pasted into the person's shell. The
 * PATH a process sees is not always that shell's: npm adds `node_modules/.bin` while it runs a
 * script, which once made `npm test` print a bare `briefcase` that no shell could run.
 */
describe('the command messages name (cliInvocation)', () => {
  const root = mkdtempSync(join(tmpdir(), 'bc-inv-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const entry = join(root, 'pkg', 'bin', 'briefcase.js');
  mkdirSync(join(root, 'pkg', 'bin'), { recursive: true });
  writeFileSync(entry, '#!/usr/bin/env node\n');
  chmodSync(entry, 0o755);
  const node = process.execPath;

  /** A directory holding a `briefcase` link to the entry, as npm's bin linking makes. */
  const binDir = (...parts: string[]) => {
    const dir = join(root, ...parts);
    mkdirSync(dir, { recursive: true });
    symlinkSync(entry, join(dir, 'briefcase'));
    return dir;
  };

  it('names a bare `briefcase` when the one on the PATH is this command (a global install)', () => {
    const global = binDir('global', 'bin');
    const got = cliInvocation({ entry, execPath: node, env: { PATH: `${global}:/usr/bin` } });
    assert.equal(got.how, 'path');
    assert.equal(got.text, 'briefcase');
  });

  it('ignores a node_modules/.bin on the PATH: npm puts it there only while a script runs', () => {
    const npmBin = binDir('checkout', 'node_modules', '.bin');
    const got = cliInvocation({ entry, execPath: node, env: { PATH: `${npmBin}:/usr/bin` } });
    assert.equal(got.how, 'node');
    assert.equal(got.argv.at(-1), entry);
    assert.doesNotMatch(got.text, /^briefcase\b/);
  });

  it('ignores relative PATH entries, which depend on where the shell is', () => {
    const got = cliInvocation({ entry, execPath: node, env: { PATH: `.:bin` } });
    assert.equal(got.how, 'node');
  });

  it('names `npx briefcase-agent` when running from the npx cache', () => {
    const npxEntry = join(root, '_npx', 'abc', 'node_modules', 'briefcase-agent', 'bin', 'briefcase.js');
    mkdirSync(join(npxEntry, '..'), { recursive: true });
    writeFileSync(npxEntry, '');
    const got = cliInvocation({ entry: npxEntry, execPath: node, env: { PATH: '/usr/bin' } });
    assert.deepEqual(got.argv, ['npx', 'briefcase-agent']);
  });

  it('names this Node by its absolute path when `node` on the PATH is another one', () => {
    const got = cliInvocation({ entry, execPath: node, env: { PATH: '/nonexistent' } });
    assert.deepEqual(got.argv, [node, entry]);
  });
});
