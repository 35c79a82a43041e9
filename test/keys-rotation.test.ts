import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, cliJson, daemonRequest, receiptRecords, startDaemon, tempHome, token } from './helpers.ts';

interface Verify {
  ok: boolean;
  count: number;
  first_bad_seq: number | null;
  reason: string | null;
  checkpoints: number;
}
interface Key {
  role: string;
  key_id: string;
  retired_at: string | null;
  algorithm: string;
  backend: string;
  non_exportable: boolean;
}

/** Key-custody issue AC 5: records signed before and after a rotation (EdDSA → ES256) all verify. */
describe('receipt key rotation', () => {
  const { home, cleanup } = tempHome();
  let oldKey = '';
  let newKey = '';

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    const d = await startDaemon(home);
    const call = (text: string) =>
      daemonRequest(
        home,
        'POST',
        '/v1/agent/tools/call',
        token(home, 'agent'),
        JSON.stringify({ tool: 'echo', args: { text } }),
      );
    for (let i = 0; i < 5; i++) await call(`before ${i}`);
    // Ed25519 before, software P-256 after: one log, checkpoints in both algorithms.
    const rotated = cliJson<{ old_key_id: string; key_id: string; algorithm: string }>(home, [
      'keys',
      'rotate',
      '--role',
      'receipts',
      '--algorithm',
      'ES256',
    ]);
    assert.equal(rotated.json.algorithm, 'ES256');
    assert.equal(rotated.code, 0, rotated.stderr);
    oldKey = rotated.json.old_key_id;
    newKey = rotated.json.key_id;
    for (let i = 0; i < 5; i++) await call(`after ${i}`);
    await d.stop();
  });
  after(cleanup);

  it('lists the current key and the retired one, with their backend', () => {
    const { keys } = cliJson<{ keys: Key[] }>(home, ['keys', 'list']).json;
    const receipts = keys.filter((k) => k.role === 'receipts');
    assert.deepEqual(
      receipts.map((k) => [k.key_id, k.retired_at === null]),
      [
        [newKey, true],
        [oldKey, false],
      ],
    );
    assert.ok(receipts.every((k) => k.backend === 'software' && k.non_exportable === false));
    assert.deepEqual(
      receipts.map((k) => k.algorithm),
      ['ES256', 'EdDSA'],
    );
    assert.deepEqual(
      keys.filter((k) => k.retired_at === null).map((k) => [k.role, k.algorithm]),
      [
        ['identity', 'EdDSA'],
        ['receipts', 'ES256'],
        ['dpop', 'ES256'],
      ],
    );
  });

  it('verifies records and checkpoints signed before and after the rotation', () => {
    const live = cliJson<Verify>(home, ['receipts', 'verify']);
    assert.equal(live.code, 0, JSON.stringify(live.json));
    assert.ok(live.json.checkpoints >= 2);
    const out = join(home, '..', 'rotated.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    const lines = readFileSync(out, 'utf8').split('\n');
    const signers = new Set(
      lines.filter((l) => l.startsWith('{"type":"checkpoint"')).map((l) => JSON.parse(l).checkpoint.key_id as string),
    );
    assert.deepEqual([...signers].sort(), [newKey, oldKey].sort());
    assert.equal(cliJson<Verify>(home, ['receipts', 'verify', out]).json.ok, true);
    const rotation = receiptRecords(home).find((r) => r.kind === 'signer');
    assert.deepEqual(rotation?.body, {
      event: 'rotated',
      role: 'receipts',
      old_key_id: oldKey,
      new_key_id: newKey,
      algorithm: 'ES256',
    });
  });

  it('verifies against the device ID alone: the identity key vouches for both keys and their intervals', () => {
    const out = join(home, '..', 'rotated.jsonl');
    const deviceId = cliJson<{ device_id: string }>(home, ['keys', 'list']).json.device_id;
    const r = cliJson<Verify & { key_source: string }>(home, ['receipts', 'verify', out, '--device', deviceId]);
    assert.equal(r.code, 0, JSON.stringify(r.json));
    assert.equal(r.json.key_source, 'device');
    assert.ok(r.json.checkpoints >= 2);
    const wrong = cliJson<Verify>(home, ['receipts', 'verify', out, '--device', newKey]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.json.reason ?? '', new RegExp(`signed by device ${deviceId}, not ${newKey}`));
  });

  it('rotations asked for at once leave the log, the daemon and the key file agreeing', async () => {
    const d = await startDaemon(home);
    try {
      // Straight to the daemon's API: the requests arrive within a millisecond of each other.
      const results = await Promise.all(
        ['receipts', 'identity', 'receipts'].map((role) =>
          daemonRequest(home, 'POST', '/v1/admin/keys/rotate', token(home, 'admin'), JSON.stringify({ role })),
        ),
      );
      for (const r of results) assert.equal(r.status, 200, r.body);
      const [a, , b] = results.map((r) => JSON.parse(r.body) as { old_key_id: string; key_id: string });
      assert.ok(a!.key_id === b!.old_key_id || b!.key_id === a!.old_key_id, 'one rotation followed the other');
      const status = cliJson<{ receipts: { key_id: string } }>(home, ['status']).json;
      const current = cliJson<{ keys: Key[] }>(home, ['keys', 'list']).json.keys.find(
        (k) => k.role === 'receipts' && k.retired_at === null,
      );
      assert.equal(status.receipts.key_id, current?.key_id);
    } finally {
      await d.stop();
    }
    const out = join(home, '..', 'rotated-again.jsonl');
    assert.equal(cli(home, ['receipts', 'export', '--out', out]).code, 0);
    const deviceId = cliJson<{ device_id: string }>(home, ['keys', 'list']).json.device_id;
    const r = cliJson<Verify>(home, ['receipts', 'verify', out, '--device', deviceId]);
    assert.equal(r.code, 0, JSON.stringify(r.json));
  });

  it('a checkpoint signed by a key the verifier does not know fails with a clear reason', () => {
    const out = join(home, '..', 'rotated.jsonl');
    const header = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!) as {
      public_keys: { key_id: string; jwk: unknown }[];
    };
    const onlyNew = header.public_keys.find((k) => k.key_id === newKey)!;
    const keyFile = join(home, '..', 'new-key.json');
    writeFileSync(keyFile, JSON.stringify(onlyNew));
    const r = cliJson<Verify>(home, ['receipts', 'verify', out, '--public-key', keyFile]);
    assert.equal(r.code, 1);
    assert.match(r.json.reason ?? '', new RegExp(`unknown key \\(${oldKey}\\)`));
  });
});
