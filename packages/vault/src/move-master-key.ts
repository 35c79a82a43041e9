import { existsSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { writeFileAtomic } from './files.ts';
import { openKeychain } from './keychain.ts';
import {
  KEY_FILE,
  KEYCHAIN_FILE,
  PASSPHRASE_FILE,
  keepInKeychain,
  loadMasterKey,
  type KeychainHeader,
  type MasterKeyOptions,
  type MasterKeySource,
} from './master-key.ts';

export interface MoveResult {
  from: MasterKeySource;
  to: 'keychain' | 'key_file';
  /** What was removed from its old place. */
  removed: string[];
}

/**
 * Move the vault master key to the OS keychain or to a key file, keeping its value (nothing
 * needs re-sealing). The new place is written and read back before the old one is removed, so a
 * crash at any point leaves a key that opens the vault; run it again to finish the clean-up. A
 * passphrase-derived key can move out (its value is kept); moving in would mean a new key.
 */
export async function moveMasterKey(
  dataDir: string,
  to: 'keychain' | 'file',
  options: MasterKeyOptions = {},
): Promise<MoveResult> {
  const current = await loadMasterKey(dataDir, options);
  const target = to === 'file' ? 'key_file' : 'keychain';
  if (current.source !== target) {
    if (target === 'keychain') {
      const probe = await openKeychain();
      if (!probe.available)
        throw new BriefcaseError('unavailable', `no OS keychain to move the key to: ${probe.reason}`);
      await keepInKeychain(dataDir, probe.keychain, current.key);
    } else {
      writeFileAtomic(join(dataDir, KEY_FILE), `${Buffer.from(current.key).toString('base64')}\n`);
    }
  }
  // Whatever else still holds the key (or derives it) goes, including leftovers of an
  // interrupted move.
  const removed: string[] = [];
  if (target !== 'key_file' && existsSync(join(dataDir, KEY_FILE))) {
    shred(join(dataDir, KEY_FILE));
    removed.push(KEY_FILE);
  }
  if (existsSync(join(dataDir, PASSPHRASE_FILE))) {
    rmSync(join(dataDir, PASSPHRASE_FILE));
    removed.push(PASSPHRASE_FILE);
  }
  if (target !== 'keychain' && existsSync(join(dataDir, KEYCHAIN_FILE))) {
    const header = JSON.parse(readFileSync(join(dataDir, KEYCHAIN_FILE), 'utf8')) as KeychainHeader;
    // The file goes first: from then on the key file is what opens the vault, even if the
    // keychain cannot be reached to delete its entry.
    rmSync(join(dataDir, KEYCHAIN_FILE));
    removed.push(KEYCHAIN_FILE);
    const probe = await openKeychain(header.service);
    if (probe.available && (await probe.keychain.remove(header.account).catch(() => false))) {
      removed.push(`keychain entry ${header.service}/${header.account}`);
    }
  }
  return { from: current.source, to: target, removed };
}

/**
 * Overwrite a key file before unlinking it. Best effort: journaling file systems, SSDs and
 * backups may keep old blocks, which docs/keys.md says.
 */
function shred(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes(statSync(path).size));
  } finally {
    closeSync(fd);
  }
  rmSync(path);
}
