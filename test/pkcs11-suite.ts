import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { webcrypto } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import { Pkcs11Signer } from '@briefcase/keys';
import { createProof, DpopVerifier } from '@briefcase/oauth';
import { browse, startOAuthWorld } from './fixtures/oauth-world.ts';
import {
  cli,
  cliAsync,
  cliJson,
  daemonRequest,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  token,
} from './helpers.ts';

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
    /** `briefcase keys create --backend pkcs11` on this suite's token. */
    const createOnToken = (role: string, extra: string[] = []) =>
      cliJson<{ key_id: string; pin_saved_as?: string }>(home, [
        'keys',
        'create',
        '--role',
        role,
        '--backend',
        'pkcs11',
        '--module',
        module,
        '--token',
        'briefcase',
        ...extra,
      ]);

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
        // Parallel requests sign together; a token session signs one at a time (CKR_OPERATION_ACTIVE).
        const proofs = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            createProof(signer, { htm: 'GET', htu: `https://mcp.example/r${i}`, accessToken: 'at-1' }),
          ),
        );
        for (const [i, p] of proofs.entries()) {
          const r = await verifier.verify({
            method: 'GET',
            url: `https://mcp.example/r${i}`,
            proof: p,
            accessToken: 'at-1',
          });
          assert.equal(r.ok, true);
        }
      } finally {
        signer.close();
      }
    });

    it('becomes the receipts key, survives a daemon restart, and its checkpoints verify offline', async () => {
      const created = createOnToken('receipts');
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

    it('asks for the PIN at a terminal, without echoing it, when neither the environment nor the vault has it', async () => {
      // `script` gives the start a pseudo-terminal, as a person's shell would.
      const bin = join(import.meta.dirname, '..', 'apps/cli/bin/briefcase.js');
      const pin = env.BRIEFCASE_PKCS11_PIN!;
      const p = spawn('script', ['-qefc', `${process.execPath} ${bin} start`, '/dev/null'], {
        env: { ...process.env, BRIEFCASE_HOME: home, BRIEFCASE_PKCS11_PIN: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let asked = false;
      p.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (!asked && out.includes('PIN for PKCS#11 token "briefcase": ')) {
          asked = true;
          p.stdin.write(`${pin}\r`);
        }
      });
      const exited = new Promise((r) => p.once('exit', r));
      try {
        for (let i = 0; i < 200 && !out.includes('briefcased is running'); i++) await sleep(100);
        assert.match(out, /briefcased is running/);
        assert.ok(!out.includes(pin), 'the PIN was echoed');
      } finally {
        p.stdin.write('\u0003');
        await Promise.race([exited, sleep(10_000)]);
        p.kill('SIGKILL');
      }
    });

    it('holds all three roles on the one token; the PIN kept in the vault starts the daemon unattended', async () => {
      const dpop = createOnToken('dpop', ['--save-pin']);
      assert.equal(dpop.code, 0, dpop.stderr);
      assert.equal(dpop.json.pin_saved_as, 'pkcs11.pin.briefcase');
      assert.equal(createOnToken('identity').code, 0);
      for (const f of ['config.json', 'keys/dpop.json', 'keys/identity.json', 'keys/receipts.json']) {
        assert.ok(!readFileSync(join(home, f), 'utf8').includes(env.BRIEFCASE_PKCS11_PIN!), `the PIN is in ${f}`);
      }
      const d = await startDaemon(home, ['--strict', 'identity,receipts,dpop'], { BRIEFCASE_PKCS11_PIN: '' });
      try {
        const status = cliJson<{ device_id: string; keys: { role: string; backend: string; key_id: string }[] }>(home, [
          'status',
        ]).json;
        assert.deepEqual(
          status.keys.map((k) => [k.role, k.backend]),
          [
            ['identity', 'pkcs11'],
            ['receipts', 'pkcs11'],
            ['dpop', 'pkcs11'],
          ],
        );
        assert.equal(status.keys.find((k) => k.role === 'dpop')?.key_id, dpop.json.key_id);
        assert.equal(status.device_id, status.keys[0]!.key_id);
        const rotate = cli(home, ['keys', 'rotate', '--role', 'dpop']);
        assert.notEqual(rotate.code, 0);
        assert.match(rotate.stderr, /lives on a pkcs11 token: stop the daemon and make a new one there/);
      } finally {
        await d.stop();
      }
      // The token-held identity key vouches for the receipts keys, software and token alike.
      const out = join(home, '..', 'device-export.jsonl');
      assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
      const deviceId = cliJson<{ device_id: string }>(home, ['keys', 'list']).json.device_id;
      const verified = cliJson<{ ok: boolean; key_source: string }>(home, [
        'receipts',
        'verify',
        out,
        '--device',
        deviceId,
      ]);
      assert.equal(verified.code, 0, JSON.stringify(verified.json));
      assert.equal(verified.json.key_source, 'device');
    });

    it('logs in to an OAuth-protected MCP server with DPoP proofs signed by the token key', async () => {
      const world = await startOAuthWorld();
      const d = await startDaemon(home, [], { BRIEFCASE_PKCS11_PIN: '' });
      const agent = await stdioClient(home);
      try {
        const added = await cliAsync(home, ['remote', 'add', 'secure', '--url', world.resource]);
        assert.equal(added.code, 0, added.stderr);
        const login = await cliAsync(home, ['remote', 'login', 'secure', '--no-wait', '--json']);
        assert.equal(login.code, 0, login.stderr);
        await browse((JSON.parse(login.stdout) as { authorization_url: string }).authorization_url);
        for (let i = 0; i < 100 && (await remoteState(home, 'secure'))?.status !== 'connected'; i++) await sleep(100);
        const r = await agent.callTool({ name: 'secure.whoami', arguments: {} });
        assert.equal(r.isError, undefined, JSON.stringify(r));
        const who = JSON.parse((r.content as { text: string }[])[0]!.text) as { sub: string; jkt: string };
        const dpopKey = cliJson<{ keys: { role: string; key_id: string; retired_at: string | null }[] }>(home, [
          'keys',
          'list',
        ]).json.keys.find((k) => k.role === 'dpop' && k.retired_at === null)!;
        assert.deepEqual([who.sub, who.jkt], ['alice', dpopKey.key_id], 'the token is bound to the token-held key');
      } finally {
        await agent.close();
        await d.stop();
        await world.close();
      }
    });
  });
}
