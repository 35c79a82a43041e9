import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { jwkThumbprint, type Ed25519PublicJwk } from '@briefcase/crypto';
import { ReceiptLog, type CheckpointSigner } from './node/index.ts';
import { verifyExport } from './verify.ts';

function testSigner(): CheckpointSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = (createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }).x;
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  return { publicJwk, keyId: jwkThumbprint(publicJwk), sign: async (m) => new Uint8Array(sign(null, m, privateKey)) };
}

async function buildLog(records: number, checkpointEvery: number) {
  const db = new DatabaseSync(':memory:');
  const signer = testSigner();
  const log = new ReceiptLog(db, signer, { checkpointEvery: 1_000_000, checkpointSeconds: 0 });
  for (let i = 1; i <= records; i++) {
    log.append('tool_call', 'agent', { tool: 'echo', n: i, args: { text: `call ${i} ✓` } });
    if (i % checkpointEvery === 0) await log.checkpoint();
  }
  const trusted = new Map([[signer.keyId, signer.publicJwk]]);
  return { lines: [...log.exportLines()], trusted, log };
}

/** AC-1.3: tamper evidence of the receipt log, checked offline. */
describe('receipt log verification (AC-1.3)', () => {
  it('an untouched log verifies', async () => {
    const { lines, trusted } = await buildLog(12, 4);
    const r = verifyExport(lines, { trustedKeys: trusted });
    assert.deepEqual(
      { ok: r.ok, count: r.count, first_bad_seq: r.first_bad_seq, checkpoints: r.checkpoints },
      { ok: true, count: 12, first_bad_seq: null, checkpoints: 3 },
    );
  });

  it('any single changed byte fails, naming the record it is in', async () => {
    const { lines, trusted } = await buildLog(5, 5);
    const text = `${lines.join('\n')}\n`;
    const bytes = Buffer.from(text, 'utf8');
    // Which record seq each byte belongs to (0: header and checkpoint lines).
    const owner: number[] = [];
    let lineIndex = 0;
    for (const b of bytes) {
      const line = lines[lineIndex] ?? '';
      owner.push(
        line.startsWith('{"type":"record"') ? (JSON.parse(line) as { record: { seq: number } }).record.seq : 0,
      );
      if (b === 0x0a) lineIndex++;
    }
    let checked = 0;
    for (let i = 0; i < bytes.length - 1; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      const r = verifyExport(copy.toString('utf8').split('\n'), { trustedKeys: trusted });
      assert.equal(r.ok, false, `flipping byte ${i} went unnoticed`);
      if (owner[i]! > 0) assert.equal(r.first_bad_seq, owner[i], `byte ${i}: ${r.reason}`);
      checked++;
    }
    assert.ok(checked > 1000);
  });

  it('a removed record, a reordered pair, and a truncated tail are caught', async () => {
    const { lines, trusted } = await buildLog(10, 5);
    const firstRecord = lines.findIndex((l) => l.startsWith('{"type":"record"'));
    const at = (seq: number) => firstRecord + seq - 1;

    const removed = lines.filter((_, i) => i !== at(4));
    let r = verifyExport(removed, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 4]);

    const swapped = [...lines];
    [swapped[at(6)], swapped[at(7)]] = [swapped[at(7)]!, swapped[at(6)]!];
    r = verifyExport(swapped, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 6]);

    const truncated = lines.slice(0, at(8)); // records 1..7 remain; a checkpoint covers 10
    r = verifyExport(truncated, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 8]);
    assert.match(r.reason ?? '', /truncated/);
  });

  it('a checkpoint signed by an unknown key fails with a clear reason', async () => {
    const { lines } = await buildLog(4, 2);
    const other = testSigner();
    const r = verifyExport(lines, { trustedKeys: new Map([[other.keyId, other.publicJwk]]) });
    assert.equal(r.ok, false);
    assert.equal(r.first_bad_seq, 2);
    assert.match(r.reason ?? '', /unknown key/);
  });

  it('a rewritten record with recomputed hashes is still caught by the signed checkpoint', async () => {
    const { lines, trusted } = await buildLog(4, 4);
    const { recordHash } = await import('./record.ts');
    // The attacker edits record 4 and fixes its hash, but cannot re-sign the checkpoint.
    const i = lines.findIndex((l) => l.startsWith('{"type":"record"') && l.includes('"seq":4'));
    const line = JSON.parse(lines[i]!) as { record: Parameters<typeof recordHash>[0]; hash: string };
    line.record.body = { tool: 'echo', n: 4, args: { text: 'forged' } };
    line.hash = recordHash(line.record);
    const forged = [...lines];
    forged[i] = JSON.stringify({ type: 'record', hash: line.hash, record: line.record });
    const r = verifyExport(forged, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 4]);
  });
});
