import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { DataPaths } from '@briefcase/briefcased';
import type { PublicJwk } from '@briefcase/crypto';
import { readPublicKeys } from '@briefcase/keys';
import { API_PATHS, BriefcaseError } from '@briefcase/protocol';
import { verifyExport } from '@briefcase/receipts';
import { readLogExport } from '@briefcase/receipts/node';
import type { AdminClient } from '../client.ts';
import { print, printJson } from '../output.ts';
import { oneLine } from '../safe-text.ts';

/** The device statement the daemon last signed, if any. */
function localDeviceStatement(paths: DataPaths): string | undefined {
  return existsSync(paths.deviceStatement) ? readFileSync(paths.deviceStatement, 'utf8').trim() : undefined;
}

/** Every receipts key this Briefcase has had (current and rotated out). */
function localKeys(paths: DataPaths): { key_id: string; jwk: PublicJwk }[] {
  return readPublicKeys(paths.home, 'receipts').map((k) => ({ key_id: k.keyId, jwk: k.jwk }));
}

/** Export through the daemon when it runs (it signs a fresh checkpoint first), else from the file. */
export async function receiptsExport(
  c: AdminClient | null,
  paths: DataPaths,
  out: string,
  json: boolean,
): Promise<void> {
  let text: string;
  let via: 'daemon' | 'database';
  try {
    if (!c) throw new BriefcaseError('daemon_unreachable', 'no client');
    text = await c.text(API_PATHS.adminReceiptsExport);
    via = 'daemon';
  } catch (e) {
    if (!(e instanceof BriefcaseError) || e.code !== 'daemon_unreachable') throw e;
    if (!existsSync(paths.db)) throw new BriefcaseError('not_found', `no receipt log at ${paths.db}`);
    text = `${readLogExport(paths.db, localKeys(paths), localDeviceStatement(paths)).join('\n')}\n`;
    via = 'database';
  }
  writeFileSync(out, text, { mode: 0o600 });
  const records = text.split('\n').filter((l) => l.startsWith('{"type":"record"')).length;
  if (json) printJson({ ok: true, out, records, via });
  else
    print(
      `Exported ${records} receipts to ${out}${via === 'database' ? ' (daemon not running: read from the database)' : ''}`,
    );
}

/** Offline verification. Returns the exit code: 1 when the log does not verify. */
export function receiptsVerify(
  paths: DataPaths,
  file: string | undefined,
  trust: { publicKeyFile?: string | undefined; device?: string | undefined },
  json: boolean,
): number {
  const { publicKeyFile, device } = trust;
  if (publicKeyFile && device) throw new BriefcaseError('bad_request', 'give --public-key or --device, not both');
  let keys = localKeys(paths);
  if (publicKeyFile) {
    const parsed = JSON.parse(readFileSync(publicKeyFile, 'utf8')) as { key_id?: string; jwk?: PublicJwk };
    if (!parsed.key_id || !parsed.jwk)
      throw new BriefcaseError('bad_request', `${publicKeyFile}: expected {"key_id": …, "jwk": …}`);
    keys = [{ key_id: parsed.key_id, jwk: parsed.jwk }];
  }
  let lines: string[];
  if (file) lines = readFileSync(file, 'utf8').split('\n');
  else {
    if (!existsSync(paths.db)) throw new BriefcaseError('not_found', `no receipt log at ${paths.db}`);
    lines = readLogExport(paths.db, keys, localDeviceStatement(paths));
  }
  const trusted = keys.length > 0 ? new Map(keys.map((k) => [k.key_id, k.jwk])) : undefined;
  const result = verifyExport(lines, device ? { trustedDevice: device } : trusted ? { trustedKeys: trusted } : {});
  if (json) {
    printJson({
      ok: result.ok,
      count: result.count,
      first_bad_seq: result.first_bad_seq,
      reason: result.reason,
      checkpoints: result.checkpoints,
      last_checkpoint_seq: result.last_checkpoint_seq,
      key_source: result.key_source,
    });
  } else if (result.ok) {
    print(
      `OK: ${result.count} receipts, ${result.checkpoints} signed checkpoints (last at seq ${result.last_checkpoint_seq ?? '-'})`,
    );
    if (result.key_source === 'device')
      print(`keys: those device ${oneLine(trust.device)} vouches for, each within its interval`);
    if (result.key_source === 'embedded')
      print('note: verified with the key embedded in the export; pass --public-key to check against a key you trust');
  } else print(`FAILED at seq ${result.first_bad_seq}: ${oneLine(result.reason)}`);
  return result.ok ? 0 : 1;
}
