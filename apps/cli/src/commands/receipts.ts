import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DataPaths } from '@briefcase/briefcased';
import type { PublicJwk } from '@briefcase/crypto';
import { readPublicKeys } from '@briefcase/keys';
import { API_PATHS, BriefcaseError } from '@briefcase/protocol';
import { verifyExport, type Anchor, type VerifyOptions, type VerifyResult } from '@briefcase/receipts';
import { readAnchor, readLogExport } from '@briefcase/receipts/node';
import type { AdminClient } from '../client.ts';
import { print, printJson, warn } from '../output.ts';
import { oneLine } from '../safe-text.ts';

/** The device statement the daemon last signed, if any. */
function localDeviceStatement(paths: DataPaths): string | undefined {
  return existsSync(paths.deviceStatement) ? readFileSync(paths.deviceStatement, 'utf8').trim() : undefined;
}

/** Every receipts key this Briefcase has had (current and rotated out). */
function localKeys(paths: DataPaths): { key_id: string; jwk: PublicJwk }[] {
  return readPublicKeys(paths.home, 'receipts').map((k) => ({ key_id: k.keyId, jwk: k.jwk }));
}

/**
 * The log read straight from the database (daemon stopped), with the anchor's checkpoint in it: a
 * database truncated or rewritten below what the daemon last signed then fails to verify. The
 * anchor itself is returned for `verifyExport` to check its signature. A missing or damaged
 * anchor beside a non-empty log is said plainly (`problem`).
 */
function readLocalLog(
  paths: DataPaths,
  keys: { key_id: string; jwk: PublicJwk }[],
): { lines: string[]; anchor: Anchor | null; problem?: string } {
  if (!existsSync(paths.db)) throw new BriefcaseError('not_found', `no receipt log at ${paths.db}`);
  const read = readAnchor(paths.receiptsAnchor);
  const anchor = read.ok ? read.anchor : null;
  const lines = readLogExport(paths.db, keys, localDeviceStatement(paths), anchor?.checkpoint);
  const hasRecords = lines.some((l) => l.startsWith('{"type":"record"'));
  if (!read.ok) return { lines, anchor, problem: read.reason };
  if (!anchor && hasRecords) {
    return {
      lines,
      anchor,
      problem: `${paths.receiptsAnchor} is missing: nothing says where the log must reach (deleted?)`,
    };
  }
  return { lines, anchor };
}

/** Export through the daemon when it runs (it signs the head first), else from the file. */
export async function receiptsExport(
  c: AdminClient | null,
  paths: DataPaths,
  out: string,
  json: boolean,
): Promise<void> {
  let text: string;
  let via: 'daemon' | 'database';
  let problem: string | undefined;
  try {
    if (!c) throw new BriefcaseError('daemon_unreachable', 'no client');
    text = await c.text(API_PATHS.adminReceiptsExport);
    via = 'daemon';
  } catch (e) {
    if (!(e instanceof BriefcaseError) || e.code !== 'daemon_unreachable') throw e;
    const keys = localKeys(paths);
    const local = readLocalLog(paths, keys);
    text = `${local.lines.join('\n')}\n`;
    // Said at once, not left for whoever verifies the file later.
    const check = verifyExport(local.lines, {
      trustedKeys: new Map(keys.map((k) => [k.key_id, k.jwk])),
      ...(local.anchor ? { anchor: local.anchor } : {}),
    });
    problem = local.problem ?? (check.ok ? undefined : `the exported log does not verify: ${check.reason}`);
    via = 'database';
  }
  writeFileSync(out, text, { mode: 0o600 });
  const records = text.split('\n').filter((l) => l.startsWith('{"type":"record"')).length;
  if (problem) warn(`warning [receipts_altered]: ${problem}`);
  if (json) printJson({ ok: true, out, records, via, ...(problem ? { warning: problem } : {}) });
  else
    print(
      `Exported ${records} receipts to ${out}${via === 'database' ? ' (daemon not running: read from the database)' : ''}`,
    );
}

export interface VerifyFlags {
  publicKeyFile?: string | undefined;
  device?: string | undefined;
  /** An earlier export of the same log, kept elsewhere: the new one must extend it. */
  extendsFile?: string | undefined;
}

/** The daemon's export (it signs the head first), or null when no daemon answers. */
async function daemonExport(c: AdminClient | null): Promise<string[] | null> {
  if (!c) return null;
  try {
    return (await c.text(API_PATHS.adminReceiptsExport)).split('\n');
  } catch (e) {
    if (e instanceof BriefcaseError && e.code === 'daemon_unreachable') return null;
    throw e;
  }
}

/**
 * Offline verification of a file, or of the local log: through the running daemon's export (so
 * that the records it has not signed yet are signed first), else straight from the database.
 * Returns the exit code: 1 when the log does not verify.
 */
export async function receiptsVerify(
  c: AdminClient | null,
  paths: DataPaths,
  file: string | undefined,
  flags: VerifyFlags,
  json: boolean,
): Promise<number> {
  const { publicKeyFile, device, extendsFile } = flags;
  if (publicKeyFile && device) throw new BriefcaseError('bad_request', 'give --public-key or --device, not both');
  let keys = localKeys(paths);
  if (publicKeyFile) {
    const parsed = JSON.parse(readFileSync(publicKeyFile, 'utf8')) as { key_id?: string; jwk?: PublicJwk };
    if (!parsed.key_id || !parsed.jwk)
      throw new BriefcaseError('bad_request', `${publicKeyFile}: expected {"key_id": …, "jwk": …}`);
    keys = [{ key_id: parsed.key_id, jwk: parsed.jwk }];
  }
  const trusted = keys.length > 0 ? new Map(keys.map((k) => [k.key_id, k.jwk])) : undefined;
  const trust: VerifyOptions = device ? { trustedDevice: device } : trusted ? { trustedKeys: trusted } : {};
  let result: VerifyResult;
  let earlier: VerifyResult | undefined;
  let presence: { assertions: number; problems: string[] } | undefined;
  let payments: { receipts: number; problems: string[] } | undefined;
  if (extendsFile) {
    earlier = verifyExport(readFileSync(extendsFile, 'utf8').split('\n'), trust);
  }
  if (earlier && !earlier.ok) {
    result = { ...earlier, reason: `the earlier export ${extendsFile} does not verify: ${earlier.reason}` };
  } else {
    let lines: string[];
    let problem: string | undefined;
    let anchor: Anchor | null = null;
    if (file) lines = readFileSync(file, 'utf8').split('\n');
    else {
      const live = await daemonExport(c);
      if (live) lines = live;
      else ({ lines, problem, anchor } = readLocalLog(paths, keys));
    }
    result = verifyExport(lines, {
      ...trust,
      ...(earlier?.head ? { extends: earlier.head } : {}),
      ...(anchor ? { anchor } : {}),
    });
    if (result.ok && problem) result = { ...result, ok: false, first_bad_seq: 0, reason: problem };
    if (result.ok) {
      // Every passkey assertion in the log, against the passkeys the same log enrolled.
      presence = await checkPresence(lines);
      if (presence.problems.length > 0) {
        const first = presence.problems[0]!;
        result = {
          ...result,
          ok: false,
          first_bad_seq: Number(/^record (\d+)/.exec(first)?.[1] ?? 0),
          reason: `a passkey assertion does not hold: ${first}`,
        };
      }
    }
    // The live log: its payment receipts against the daemon's spend ledger (docs/payments.md).
    if (result.ok && !file && c) {
      payments = await reconcileWithLedger(c, lines);
      if (payments && payments.problems.length > 0) {
        result = { ...result, ok: false, first_bad_seq: 0, reason: `payments: ${payments.problems[0]}` };
      }
    }
  }
  const head = result.head ? { n: result.head.n, seq: result.head.seq, signed_at: result.head.ts } : null;
  if (json) {
    printJson({
      ok: result.ok,
      count: result.count,
      first_bad_seq: result.first_bad_seq,
      reason: result.reason,
      checkpoints: result.checkpoints,
      last_checkpoint_seq: result.last_checkpoint_seq,
      key_source: result.key_source,
      head,
      notices: result.notices,
      assertions: presence?.assertions ?? 0,
      ...(presence && presence.problems.length > 0 ? { assertion_problems: presence.problems } : {}),
      ...(payments ? { payments } : {}),
      ...(earlier ? { extends: earlier.head ? { n: earlier.head.n, seq: earlier.head.seq } : null } : {}),
    });
  } else if (result.ok) {
    print(
      `OK: ${result.count} receipts, ${result.checkpoints} signed checkpoints; head seq ${head?.seq ?? '-'} signed at ${head?.signed_at ?? '-'}`,
    );
    if (earlier?.head)
      print(`extends ${oneLine(extendsFile)} (its head: checkpoint #${earlier.head.n}, seq ${earlier.head.seq})`);
    if (result.key_source === 'device')
      print(`keys: those device ${oneLine(device)} vouches for, each within its interval`);
    if (result.key_source === 'embedded')
      print('note: verified with the key embedded in the export; pass --public-key to check against a key you trust');
    if (presence && presence.assertions > 0)
      print(`passkeys: ${presence.assertions} assertion(s) verified against the passkeys enrolled in this log`);
    for (const n of result.notices) print(`notice: ${oneLine(n)}`);
  } else print(`FAILED at seq ${result.first_bad_seq}: ${oneLine(result.reason)}`);
  return result.ok ? 0 : 1;
}

/** Payment receipts in the export against the daemon's ledger; null when the daemon has no payments API. */
async function reconcileWithLedger(
  c: AdminClient,
  lines: string[],
): Promise<{ receipts: number; problems: string[] } | undefined> {
  let entries: Parameters<typeof import('@briefcase/payments').reconcilePayments>[1];
  try {
    entries = (await c.get<{ entries: typeof entries }>('/v1/admin/payments/ledger')).entries;
  } catch (e) {
    if (e instanceof BriefcaseError && (e.code === 'daemon_unreachable' || e.code === 'not_found')) return undefined;
    throw e;
  }
  const bodies = lines
    .filter((l) => l.startsWith('{"type":"record"'))
    .map((l) => (JSON.parse(l) as { record: { kind: string; body: Record<string, unknown> } }).record)
    .filter((r) => r.kind === 'payment')
    .map((r) => r.body);
  const { reconcilePayments } = await import('@briefcase/payments');
  return { receipts: bodies.length, problems: reconcilePayments(bodies, entries) };
}

/** The presence check loads @simplewebauthn only when a log is verified. */
async function checkPresence(lines: string[]): Promise<{ assertions: number; problems: string[] }> {
  const records: { seq: number; kind: string; body: Record<string, unknown> }[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line) as {
      type?: string;
      record?: { seq: number; kind: string; body: Record<string, unknown> };
    };
    if (parsed.type === 'record' && parsed.record) records.push(parsed.record);
  }
  if (records.length === 0) return { assertions: 0, problems: [] };
  const { checkPresenceEvidence } = await import('@briefcase/presence');
  return checkPresenceEvidence(records);
}
