import { readPublicKeys, type Signer } from '@briefcase/keys';
import { signDeviceStatement } from '@briefcase/receipts';
import type { ReceiptLog } from '@briefcase/receipts/node';
import { writeFileAtomic } from '@briefcase/vault';
import type { DataPaths } from '../paths.ts';

/**
 * Have the identity key vouch for every receipts key this Briefcase has had, with the interval
 * each was valid in (packages/receipts/src/device-statement.ts). Made at start, after a rotation
 * of the identity or receipts key, for every export and at shutdown; every export carries it.
 */
export async function refreshDeviceStatement(
  paths: DataPaths,
  identity: Signer,
  receipts: ReceiptLog,
): Promise<string> {
  const keys = readPublicKeys(paths.home, 'receipts').map((k) => ({
    key_id: k.keyId,
    jwk: k.jwk,
    not_before: k.createdAt,
    not_after: k.retiredAt,
  }));
  const jws = await signDeviceStatement(identity, keys);
  // Kept on disk too: exports made while the daemon is stopped carry it.
  writeFileAtomic(paths.deviceStatement, `${jws}\n`);
  receipts.deviceStatement = jws;
  return jws;
}
