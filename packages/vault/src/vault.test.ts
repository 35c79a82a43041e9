import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createMasterKey, loadMasterKey, Scrubber, Secret, Vault } from './index.ts';

describe('Secret', () => {
  it('refuses to print or serialise itself', () => {
    const s = new Secret('hunter2-very-secret');
    for (const rendered of [String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ nested: { s } }), s + '']) {
      assert.ok(!rendered.includes('hunter2'), rendered);
    }
    assert.equal(s.expose(), 'hunter2-very-secret');
  });
});

describe('Vault', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'bc-vault-'));

  it('stores secrets sealed, by name; a ciphertext moved to another name does not open', async () => {
    const d = dir();
    try {
      const { key } = await createMasterKey(d, { choice: 'file' });
      const v = Vault.open(d, key);
      v.set('github', new Secret('ghp_canary_value_123'));
      v.set('other', new Secret('something else'));
      const file = readFileSync(join(d, 'vault.json'), 'utf8');
      assert.ok(!file.includes('ghp_canary_value_123'));
      assert.equal(Vault.open(d, key).get('github')?.expose(), 'ghp_canary_value_123');
      const swapped = JSON.parse(file);
      swapped.secrets.other.sealed = swapped.secrets.github.sealed;
      writeFileSync(join(d, 'vault.json'), JSON.stringify(swapped));
      assert.throws(() => Vault.open(d, key), /does not open/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("records each secret's strength; a weak one or a token PIN is never given to a tool", async () => {
    const d = dir();
    try {
      const { key } = await createMasterKey(d, { choice: 'file' });
      const v = Vault.open(d, key);
      v.set('pin', new Secret('482913'));
      v.set('pkcs11.pin.token', new Secret('Zx9Qr7Lm2Kp8Wv3Tn6Yb4Hc'));
      v.set('payments.lnd.pay', new Secret('0201036c6e6402f801030a10a1b2c3d4e5f60718293a4b5c6d7e8f'));
      const api = v.set('api', new Secret('ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA'));
      assert.equal(api.weak, false);
      assert.equal(api.injectable, true);
      assert.equal(v.forTool('api', 'demo.tool')?.expose(), 'ghp_xY3kP9qR2mN7vB4tL8wZ1cD6fG5hJ0sA');
      assert.throws(() => v.forTool('pin', 'demo.tool'), /too guessable/);
      assert.throws(() => v.forTool('pkcs11.pin.token', 'demo.tool'), /token PIN/);
      // A strong payment credential is still the daemon's own (issue 12: the LND macaroon).
      assert.throws(() => v.forTool('payments.lnd.pay', 'demo.tool'), /a payment credential.*never gives it to a tool/);
      assert.equal(v.forTool('missing', 'demo.tool'), undefined);
      // A vault written before strengths were recorded gets them when it opens.
      const file = JSON.parse(readFileSync(join(d, 'vault.json'), 'utf8'));
      for (const stored of Object.values(file.secrets)) delete (stored as { strength_bits?: number }).strength_bits;
      writeFileSync(join(d, 'vault.json'), JSON.stringify(file));
      const reopened = Vault.open(d, key);
      assert.deepEqual(
        reopened.list().map((i) => [i.name, i.weak, i.injectable]),
        [
          ['api', false, true],
          ['payments.lnd.pay', false, false],
          ['pin', true, false],
          ['pkcs11.pin.token', false, false],
        ],
      );
      assert.throws(() => reopened.forTool('pin', 'demo.tool'), /too guessable/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('a wrong master key does not open the vault', async () => {
    const d = dir();
    try {
      const { key } = await createMasterKey(d, { passphrase: 'a long passphrase', choice: 'passphrase' });
      Vault.open(d, key).set('x', new Secret('value-1'));
      await assert.rejects(loadMasterKey(d, { passphrase: 'another passphrase' }), /wrong passphrase/);
      await assert.rejects(loadMasterKey(d), /protected by a passphrase/);
      const reopened = await loadMasterKey(d, { passphrase: 'a long passphrase' });
      assert.equal(Vault.open(d, reopened.key).get('x')?.expose(), 'value-1');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('Scrubber', () => {
  it('removes a secret and its common encodings, at every base64 alignment', () => {
    const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const s = new Scrubber([secret]);
    const b = Buffer.from(secret);
    const forms = [
      secret,
      b.toString('base64'),
      b.toString('base64url'),
      Buffer.from(`u:${secret}`).toString('base64'),
      Buffer.from(`us:${secret}`).toString('base64'),
      encodeURIComponent(secret),
      b.toString('hex'),
    ];
    for (const f of forms) {
      const out = s.scrub(`before ${f} after`);
      assert.ok(!out.includes(secret) && !out.includes(b.toString('base64').slice(2, -2)), `${f} → ${out}`);
      assert.match(out, /\[redacted\]/);
    }
    assert.equal(s.scrub('nothing to see'), 'nothing to see');
  });
});
