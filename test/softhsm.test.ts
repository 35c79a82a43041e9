import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { webcrypto } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import { Pkcs11Signer } from '@briefcase/keys';
import { cli, cliJson, daemonRequest, startDaemon, tempHome, token } from './helpers.ts';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const missing = !existsSync(MODULE) || spawnSync('softhsm2-util', ['--version']).status !== 0;
const skip = missing ? `needs the Debian package softhsm2 (${MODULE} and softhsm2-util); .ci/run installs it` : false;

/** Key-custody issue AC 1 (AC-3.1) on SoftHSM, a real PKCS#11 token. */
describe('PKCS#11 receipts key on SoftHSM', { skip }, () => {
  const { home, cleanup } = tempHome();
  const tokens = join(home, '..', 'softhsm-tokens');
  const env = { SOFTHSM2_CONF: join(home, '..', 'softhsm2.conf'), BRIEFCASE_PKCS11_PIN: '4711-briefcase' };

  before(() => {
    mkdirSync(tokens, { recursive: true });
    writeFileSync(
      env.SOFTHSM2_CONF,
      `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    Object.assign(process.env, env);
    const init = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'briefcase', '--pin', env.BRIEFCASE_PKCS11_PIN, '--so-pin', '12345678'],
      {
        env: process.env,
        encoding: 'utf8',
      },
    );
    assert.equal(init.status, 0, init.stderr);
    assert.equal(cli(home, ['init']).code, 0);
  });
  after(cleanup);

  it('creates a non-exportable P-256 key whose signatures WebCrypto verifies, and whose private value the token will not give', async () => {
    const location = { module: MODULE, token_label: 'briefcase', key_label: 'probe' };
    const signer = Pkcs11Signer.open('receipts', location, env.BRIEFCASE_PKCS11_PIN, true);
    try {
      const message = new TextEncoder().encode('checkpoint bytes');
      const signature = await signer.sign(message);
      assert.equal(signature.length, 64);
      const key = await webcrypto.subtle.importKey(
        'jwk',
        { ...signer.publicJwk, ext: true },
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      );
      assert.equal(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, message), true);
      assert.equal(
        await webcrypto.subtle.verify(
          { name: 'ECDSA', hash: 'SHA-256' },
          key,
          signature,
          new TextEncoder().encode('x'),
        ),
        false,
      );
      assert.equal(signer.nonExportable, true);
    } finally {
      signer.close();
    }
    const mod = graphene.Module.load(MODULE, 'probe');
    mod.initialize();
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++)
        if (slots.items(i).getToken().label.trim() === 'briefcase') slot = slots.items(i);
      const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION);
      session.login(env.BRIEFCASE_PKCS11_PIN);
      const priv = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: 'probe' }).items(0);
      assert.throws(() => priv.getAttribute({ value: null }), /CKR_ATTRIBUTE_SENSITIVE/);
      assert.equal(priv.getAttribute({ extractable: null }).extractable, false);
      session.logout();
      session.close();
    } finally {
      mod.finalize();
    }
  });

  it('becomes the receipts key, survives a daemon restart, and its checkpoints verify offline', async () => {
    const created = cliJson<{ key_id: string; backend: string }>(home, [
      'keys',
      'create',
      '--role',
      'receipts',
      '--backend',
      'pkcs11',
      '--module',
      MODULE,
      '--token',
      'briefcase',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const listed = cliJson<{
      keys: { role: string; backend: string; non_exportable: boolean; key_id: string; retired_at: string | null }[];
    }>(home, ['keys', 'list']).json.keys;
    const current = listed.find((k) => k.role === 'receipts' && k.retired_at === null)!;
    assert.deepEqual([current.backend, current.non_exportable, current.key_id], ['pkcs11', true, created.json.key_id]);
    assert.ok(!readFileSync(join(home, 'keys', 'receipts.json'), 'utf8').includes('sealed_private'));

    for (let run = 0; run < 2; run++) {
      const d = await startDaemon(home);
      const r = await daemonRequest(
        home,
        'POST',
        '/v1/agent/tools/call',
        token(home, 'agent'),
        JSON.stringify({ tool: 'echo', args: { text: `run ${run}` } }),
      );
      assert.equal(JSON.parse(r.body).ok, true);
      await d.stop();
    }
    const out = join(home, '..', 'hsm-export.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    const signers = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"type":"checkpoint"'))
      .map((l) => JSON.parse(l).checkpoint.key_id as string);
    assert.ok(
      signers.filter((k) => k === created.json.key_id).length >= 2,
      'checkpoints from both runs are by the token key',
    );
    const verified = cliJson<{ ok: boolean }>(home, ['receipts', 'verify', out]);
    assert.equal(verified.code, 0, JSON.stringify(verified.json));
  });

  it('without the PIN the daemon refuses to start, saying what it needs', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js'), 'start'], {
      env: { ...process.env, BRIEFCASE_HOME: home, BRIEFCASE_PKCS11_PIN: '' },
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /BRIEFCASE_PKCS11_PIN/);
  });
});
