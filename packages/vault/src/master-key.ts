import { existsSync, readFileSync } from 'node:fs';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol';
import { writeFileAtomic } from './files.ts';
import { open, seal, type Sealed } from './seal.ts';

/**
 * Where the vault master key comes from (DESIGN.md §5). The OS keychain backend arrives with the
 * key-custody issue; until then, a passphrase (scrypt) or a random key in a 0600 file.
 */
export type MasterKeySource = 'passphrase' | 'key_file';

export interface MasterKey {
  key: Uint8Array;
  source: MasterKeySource;
}

/** RFC 7914 parameters: N=2^15 costs ~100 ms and 32 MiB here, paid once per daemon start. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const CHECK_AAD = 'briefcase.master-key.check.v1';
const CHECK_TEXT = 'briefcase master key check';

interface PassphraseHeader {
  v: 1;
  kdf: 'scrypt';
  salt: string;
  N: number;
  r: number;
  p: number;
  check: Sealed;
}

export const KEY_FILE = 'master.key';
export const PASSPHRASE_FILE = 'master.passphrase.json';

/** Create the master key on first run. Never overwrites an existing one. */
export function createMasterKey(dataDir: string, passphrase: string | undefined): MasterKey {
  const keyFile = join(dataDir, KEY_FILE);
  const headerFile = join(dataDir, PASSPHRASE_FILE);
  if (existsSync(keyFile) || existsSync(headerFile)) return loadMasterKey(dataDir, passphrase);
  if (passphrase !== undefined && passphrase.length > 0) {
    if (passphrase.length < 8) {
      throw new BriefcaseError('invalid_config', 'BRIEFCASE_PASSPHRASE must be at least 8 characters');
    }
    const salt = randomBytes(16);
    const key = scryptSync(passphrase, salt, 32, SCRYPT);
    const header: PassphraseHeader = {
      v: 1,
      kdf: 'scrypt',
      salt: salt.toString('base64'),
      N: SCRYPT.N,
      r: SCRYPT.r,
      p: SCRYPT.p,
      check: seal(key, Buffer.from(CHECK_TEXT), CHECK_AAD),
    };
    writeFileAtomic(headerFile, `${JSON.stringify(header, null, 2)}\n`);
    return { key, source: 'passphrase' };
  }
  const key = randomBytes(32);
  writeFileAtomic(keyFile, `${key.toString('base64')}\n`);
  return { key, source: 'key_file' };
}

export function masterKeyExists(dataDir: string): MasterKeySource | null {
  if (existsSync(join(dataDir, PASSPHRASE_FILE))) return 'passphrase';
  if (existsSync(join(dataDir, KEY_FILE))) return 'key_file';
  return null;
}

/** Load the master key; a wrong or missing passphrase is a clear error and changes nothing. */
export function loadMasterKey(dataDir: string, passphrase: string | undefined): MasterKey {
  const headerFile = join(dataDir, PASSPHRASE_FILE);
  if (existsSync(headerFile)) {
    if (passphrase === undefined || passphrase.length === 0) {
      throw new BriefcaseError(
        'vault_locked',
        'this Briefcase is protected by a passphrase: set BRIEFCASE_PASSPHRASE and start again',
      );
    }
    const header = JSON.parse(readFileSync(headerFile, 'utf8')) as PassphraseHeader;
    const key = scryptSync(passphrase, Buffer.from(header.salt, 'base64'), 32, {
      N: header.N,
      r: header.r,
      p: header.p,
      maxmem: SCRYPT.maxmem,
    });
    let check: Buffer;
    try {
      check = open(key, header.check, CHECK_AAD);
    } catch {
      throw new BriefcaseError('vault_locked', 'wrong passphrase: BRIEFCASE_PASSPHRASE does not open this vault');
    }
    if (!timingSafeEqual(check, Buffer.from(CHECK_TEXT))) {
      throw new BriefcaseError('vault_locked', 'wrong passphrase: BRIEFCASE_PASSPHRASE does not open this vault');
    }
    return { key, source: 'passphrase' };
  }
  const keyFile = join(dataDir, KEY_FILE);
  if (!existsSync(keyFile)) {
    throw new BriefcaseError('vault_locked', `no master key in ${dataDir}: run \`briefcase init\``);
  }
  const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
  if (key.length !== 32) {
    throw new BriefcaseError('vault_locked', `${keyFile} is not a 32-byte base64 key (was it edited?)`);
  }
  return { key, source: 'key_file' };
}
