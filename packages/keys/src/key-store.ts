import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { writeFileAtomic, type Sealed } from '@briefcase/vault';
import type { KeyAlgorithm, KeyBackend, KeyRole, StoredRole } from './signer.ts';

/** A key this role used before a rotation: kept so records it signed still verify. */
export interface RetiredKey {
  key_id: string;
  public_jwk: PublicJwk;
  backend?: KeyBackend;
  created_at: string;
  retired_at: string;
}

/** Where a PKCS#11 key lives; the private key never leaves the token. */
export interface Pkcs11Location {
  /** The PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so, a YubiKey's libykcs11.so). */
  module: string;
  /** The token's label. */
  token_label: string;
  /** The key pair's label on the token. */
  key_label: string;
}

/** `keys/<role>.json`: the role's current key (wherever it lives) and the keys it replaced. */
export interface StoredKey {
  v: 1;
  role: KeyRole;
  algorithm: KeyAlgorithm;
  backend: KeyBackend;
  public_jwk: PublicJwk;
  key_id: string;
  created_at: string;
  /** Software keys: PKCS#8 DER of the private key, sealed under the vault master key. */
  sealed_private?: Sealed;
  pkcs11?: Pkcs11Location;
  /** Earlier keys of this role, newest first. Their private halves are gone. */
  previous?: RetiredKey[];
}

/** One public key a role has had, with the interval it was valid in. */
export interface PublicKeyEntry {
  keyId: string;
  jwk: PublicJwk;
  createdAt: string;
  retiredAt: string | null;
  backend: KeyBackend;
  algorithm: KeyAlgorithm;
}

export function keyFilePath(dataDir: string, role: StoredRole): string {
  return join(dataDir, 'keys', `${role}.json`);
}

export function hasStoredKey(dataDir: string, role: StoredRole): boolean {
  return existsSync(keyFilePath(dataDir, role));
}

export function readStoredKey(dataDir: string, role: KeyRole): StoredKey {
  const path = keyFilePath(dataDir, role);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StoredKey;
  } catch (e) {
    throw new BriefcaseError('invalid_config', `${path}: cannot read the ${role} key file`, String(e));
  }
}

export function writeStoredKey(dataDir: string, stored: StoredKey): void {
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  writeFileAtomic(keyFilePath(dataDir, stored.role), `${JSON.stringify(stored, null, 2)}\n`);
}

/** The role's current key as a retired entry, followed by the keys it had already replaced. */
export function retiredKeys(dataDir: string, role: KeyRole): RetiredKey[] {
  if (!hasStoredKey(dataDir, role)) return [];
  const old = readStoredKey(dataDir, role);
  const retired: RetiredKey = {
    key_id: old.key_id,
    public_jwk: old.public_jwk,
    backend: old.backend,
    created_at: old.created_at,
    retired_at: new Date().toISOString(),
  };
  return [retired, ...(old.previous ?? [])];
}

/** The public half, readable without the master key (offline verification, doctor). */
export function readPublicKey(dataDir: string, role: KeyRole): { jwk: PublicJwk; keyId: string } | null {
  if (!hasStoredKey(dataDir, role)) return null;
  const stored = readStoredKey(dataDir, role);
  return { jwk: stored.public_jwk, keyId: stored.key_id };
}

/** Every public key the role has had, current first: what a verifier of its records trusts. */
export function readPublicKeys(dataDir: string, role: KeyRole): PublicKeyEntry[] {
  if (!hasStoredKey(dataDir, role)) return [];
  const stored = readStoredKey(dataDir, role);
  return [
    {
      keyId: stored.key_id,
      jwk: stored.public_jwk,
      createdAt: stored.created_at,
      retiredAt: null,
      backend: stored.backend,
      algorithm: stored.algorithm,
    },
    ...(stored.previous ?? []).map((k) => ({
      keyId: k.key_id,
      jwk: k.public_jwk,
      createdAt: k.created_at,
      retiredAt: k.retired_at,
      backend: k.backend ?? 'software',
      algorithm: (k.public_jwk.kty === 'OKP' ? 'EdDSA' : 'ES256') as KeyAlgorithm,
    })),
  ];
}
