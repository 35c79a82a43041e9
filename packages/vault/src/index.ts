export { Secret } from './secret.ts';
export { seal, open, type Sealed } from './seal.ts';
export { writeFileAtomic } from './files.ts';
export {
  createMasterKey,
  loadMasterKey,
  masterKeyExists,
  KEY_FILE,
  PASSPHRASE_FILE,
  type MasterKey,
  type MasterKeySource,
} from './master-key.ts';
export { Vault, VAULT_FILE, type SecretInfo } from './vault.ts';
export { Scrubber, secretVariants, REDACTION } from './scrub.ts';
