import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { webcrypto } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import { Pkcs11Signer } from '@briefcase/keys';
import { createProof, DpopVerifier } from '@briefcase/oauth';
import { cli, cliJson, daemonRequest, startDaemon, tempHome, token } from './helpers.ts';

import type { TokenSetup } from './fixtures/tokens.ts';

/**
 * The key-custody checks every PKCS#11 backend must pass (key-custody issue AC 1 and 2, AC-3.1):
 * a P-256 key made on the token signs what WebCrypto verifies, the token refuses to reveal its
 * private value, the key survives a daemon restart, and checkpoints it signs verify offline.
 * `setup` prepares a token labelled "briefcase" with PIN env.BRIEFCASE_PKCS11_PIN.
 */
export function describePkcs11Token(
  title: string,
  module: string,
  skip: string | false,
  setup: (home: string) => Promise<TokenSetup>,
): void {
  describe(title, { skip }, () => {
    const { home, cleanup } = tempHome();
    let token_: TokenSetup;
    let env: Record<string, string>;

    before(async () => {
      token_ = await setup(home);
      env = token_.env;
      Object.assign(process.env, env);
      assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    });
    after(async () => {
      await token_?.teardown();
      cleanup();
    });

    it('makes a non-exportable P-256 key whose signatures WebCrypto verifies, and whose private value the token will not give', async () => {
      const location = { module, token_label: 'briefcase', key_label: 'probe' };
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
      const mod = graphene.Module.load(module, 'probe');
      mod.initialize();
      try {
        const slots = mod.getSlots(true);
        let slot: graphene.Slot | undefined;
        for (let i = 0; i < slots.length; i++)
          if (slots.items(i).getToken().label.trim() === 'briefcase') slot = slots.items(i);
        const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION);
        session.login(env.BRIEFCASE_PKCS11_PIN!);
        const priv = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: 'probe' }).items(0);
        // SoftHSM answers CKR_ATTRIBUTE_SENSITIVE; tpm2-pkcs11 has no such attribute to give.
        assert.throws(() => priv.getAttribute({ value: null }), /CKR_ATTRIBUTE_SENSITIVE|CKR_ATTRIBUTE_TYPE_INVALID/);
        session.logout();
        session.close();
      } finally {
        mod.finalize();
      }
    });

    it('signs DPoP proofs that a real verifier (jose) accepts, and a replayed proof is refused (AC-3.3)', async () => {
      const signer = Pkcs11Signer.open(
        'dpop',
        { module, token_label: 'briefcase', key_label: 'probe' },
        env.BRIEFCASE_PKCS11_PIN,
      );
      try {
        const verifier = new DpopVerifier();
        const proof = await createProof(signer, { htm: 'POST', htu: 'https://mcp.example/mcp', accessToken: 'at-1' });
        const request = { method: 'POST', url: 'https://mcp.example/mcp', proof, accessToken: 'at-1' };
        const first = await verifier.verify(request);
        assert.deepEqual(first, { ok: true, jkt: signer.keyId });
        assert.deepEqual(await verifier.verify(request), { ok: false, error: 'replayed_proof' });
      } finally {
        signer.close();
      }
    });

    it('becomes the receipts key, survives a daemon restart, and its checkpoints verify offline', async () => {
      const created = cliJson<{ key_id: string }>(home, [
        'keys',
        'create',
        '--role',
        'receipts',
        '--backend',
        'pkcs11',
        '--module',
        module,
        '--token',
        'briefcase',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const listed = cliJson<{
        keys: { role: string; backend: string; non_exportable: boolean; key_id: string; retired_at: string | null }[];
      }>(home, ['keys', 'list']).json.keys;
      const current = listed.find((k) => k.role === 'receipts' && k.retired_at === null)!;
      assert.deepEqual(
        [current.backend, current.non_exportable, current.key_id],
        ['pkcs11', true, created.json.key_id],
      );
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
      const out = join(home, '..', 'token-export.jsonl');
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

    it('strict mode: a software key refuses the start, the token key passes', async () => {
      const strict = spawnSync(
        process.execPath,
        [join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js'), 'start', '--strict', 'receipts,dpop'],
        {
          env: { ...process.env, BRIEFCASE_HOME: home },
          encoding: 'utf8',
        },
      );
      assert.notEqual(strict.status, 0);
      assert.match(strict.stderr, /strict mode: the dpop key is a software key/);
      const d = await startDaemon(home, ['--strict', 'receipts']);
      await d.stop();
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
}
