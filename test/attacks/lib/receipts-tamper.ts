import { spawn } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GENESIS_PREV, recordHash, type ReceiptRecord } from '@briefcase/receipts';
import {
  BIN,
  cli,
  cliJson,
  daemonRequest,
  healthy,
  readJson,
  startDaemon,
  tempHome,
  token,
  writeJson,
} from '../../helpers.ts';

/**
 * The data-directory attacker of issue 8 class 7: write access to the Briefcase's files, but no
 * receipts or identity private key (they are on a token, or sealed under a master key in the
 * keychain). Everything here is what such a person can do to `briefcase.db` and `receipts.anchor`.
 */

export interface Verify {
  ok: boolean;
  count: number;
  first_bad_seq: number | null;
  reason: string | null;
}

export interface Pristine {
  home: string;
  /** An export made by the daemon before any attack, kept outside the data directory. */
  earlierExport: string;
  /** The receipts public key ({key_id, jwk}), kept outside the data directory. */
  publicKeyFile: string;
  deviceId: string;
  cleanup: () => void;
}

/** Echo calls through the daemon API (each appends one receipt). */
export async function calls(home: string, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await daemonRequest(
      home,
      'POST',
      '/v1/agent/tools/call',
      token(home, 'agent'),
      JSON.stringify({ tool: 'echo', args: { text: `${tag} ${i}` } }),
    );
    if (r.status !== 200) throw new Error(`echo failed: ${r.status} ${r.body}`);
  }
}

/**
 * A data directory with a log of several checkpoints (every 4 records), left by a clean stop.
 * The master key is a file so that copies of the directory work anywhere.
 */
export async function pristine(): Promise<Pristine> {
  const { home, cleanup } = tempHome();
  const init = cli(home, ['init', '--master-key', 'file']);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const config = readJson(join(home, 'config.json'));
  writeJson(join(home, 'config.json'), { ...config, receipts: { checkpoint_every: 4, checkpoint_seconds: 3600 } });
  const d = await startDaemon(home);
  await calls(home, 14, 'before');
  const earlierExport = join(home, '..', 'earlier.jsonl');
  const exported = cli(home, ['receipts', 'export', '--out', earlierExport]);
  if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
  await calls(home, 2, 'after-export');
  await d.stop();
  const header = JSON.parse(readFileSync(earlierExport, 'utf8').split('\n')[0]!) as {
    public_keys: { key_id: string; jwk: unknown }[];
  };
  const publicKeyFile = join(home, '..', 'receipts-key.json');
  writeFileSync(publicKeyFile, JSON.stringify(header.public_keys[0]));
  const deviceId = cliJson<{ device_id: string }>(home, ['keys', 'list']).json.device_id;
  return { home, earlierExport, publicKeyFile, deviceId, cleanup };
}

/** A copy of the pristine data directory for one attack. */
export function copyOf(p: Pristine): { home: string; cleanup: () => void } {
  const copy = tempHome();
  cpSync(p.home, copy.home, { recursive: true });
  chmodSync(copy.home, 0o700);
  return copy;
}

/** `briefcase start`: did it come up? (Stopped again at once if it did.) */
export async function tryStart(home: string, args: string[] = []): Promise<{ started: boolean; output: string }> {
  const proc = spawn(process.execPath, [BIN, 'start', ...args], {
    env: { ...process.env, BRIEFCASE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (c) => (output += c));
  proc.stderr.on('data', (c) => (output += c));
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) return { started: false, output };
    if (await healthy(home)) {
      proc.kill('SIGTERM');
      await exited;
      return { started: true, output };
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`briefcase start neither came up nor exited:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function withDb<T>(home: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(join(home, 'briefcase.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function readRecords(db: DatabaseSync): ReceiptRecord[] {
  return (db.prepare('SELECT record FROM receipts ORDER BY seq').all() as { record: string }[]).map(
    (r) => JSON.parse(r.record) as ReceiptRecord,
  );
}

/**
 * Replace the log with `records`, renumbered from 1 and re-chained with recomputed hashes: a log
 * that is consistent in itself, as anyone can make without a key.
 */
export function writeRechained(db: DatabaseSync, records: ReceiptRecord[]): void {
  const insert = db.prepare('INSERT INTO receipts (seq, hash, record) VALUES (?, ?, ?)');
  db.exec('BEGIN');
  db.exec('DELETE FROM receipts');
  let prev = GENESIS_PREV;
  records.forEach((r0, i) => {
    const r: ReceiptRecord = { ...r0, seq: i + 1, prev };
    prev = recordHash(r);
    insert.run(r.seq, prev, JSON.stringify(r));
  });
  db.exec('COMMIT');
}

/** `receipts verify` on the local log, trusting the local keys, a key file, or the device ID. */
export function verifyAllWays(p: Pristine, home: string, file?: string): Record<string, Verify & { code: number }> {
  const base = ['receipts', 'verify', ...(file ? [file] : [])];
  const run = (extra: string[]) => {
    const r = cliJson<Verify>(home, [...base, ...extra]);
    return { ...r.json, code: r.code };
  };
  return {
    plain: run([]),
    device: run(['--device', p.deviceId]),
    publicKey: run(['--public-key', p.publicKeyFile]),
  };
}
