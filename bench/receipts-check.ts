/**
 * What the daemon's start-up check of the receipt log costs on a big log (issue 8 class 7), next
 * to a full offline verification of the same log. A program, not a test: it prints JSON.
 *   node bench/receipts-check.ts [records=100000] [checkpoint_every=100]
 */
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { jwkThumbprint, type Ed25519PublicJwk } from '@briefcase/crypto';
import { verifyExport, type Anchor } from '@briefcase/receipts';
import { ReceiptLog, checkLog, readLogExport } from '@briefcase/receipts/node';
import { round } from './lib.ts';

const records = Number(process.argv[2] ?? 100_000);
const every = Number(process.argv[3] ?? 100);
const { privateKey } = generateKeyPairSync('ed25519');
const x = (createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }).x;
const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
const keyId = jwkThumbprint(publicJwk);
const signer = { publicJwk, keyId, sign: async (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)) };

const dir = mkdtempSync(join(tmpdir(), 'bc-bench-'));
try {
  const path = join(dir, 'briefcase.db');
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  let anchor: Anchor | null = null;
  const log = new ReceiptLog(db, signer, {
    checkpointEvery: 1e9,
    checkpointSeconds: 0,
    onCheckpoint: (a) => (anchor = a),
  });
  db.exec('BEGIN');
  for (let i = 1; i <= records; i++) {
    log.append('tool_call', 'agent', {
      tool: 'echo',
      outcome: 'ok',
      call_hash: 'a'.repeat(64),
      args: { text: `${i}` },
    });
    if (i % every === 0) {
      db.exec('COMMIT');
      await log.checkpoint();
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
  await log.checkpoint({ force: true });
  const keyFor = (id: string) => (id === keyId ? publicJwk : undefined);
  const runs: { startup_check_ms: number; full_verify_ms: number }[] = [];
  for (let r = 0; r < 3; r++) {
    let t = performance.now();
    const check = checkLog(db, { ok: true, anchor }, keyFor);
    const startup = performance.now() - t;
    if (check.problems.length) throw new Error(check.problems.join('; '));
    t = performance.now();
    const v = verifyExport(readLogExport(path, [{ key_id: keyId, jwk: publicJwk }]), {
      trustedKeys: new Map([[keyId, publicJwk]]),
    });
    if (!v.ok) throw new Error(String(v.reason));
    runs.push({ startup_check_ms: round(startup), full_verify_ms: round(performance.now() - t) });
  }
  db.close();
  console.log(JSON.stringify({ bench: 'receipts-check', records, checkpoints: log.lastCheckpoint?.n, runs }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
