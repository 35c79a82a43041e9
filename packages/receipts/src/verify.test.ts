import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { jwkThumbprint, type Ed25519PublicJwk } from '@briefcase/crypto';
import { ReceiptLog, type CheckpointSigner } from './node/index.ts';
import { GENESIS_PREV, recordHash, type Anchor, type Checkpoint, type ReceiptRecord } from './record.ts';
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

type Line = { type: string; checkpoint?: Checkpoint; record?: ReceiptRecord; hash?: string };
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line);
const cps = (lines: string[]) => parse(lines).filter((l) => l.type === 'checkpoint');
const records = (lines: string[]) => parse(lines).filter((l) => l.type === 'record');

/** Rebuild an export from parts, as someone editing the file (or the database) can. */
function rebuild(lines: string[], checkpoints: Line[], recs: Line[]): string[] {
  return [lines[0]!, ...checkpoints.map((c) => JSON.stringify(c)), ...recs.map((r) => JSON.stringify(r))];
}

/** Rewrite record bodies and recompute every hash and link: all anyone without the key can do. */
function rechain(recs: Line[], edit: (r: ReceiptRecord) => void): Line[] {
  let prev = GENESIS_PREV;
  return recs.map((line, i) => {
    const record = { ...line.record!, seq: i + 1, prev };
    edit(record);
    prev = recordHash(record);
    return { type: 'record', hash: prev, record };
  });
}

/** Issue 8 class 7: the log's head must be signed, and checkpoints form one chain. */
describe('receipt log verification: signed head and chained checkpoints', () => {
  it('records after the last checkpoint, or no checkpoint at all, fail and say which seqs are uncovered', async () => {
    const { log, trusted } = await buildLog(4, 4);
    log.append('tool_call', 'agent', { n: 5 });
    log.append('tool_call', 'agent', { n: 6 });
    let r = verifyExport([...log.exportLines()], { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 5]);
    assert.match(r.reason ?? '', /records 5–6 are not covered by a signed checkpoint/);

    const { lines } = await buildLog(3, 100);
    r = verifyExport(lines, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 1]);
    assert.match(r.reason ?? '', /records 1–3 are not covered.*there is none/);
  });

  it('an empty log fails', async () => {
    const { lines, trusted } = await buildLog(0, 1);
    const r = verifyExport(lines, { trustedKeys: trusted });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /the log is empty/);
  });

  it('rewritten records with a recomputed chain and no checkpoints fail', async () => {
    const { lines, trusted } = await buildLog(8, 4);
    const forged = rebuild(
      lines,
      [],
      rechain(records(lines), (r) => (r.body = { tool: 'echo', n: 0 })),
    );
    const r = verifyExport(forged, { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 1]);
    assert.match(r.reason ?? '', /records 1–8 are not covered/);
  });

  it('a deleted, reordered or replaced checkpoint breaks the chain', async () => {
    const { lines, trusted } = await buildLog(12, 3);
    const all = cps(lines);
    const recs = records(lines);
    let r = verifyExport(
      rebuild(
        lines,
        all.filter((_, i) => i !== 1),
        recs,
      ),
      { trustedKeys: trusted },
    );
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /checkpoint #3 \(seq 9\) follows checkpoint #1 \(seq 3\): checkpoint #2 is missing/);

    const swapped = [...all];
    [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
    r = verifyExport(rebuild(lines, swapped, recs), { trustedKeys: trusted });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /follows/);

    // A copy of checkpoint #1 renumbered #2: its signature no longer holds, nor does its link.
    const replaced = [...all];
    replaced[1] = { type: 'checkpoint', checkpoint: { ...all[0]!.checkpoint!, n: 2 } };
    r = verifyExport(rebuild(lines, replaced, recs), { trustedKeys: trusted });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /does not chain to checkpoint #1/);

    // Dropping the last checkpoint leaves its records unsigned.
    r = verifyExport(rebuild(lines, all.slice(0, -1), recs), { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.first_bad_seq], [false, 10]);
  });

  it('a log cut back to an earlier checkpoint verifies alone but not against an earlier export', async () => {
    const { lines, trusted, log } = await buildLog(12, 4);
    const earlier = verifyExport(lines, { trustedKeys: trusted });
    assert.equal(earlier.ok, true);
    // The whole log, consistently cut back to checkpoint #2 (seq 8): nothing in it says so.
    const cut = rebuild(lines, cps(lines).slice(0, 2), records(lines).slice(0, 8));
    assert.equal(verifyExport(cut, { trustedKeys: trusted }).ok, true);
    const r = verifyExport(cut, { trustedKeys: trusted, extends: earlier.head! });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /earlier export's head, checkpoint #3 \(seq 12\), is not in this export.*rolled back/);

    // A genuine later export extends the earlier one, and its export-time checkpoint is chained.
    log.append('tool_call', 'agent', { n: 13 });
    await log.checkpoint({ force: true });
    await log.checkpoint({ force: true }); // the same head signed twice (two exports): fine
    const later = verifyExport([...log.exportLines()], { trustedKeys: trusted, extends: earlier.head! });
    assert.deepEqual([later.ok, later.checkpoints, later.head?.seq], [true, 5, 13]);
  });

  it("the anchor: the log must contain it, and it must carry the anchor's own signature", async () => {
    const signer = testSigner();
    let anchor: Anchor | null = null;
    const log = new ReceiptLog(new DatabaseSync(':memory:'), signer, {
      checkpointEvery: 1e6,
      checkpointSeconds: 0,
      onCheckpoint: (a) => (anchor = a),
    });
    const trustedKeys = new Map([[signer.keyId, signer.publicJwk]]);
    for (let i = 1; i <= 6; i++) {
      log.append('tool_call', 'agent', { n: i });
      if (i % 3 === 0) await log.checkpoint();
    }
    const lines = [...log.exportLines()];
    const latest = anchor!;
    assert.equal(verifyExport(lines, { trustedKeys, anchor: latest }).ok, true);
    // Cut back to checkpoint #1: alone it verifies; against the anchor it does not.
    const cut = rebuild(lines, cps(lines).slice(0, 1), records(lines).slice(0, 3));
    let r = verifyExport(cut, { trustedKeys, anchor: latest });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /the anchor \(receipts.anchor\), checkpoint #2 \(seq 6\), is not in this export/);
    // An anchor made from checkpoint #1 as stored (the attacker's copy): no anchor signature.
    const first = cps(lines)[0]!.checkpoint!;
    r = verifyExport(cut, { trustedKeys, anchor: { checkpoint: first, key_id: first.key_id, sig: first.sig } });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /carries no valid anchor signature/);
  });

  it('recovery receipts that a reader should know about are reported as notices', async () => {
    const { log, trusted } = await buildLog(2, 2);
    log.append('recovery', 'daemon', { event: 'unsigned_tail', note: 'records 1–2 were signed late' });
    await log.checkpoint();
    const r = verifyExport([...log.exportLines()], { trustedKeys: trusted });
    assert.deepEqual([r.ok, r.notices], [true, ['record 3: records 1–2 were signed late']]);
  });
});
