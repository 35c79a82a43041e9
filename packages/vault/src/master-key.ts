import { existsSync, readFileSync } from 'node:fs';
import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { writeFileAtomic } from './files.ts';
import { openKeychain, KEYCHAIN_SERVICE, type Keychain } from './keychain.ts';
import { open, seal, type Sealed } from './seal.ts';

/**
 * Where the vault master key comes from (DESIGN.md §5): a random key kept in the OS keychain when
 * there is one; else derived from a passphrase (scrypt); else a random key in a 0600 file. The
 * last two come with a warning.
 */
export type MasterKeySource = 'keychain' | 'passphrase' | 'key_file';

/** What `briefcase init --master-key` asks for; `auto`: a given passphrase, else the keychain, else a file. */
export type MasterKeyChoice = 'auto' | 'keychain' | 'passphrase' | 'file';
export const MASTER_KEY_CHOICES: readonly MasterKeyChoice[] = ['auto', 'keychain', 'passphrase', 'file'];

export interface MasterKey {
  key: Uint8Array;
  source: MasterKeySource;
  /** With `auto`: why the keychain was not used (said as a warning). */
  keychainUnavailable?: string;
}

export interface MasterKeyOptions {
  passphrase?: string | undefined;
  choice?: MasterKeyChoice;
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

/** `master.keychain.json`: where in the keychain the key is, and a check that it is the right one. */
export interface KeychainHeader {
  v: 1;
  service: string;
  account: string;
  check: Sealed;
}

export const KEY_FILE = 'master.key';
export const PASSPHRASE_FILE = 'master.passphrase.json';
export const KEYCHAIN_FILE = 'master.keychain.json';

/**
 * Create the master key on first run; never overwrites an existing one. `auto` (the default)
 * uses a passphrase when one is given, else the OS keychain when it answers, else a key file.
 */
export async function createMasterKey(dataDir: string, options: MasterKeyOptions = {}): Promise<MasterKey> {
  if (masterKeyExists(dataDir)) return loadMasterKey(dataDir, options);
  const { passphrase } = options;
  const choice = options.choice ?? 'auto';
  const hasPassphrase = passphrase !== undefined && passphrase.length > 0;
  if (choice === 'passphrase' && !hasPassphrase) {
    throw new BriefcaseError('bad_request', '--master-key passphrase needs BRIEFCASE_PASSPHRASE set');
  }
  let keychainUnavailable: string | undefined;
  if (choice === 'keychain' || (choice === 'auto' && !hasPassphrase)) {
    const probe = await openKeychain();
    if (probe.available) {
      try {
        return await keepInKeychain(dataDir, probe.keychain);
      } catch (e) {
        // A keychain that answers but will not store (locked, prompt dismissed): `auto` moves on.
        if (choice === 'keychain') throw e;
        keychainUnavailable = `it would not store the key: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      }
    } else if (choice === 'keychain') {
      throw new BriefcaseError('unavailable', `no OS keychain to keep the master key in: ${probe.reason}`);
    } else keychainUnavailable = probe.reason;
  }
  const fallback = keychainUnavailable === undefined ? {} : { keychainUnavailable };
  if (hasPassphrase && choice !== 'file') {
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
    writeFileAtomic(join(dataDir, PASSPHRASE_FILE), `${JSON.stringify(header, null, 2)}\n`);
    return { key, source: 'passphrase', ...fallback };
  }
  const key = randomBytes(32);
  writeFileAtomic(join(dataDir, KEY_FILE), `${key.toString('base64')}\n`);
  return { key, source: 'key_file', ...fallback };
}

export function masterKeyExists(dataDir: string): MasterKeySource | null {
  if (existsSync(join(dataDir, KEYCHAIN_FILE))) return 'keychain';
  if (existsSync(join(dataDir, PASSPHRASE_FILE))) return 'passphrase';
  if (existsSync(join(dataDir, KEY_FILE))) return 'key_file';
  return null;
}

/** Load the master key; a wrong or missing passphrase (or keychain entry) is a clear error and changes nothing. */
export async function loadMasterKey(dataDir: string, options: MasterKeyOptions = {}): Promise<MasterKey> {
  if (existsSync(join(dataDir, KEYCHAIN_FILE))) return loadFromKeychain(dataDir);
  const { passphrase } = options;
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

/** A master key (a new random one by default) in the keychain, read back before anything relies on it. */
export async function keepInKeychain(
  dataDir: string,
  keychain: Keychain,
  key: Uint8Array = randomBytes(32),
): Promise<MasterKey> {
  const header: KeychainHeader = {
    v: 1,
    service: KEYCHAIN_SERVICE,
    account: `master-key:${randomUUID()}`,
    check: seal(key, Buffer.from(CHECK_TEXT), CHECK_AAD),
  };
  const encoded = Buffer.from(key).toString('base64');
  await keychain.set(header.account, encoded);
  // A keychain that accepts and forgets would lose the vault.
  if ((await keychain.get(header.account).catch(() => null)) !== encoded) {
    await keychain.remove(header.account).catch(() => false);
    throw new BriefcaseError('unavailable', 'the OS keychain accepted the master key but returned something else');
  }
  writeFileAtomic(join(dataDir, KEYCHAIN_FILE), `${JSON.stringify(header, null, 2)}\n`);
  return { key, source: 'keychain' };
}

async function loadFromKeychain(dataDir: string): Promise<MasterKey> {
  const file = join(dataDir, KEYCHAIN_FILE);
  let header: KeychainHeader;
  try {
    header = JSON.parse(readFileSync(file, 'utf8')) as KeychainHeader;
  } catch (e) {
    throw new BriefcaseError(
      'vault_locked',
      `${file} is damaged: it says where the master key is in the keychain`,
      String(e),
    );
  }
  const where = `service "${header.service}", account "${header.account}"`;
  const probe = await openKeychain(header.service);
  if (!probe.available) {
    throw new BriefcaseError(
      'vault_locked',
      `the vault master key is in the OS keychain, which does not answer: ${probe.reason}. Unlock the keychain (Linux: the Secret Service, e.g. gnome-keyring, on this session's D-Bus) and start again`,
    );
  }
  const stored = await probe.keychain.get(header.account);
  if (stored === null) {
    throw new BriefcaseError(
      'vault_locked',
      `the vault master key is missing from the OS keychain (${where}): it was deleted or this is another user's keychain; nothing was changed`,
    );
  }
  const key = Buffer.from(stored, 'base64');
  let check: Buffer | undefined;
  try {
    check = key.length === 32 ? open(key, header.check, CHECK_AAD) : undefined;
  } catch {
    check = undefined;
  }
  if (!check || !timingSafeEqual(check, Buffer.from(CHECK_TEXT))) {
    throw new BriefcaseError(
      'vault_locked',
      `the key in the OS keychain (${where}) does not open this vault (${file}); nothing was changed`,
    );
  }
  return { key, source: 'keychain' };
}
