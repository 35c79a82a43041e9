import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KvStore } from '@briefcase/code-tools';
import { writeFileAtomic } from '@briefcase/vault';
import { tempHome } from '../helpers.ts';

/**
 * Someone who can write the data directory plants a link at the temporary name the daemon writes
 * a file under before renaming it into place. The name was predictable (the daemon's pid) and the
 * temporary file was opened following links, so the daemon — running as the person — overwrote
 * the file the link points to: with a connector the admin added (`connectors add`), the vault, the
 * config, or a code tool's key-value store, whose keys and values the tool (and so the agent)
 * chooses — JSON with a `$(...)` key is a command in a shell start-up file.
 */
describe('attack (data-directory writer): links at the daemon’s temporary file names', () => {
  const { home, cleanup } = tempHome();
  const outside = join(home, '..', 'outside');
  mkdirSync(home, { recursive: true });
  mkdirSync(outside);
  after(cleanup);
  const ORIGINAL = 'the person’s own file\n';

  it('writeFileAtomic (connectors, vault, config, tokens) never writes through a planted link', () => {
    const victim = join(outside, 'authorized_keys');
    writeFileSync(victim, ORIGINAL);
    const target = join(home, 'vault.json');
    symlinkSync(victim, `${target}.tmp-${process.pid}`);
    writeFileAtomic(target, '{"secrets":{}}\n');
    assert.equal(readFileSync(victim, 'utf8'), ORIGINAL);
    assert.equal(readFileSync(target, 'utf8'), '{"secrets":{}}\n');
  });

  it('a code tool’s key-value store never writes through a planted link', () => {
    const victim = join(outside, 'bashrc');
    writeFileSync(victim, ORIGINAL);
    const toolDir = join(home, 'code-tools', 'kv.tool');
    mkdirSync(toolDir, { recursive: true });
    symlinkSync(victim, join(toolDir, `kv.json.${process.pid}.tmp`));
    new KvStore(toolDir).set('$(touch /tmp/pwned)', 'x');
    assert.equal(readFileSync(victim, 'utf8'), ORIGINAL);
    assert.equal(new KvStore(toolDir).get('$(touch /tmp/pwned)'), 'x');
  });
});
