import { Pkcs11Signer } from './pkcs11-signer.ts';
import { hasStoredKey, readStoredKey, retiredKeys, writeStoredKey, type Pkcs11Location } from './key-store.ts';
import type { KeyAlgorithm, KeyRole, Signer } from './signer.ts';
import { SoftwareSigner } from './software-signer.ts';

/** Where a token's PIN comes from: the environment, the vault, or a person at a terminal. */
export type PinSource = (location: Pkcs11Location) => Promise<string | undefined> | string | undefined;

/** The role's signer, from whichever backend its key file names (software keys made on first use). */
export async function loadSigner(
  dataDir: string,
  role: KeyRole,
  masterKey: Uint8Array,
  pin: PinSource = () => undefined,
): Promise<Signer> {
  if (hasStoredKey(dataDir, role)) {
    const stored = readStoredKey(dataDir, role);
    if (stored.backend === 'pkcs11' && stored.pkcs11) {
      return Pkcs11Signer.open(role, stored.pkcs11, await pin(stored.pkcs11));
    }
  }
  return SoftwareSigner.loadOrCreate(dataDir, role, masterKey);
}

export type KeySpec =
  | { backend: 'software'; algorithm: KeyAlgorithm; masterKey: Uint8Array }
  | { backend: 'pkcs11'; location: Pkcs11Location; pin: string | undefined };

/**
 * `briefcase keys create`: a new key becomes the role's key. A key the role had before is retired,
 * not forgotten, so what it signed still verifies.
 */
export function createKey(dataDir: string, role: KeyRole, spec: KeySpec): Signer {
  if (spec.backend === 'software') return SoftwareSigner.create(dataDir, role, spec.masterKey, spec.algorithm);
  // Read the current key file before the token makes a key: a failure leaves no orphan behind.
  const previous = retiredKeys(dataDir, role);
  const signer = Pkcs11Signer.open(role, spec.location, spec.pin, true);
  writeStoredKey(dataDir, {
    v: 1,
    role,
    algorithm: 'ES256',
    backend: 'pkcs11',
    public_jwk: signer.publicJwk,
    key_id: signer.keyId,
    created_at: new Date().toISOString(),
    pkcs11: spec.location,
    ...(previous.length ? { previous } : {}),
  });
  return signer;
}
