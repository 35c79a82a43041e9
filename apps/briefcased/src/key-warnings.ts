import { KEY_ROLES, readStoredKey } from '@briefcase/keys';
import { masterKeyExists, type MasterKeySource } from '@briefcase/vault';
import { cli } from './cli-hint.ts';

// The warnings init, start and doctor share, apart from init.ts (which loads the demo, the policy
// and the config schemas): `doctor` loads only this (start-up time).

export interface Warning {
  code: string;
  message: string;
}

const PROTECTED_BY: Record<MasterKeySource, string> = {
  keychain:
    'sealed under the vault master key, which is in the OS keychain: any program running as you while the keychain is unlocked can copy them',
  passphrase:
    'sealed under a passphrase-derived master key: anyone with the passphrase and the data directory can copy them',
  key_file:
    'sealed under a master key kept in a file: anyone who can read the data directory can copy the master key and with it these keys',
};

/**
 * Said by `npm start`, `init` and `doctor` (stable code `software_keys`) while any role's key is
 * in software: such a key is encrypted at rest but exportable (docs/keys.md).
 */
export function softwareKeysWarning(home: string, source?: MasterKeySource | null): Warning | null {
  const roles = KEY_ROLES.filter((r) => {
    try {
      return readStoredKey(home, r).backend === 'software';
    } catch {
      return false;
    }
  });
  const from = source ?? masterKeyExists(home);
  if (roles.length === 0 || !from) return null;
  return {
    code: 'software_keys',
    message: `software keys (${roles.join(', ')}): ${PROTECTED_BY[from]}. Put them on a token with \`${cli('keys', 'create', '--backend', 'pkcs11')}\` (see docs/keys.md)`,
  };
}

/** Said when `auto` wanted the OS keychain and found none (stable code `no_keychain`). */
export function noKeychainWarning(reason: string, source: MasterKeySource): Warning {
  return {
    code: 'no_keychain',
    message: `no OS keychain answered (${reason}); the vault master key is ${source === 'passphrase' ? 'derived from BRIEFCASE_PASSPHRASE' : 'in a file in the data directory'} instead. Once a keychain is available: \`${cli('keys', 'move-master', '--to', 'keychain')}\``,
  };
}
