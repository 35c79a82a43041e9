import { existsSync } from 'node:fs';
import { writeFileAtomic } from '@briefcase/vault';
import { Pkcs11Signer, type Pkcs11Location } from './pkcs11-signer.ts';
import type { KeyRole, Signer } from './signer.ts';
import { keyFilePath, readStoredKey, retire, SoftwareSigner, type StoredKey } from './software-signer.ts';

/** The role's signer, from whichever backend its key file names. */
export function loadSigner(dataDir: string, role: KeyRole, masterKey: Uint8Array, pkcs11Pin?: string): Signer {
  if (existsSync(keyFilePath(dataDir, role)) && readStoredKey(dataDir, role).backend === 'pkcs11') {
    const stored = readStoredKey(dataDir, role);
    return Pkcs11Signer.open(role, stored.pkcs11!, pkcs11Pin);
  }
  return SoftwareSigner.loadOrCreate(dataDir, role, masterKey);
}

/**
 * `briefcase keys create --backend pkcs11`: generate the role's key on the token and make it the
 * role's key. A key the role had before is retired, not forgotten, so what it signed verifies.
 */
export function createPkcs11Key(
  dataDir: string,
  role: KeyRole,
  location: Pkcs11Location,
  pin: string | undefined,
): Signer {
  const signer = Pkcs11Signer.open(role, location, pin, true);
  const previous = existsSync(keyFilePath(dataDir, role)) ? retire(readStoredKey(dataDir, role)) : [];
  const stored: StoredKey = {
    v: 1,
    role,
    algorithm: 'ES256',
    backend: 'pkcs11',
    public_jwk: signer.publicJwk,
    key_id: signer.keyId,
    created_at: new Date().toISOString(),
    pkcs11: location,
    ...(previous.length ? { previous } : {}),
  };
  writeFileAtomic(keyFilePath(dataDir, role), `${JSON.stringify(stored, null, 2)}\n`);
  return signer;
}
