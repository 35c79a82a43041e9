export { Secret } from './secret.ts';
export { seal, open, type Sealed } from './seal.ts';
export { writeFileAtomic } from './files.ts';
export {
  createMasterKey,
  loadMasterKey,
  masterKeyExists,
  KEY_FILE,
  KEYCHAIN_FILE,
  MASTER_KEY_CHOICES,
  PASSPHRASE_FILE,
  type MasterKey,
  type MasterKeyChoice,
  type MasterKeyOptions,
  type MasterKeySource,
} from './master-key.ts';
export { openKeychain, KEYCHAIN_SERVICE, type Keychain, type KeychainProbe } from './keychain.ts';
export { Vault, VAULT_FILE, type SecretInfo } from './vault.ts';
export { Scrubber, REDACTION } from './scrub.ts';
export { secretPattern } from './encodings.ts';
export { estimateStrength, STRONG_BITS, DAEMON_ONLY_PREFIXES, daemonOnly, type Strength } from './strength.ts';
export { moveMasterKey, type MoveResult } from './move-master-key.ts';
