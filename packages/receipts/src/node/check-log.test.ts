import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { jwkThumbprint, type Ed25519PublicJwk } from '@briefcase/crypto';
import { GENESIS_PREV, recordHash, type Anchor, type ReceiptRecord } from '../record.ts';
import { checkLog } from './check-log.ts';
import { ReceiptLog, type CheckpointSigner } from './receipt-log.ts';

function testSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = (createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }).x;
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  return { publicJwk, keyId: jwkThumbprint(publicJwk), sign: async (m) => new Uint8Array(sign(null, m, privateKey)) };
}

async function setup(records: number) {
  const db = new DatabaseSync(':memory:');
  const signer = testSigner();
  let latest: Anchor | null = null;
  const log = new ReceiptLog(db, signer, {
    checkpointEvery: 1e6,
    checkpointSeconds: 0,
    onCheckpoint: (a) => (latest = a),
  });
  for (let i = 1; i <= records; i++) {
    log.append('tool_call', 'agent', { n: i });
    if (i % 3 === 0) await log.checkpoint();
  }
  await log.checkpoint();
  const check = (anchor: Anchor | null = latest) =>
    checkLog(db, { ok: true, anchor }, (id) => (id === signer.keyId ? signer.publicJwk : undefined));
  return { db, log, check };
}

/** What the daemon checks at start-up against its anchor (issue 8 class 7). */
describe('checkLog: the log extends the anchor', () => {
  it('an empty database with no anchor is fresh; an untouched log passes', async () => {
    const fresh = await setup(0);
    assert.deepEqual(fresh.check(null), { problems: [], head: null, lastCheckpoint: null, unsignedTail: null });
    const { check } = await setup(7);
    assert.deepEqual(check().problems, []);
  });

  it("a crash's unsigned tail is reported as such; records after a clean stop are a problem", async () => {
    const { log, check } = await setup(4);
    log.append('tool_call', 'agent', { n: 5 });
    log.append('tool_call', 'agent', { n: 6 });
    assert.deepEqual([check().problems, check().unsignedTail], [[], { from: 5, to: 6 }]);
    log.append('daemon', 'daemon', { event: 'stopped' });
    await log.checkpoint();
    log.append('tool_call', 'agent', { forged: true });
    assert.match(check().problems.join(), /record 8 added after the daemon stopped cleanly at seq 7/);
  });

  it('a missing anchor, a truncated log, deleted checkpoints and a rewritten chain are problems', async () => {
    let s = await setup(9);
    assert.match(s.check(null).problems.join(), /receipts.anchor is missing, but the log holds 9 records/);

    s.db.exec('DELETE FROM receipts WHERE seq > 6; DELETE FROM checkpoints WHERE seq > 6');
    assert.match(s.check().problems.join(), /the database lacks checkpoint #\d+ \(seq 9\)/);
    // An anchor made from the database's own (now last) checkpoint: it has no anchor signature.
    s.log.resync();
    const last = s.log.lastCheckpoint!;
    assert.equal(last.seq, 6);
    assert.match(
      s.check({ checkpoint: last, key_id: last.key_id, sig: last.sig }).problems.join(),
      /is not an anchor signed by a receipts key/,
    );

    s = await setup(9);
    s.db.exec('DELETE FROM checkpoints WHERE n = 2');
    assert.match(s.check().problems.join(), /checkpoint #2 is missing/);

    s = await setup(9);
    const rows = s.db.prepare('SELECT record FROM receipts ORDER BY seq').all() as { record: string }[];
    let prev = GENESIS_PREV;
    s.db.exec('DELETE FROM receipts; DELETE FROM checkpoints');
    for (const { record } of rows) {
      const r = { ...(JSON.parse(record) as ReceiptRecord), prev, body: { n: 0 } };
      prev = recordHash(r);
      s.db.prepare('INSERT INTO receipts VALUES (?, ?, ?)').run(r.seq, prev, JSON.stringify(r));
    }
    assert.match(s.check().problems.join(), /the database lacks checkpoint/);
  });
});
