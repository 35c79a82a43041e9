import { SoftwareSigner, type KeyAlgorithm, type KeyRole } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { refreshDeviceStatement } from './device-statement.ts';
import { cli } from '../cli-hint.ts';

export interface RotationResult {
  role: KeyRole;
  old_key_id: string;
  key_id: string;
  algorithm: KeyAlgorithm;
  /** Servers whose DPoP-bound tokens were revoked (dpop rotations). */
  logged_out: string[];
}

/** One rotation at a time: two at once would leave the log, the services and the key file disagreeing. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * `briefcase keys rotate`: a new software key for the role. The old public key stays known
 * (retired, with its interval) and the rotation is receipted.
 */
export function rotateKey(s: Services, role: KeyRole, algorithm: KeyAlgorithm | undefined): Promise<RotationResult> {
  const run = queue.then(() => rotate(s, role, algorithm));
  queue = run.catch(() => undefined);
  return run;
}

async function rotate(s: Services, role: KeyRole, algorithm: KeyAlgorithm | undefined): Promise<RotationResult> {
  const old = s.keys[role];
  if (old.backend !== 'software') {
    throw new BriefcaseError(
      'conflict',
      `the ${role} key lives on a ${old.backend} token: stop the daemon and make a new one there with \`${cli('keys', 'create', '--role', role, '--backend', old.backend)} …\``,
    );
  }
  // Made first: a wrong master key or a bad algorithm fails here, before anything changes.
  const { signer: next, save } = SoftwareSigner.prepareRotation(s.paths.home, role, s.masterKey, algorithm);
  // Tokens issued to the old DPoP key are bound to it (RFC 9449) and useless after the switch:
  // revoke them at the servers (RFC 7009) and forget them, so each server asks for a new login.
  const loggedOut = role === 'dpop' ? await s.remotes.logoutAll() : [];
  // The log switches before the key file stamps the old key's retirement, so the old key's last
  // checkpoint lies inside the interval the device statement vouches for. Nothing is signed
  // between the switch and the save (no await), and a failed save switches back.
  if (role === 'receipts') await s.receipts.rotateSigner(next);
  try {
    save();
  } catch (e) {
    if (role === 'receipts') s.receipts.revertSigner(old);
    throw e;
  }
  s.keys[role] = next;
  if (role === 'dpop') s.remotes.replaceDpopKey(next);
  if (role !== 'dpop') await refreshDeviceStatement(s.paths, s.keys.identity, s.receipts);
  s.receipts.append('signer', 'admin', {
    event: 'rotated',
    role,
    old_key_id: old.keyId,
    new_key_id: next.keyId,
    algorithm: next.algorithm,
    ...(role === 'dpop' ? { logged_out: loggedOut } : {}),
  });
  await s.receipts.checkpoint();
  s.logger.info('key rotated', { role, old_key_id: old.keyId, new_key_id: next.keyId });
  return { role, old_key_id: old.keyId, key_id: next.keyId, algorithm: next.algorithm, logged_out: loggedOut };
}
