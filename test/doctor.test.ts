import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, tempHome } from './helpers.ts';

interface Check {
  code: string;
  ok: boolean;
  message: string;
}

/**
 * Issue 11, `doctor` made fast: its checks run at once and the slow ones (Cedar's compile of the
 * policy, running bubblewrap) reuse their last result while what they checked is unchanged; every
 * problem is still reported in one run, and `--deep` redoes the slow checks.
 */
describe('briefcase doctor: every problem at once, slow checks kept per what they checked', () => {
  const { home, cleanup } = tempHome();
  const cacheFile = join(home, 'cache', 'doctor.json');
  const policyFile = join(home, 'policy.cedar');
  const doctor = (args: string[] = []) => cliJson<Check[]>(home, ['doctor', ...args]);
  const find = (checks: Check[], code: string) => checks.find((c) => c.code === code);
  let goodPolicy: string;
  let goodConfig: string;

  before(() => {
    assert.equal(cli(home, ['init']).code, 0);
    goodPolicy = readFileSync(policyFile, 'utf8');
    goodConfig = readFileSync(join(home, 'config.json'), 'utf8');
  });
  after(() => cleanup());

  it('lists every problem in one run, in a fixed order, and exits 1', () => {
    writeFileSync(join(home, 'config.json'), '{"not": "a config"');
    writeFileSync(policyFile, 'permit(principal, action, resource) when { nonsense };');
    writeFileSync(join(home, 'connectors', 'broken.json'), '{"kind": "http"}', { mode: 0o600 });
    const r = doctor();
    assert.equal(r.code, 1);
    const codes = r.json.map((c) => c.code);
    for (const code of ['config_invalid', 'policy_invalid', 'connector_invalid', 'daemon_unreachable'])
      assert.ok(codes.includes(code), `${code} in ${codes.join(', ')}`);
    assert.ok(codes.indexOf('config_invalid') < codes.indexOf('policy_invalid'));
    assert.equal(codes.at(-1), 'daemon_unreachable', 'the daemon check is listed last');
  });

  it('keeps the policy result per content hash: a changed policy is checked again at once', () => {
    assert.equal(find(doctor().json, 'policy_invalid')?.ok, false, 'still the invalid policy');
    writeFileSync(policyFile, goodPolicy);
    assert.equal(find(doctor().json, 'policy_valid')?.ok, true, 'the good policy, checked again');
    const kept = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, { key: string }>;
    assert.equal(kept['policy']?.key, createHash('sha256').update(goodPolicy).digest('hex'));
    assert.ok(kept['sandbox']?.key.includes(process.platform), 'the sandbox probe is kept too');
    // The cache is private like the rest of the data directory (doctor checks that as well).
    assert.equal(statSync(cacheFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'cache')).mode & 0o777, 0o700);
    assert.equal(find(doctor().json, 'data_dir_permissions')?.ok, true);
  });

  it('a fixed config or connector directory is seen at once: those results are kept per contents too', () => {
    assert.equal(find(doctor().json, 'config_invalid')?.ok, false, 'still the broken config');
    writeFileSync(join(home, 'config.json'), goodConfig, { mode: 0o600 });
    rmSync(join(home, 'connectors', 'broken.json'));
    const checks = doctor().json;
    assert.equal(find(checks, 'config_valid')?.ok, true);
    assert.equal(find(checks, 'connectors_valid')?.ok, true);
    writeFileSync(join(home, 'connectors', 'broken.json'), '{"kind": "http"}', { mode: 0o600 });
    assert.equal(find(doctor().json, 'connector_invalid')?.ok, false, 'a new bad file, seen at once');
    rmSync(join(home, 'connectors', 'broken.json'));
  });

  it('reuses a kept result while the key is unchanged, and --deep redoes it', () => {
    const kept = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, { key: string; result: unknown }>;
    // A planted result for the current policy shows that a plain run does not compile it again...
    kept['policy'] = { key: kept['policy']!.key, result: { ok: false, errors: ['planted result'] } };
    writeFileSync(cacheFile, JSON.stringify(kept), { mode: 0o600 });
    assert.match(find(doctor().json, 'policy_invalid')?.message ?? '', /planted result/);
    // ...and --deep does, and keeps the real answer.
    assert.equal(find(doctor(['--deep']).json, 'policy_valid')?.ok, true);
    assert.equal(find(doctor().json, 'policy_valid')?.ok, true);
  });

  it('a malformed cache file is ignored and rewritten', () => {
    writeFileSync(cacheFile, 'not json', { mode: 0o600 });
    const checks = doctor().json;
    assert.equal(find(checks, 'policy_valid')?.ok, true);
    assert.ok(
      checks.some((c) => /^(sandbox_|unsupported_platform)/.test(c.code)),
      'the sandbox is checked',
    );
    assert.doesNotThrow(() => JSON.parse(readFileSync(cacheFile, 'utf8')));
  });
});
