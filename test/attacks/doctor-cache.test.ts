import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cached, doctorCacheFile } from '../../apps/cli/src/commands/doctor-cache.ts';
import { tempHome } from '../helpers.ts';

/**
 * Someone who can write the data directory but not the person's other files plants links where
 * `briefcase doctor` (run by the person) keeps its cache. The cache may only change what doctor
 * prints: it must never write through a link to another file, nor copy a linked file into the
 * data directory.
 */
describe('attack (data-directory writer): links around doctor’s cache', () => {
  const { home, cleanup } = tempHome();
  const outside = join(home, '..', 'outside');
  after(cleanup);
  mkdirSync(join(home, 'cache'), { recursive: true, mode: 0o700 });
  mkdirSync(outside, { mode: 0o700 });
  const compute = async () => ({ ok: true, note: 'computed' });

  it('a link at the temporary file’s name does not make doctor overwrite the file it points to', async () => {
    const victim = join(outside, 'bashrc');
    writeFileSync(victim, 'echo the person’s shell start-up\n');
    // The temporary name is predictable from the pid; doctor's kept keys are the planter's text.
    writeFileSync(doctorCacheFile(home), JSON.stringify({ '$(touch /tmp/pwned)': { key: 'x', result: { ok: true } } }));
    symlinkSync(victim, `${doctorCacheFile(home)}.${process.pid}.tmp`);
    const r = await cached(home, 'policy', 'k1', false, compute);
    assert.equal(r.note, 'computed');
    assert.equal(readFileSync(victim, 'utf8'), 'echo the person’s shell start-up\n');
  });

  it('doctor.json linked to a private JSON file is not read into the data directory', async () => {
    const privateJson = join(outside, 'credentials.json');
    writeFileSync(privateJson, JSON.stringify({ refresh_token: 'rt-private-1f2e3d4c5b6a' }));
    const { rmSync } = await import('node:fs');
    rmSync(doctorCacheFile(home), { force: true });
    symlinkSync(privateJson, doctorCacheFile(home));
    await cached(home, 'bwrap', 'k2', false, compute);
    let kept = '';
    try {
      kept = readFileSync(doctorCacheFile(home), 'utf8');
    } catch {
      // Not written at all: nothing copied either.
    }
    assert.ok(!kept.includes('rt-private'), kept);
    assert.ok(readFileSync(privateJson, 'utf8').includes('rt-private-1f2e3d4c5b6a'));
  });

  it('a cache directory that is a link elsewhere is not written into', async () => {
    const { rmSync } = await import('node:fs');
    rmSync(join(home, 'cache'), { recursive: true, force: true });
    const elsewhere = join(outside, 'autostart');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(home, 'cache'));
    const r = await cached(home, 'policy', 'k3', false, compute);
    assert.equal(r.ok, true);
    assert.deepEqual((await import('node:fs')).readdirSync(elsewhere), []);
  });
});
