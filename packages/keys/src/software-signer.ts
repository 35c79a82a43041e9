import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwkThumbprint, type Ed25519PublicJwk, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { open, seal, writeFileAtomic, type Sealed } from '@briefcase/vault';
import type { KeyRole, Signer } from './signer.ts';

/** A key this role used before a rotation: kept so records it signed still verify. */
export interface RetiredKey {
  key_id: string;
  public_jwk: PublicJwk;
  backend?: 'software' | 'pkcs11';
  created_at: string;
  retired_at: string;
}

/** `keys/<role>.json`: the role's current key (wherever it lives) and the keys it replaced. */
export interface StoredKey {
  v: 1;
  role: KeyRole;
  algorithm: 'EdDSA' | 'ES256';
  backend: 'software' | 'pkcs11';
  public_jwk: PublicJwk;
  key_id: string;
  created_at: string;
  /** Software keys: PKCS#8 DER of the private key, sealed under the vault master key. */
  sealed_private?: Sealed;
  /** PKCS#11 keys: where the key lives; the private key never leaves the token. */
  pkcs11?: { module: string; token_label: string; key_label: string };
  /** Earlier keys of this role, newest first. Their private halves are gone. */
  previous?: RetiredKey[];
}

export function keyFilePath(dataDir: string, role: KeyRole): string {
  return join(dataDir, 'keys', `${role}.json`);
}

/**
 * Ed25519 in software. The private key is encrypted at rest under the vault master key; it is
 * still exportable by anyone who holds that key, which doctor and `npm start` say out loud.
 */
export class SoftwareSigner implements Signer {
  readonly role: KeyRole;
  readonly algorithm = 'EdDSA' as const;
  readonly backend = 'software' as const;
  readonly nonExportable = false;
  readonly publicJwk: Ed25519PublicJwk;
  readonly keyId: string;
  readonly #privateKey: KeyObject;

  private constructor(role: KeyRole, privateKey: KeyObject) {
    this.role = role;
    this.#privateKey = privateKey;
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as { x?: string };
    if (!jwk.x) throw new BriefcaseError('internal', 'Ed25519 public key has no x');
    this.publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    this.keyId = jwkThumbprint(this.publicJwk);
  }

  /** Load the role's key, creating it (never overwriting) on first use. */
  static loadOrCreate(dataDir: string, role: KeyRole, masterKey: Uint8Array): SoftwareSigner {
    const path = keyFilePath(dataDir, role);
    if (existsSync(path)) return SoftwareSigner.load(dataDir, role, masterKey);
    mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
    return SoftwareSigner.#generate(dataDir, role, masterKey, []);
  }

  /**
   * A new key for the role. The old public key is kept (with when it was retired) so that what
   * it signed still verifies; its private key is deleted.
   */
  static rotate(dataDir: string, role: KeyRole, masterKey: Uint8Array): SoftwareSigner {
    const old = readStoredKey(dataDir, role);
    // Opening the old key first proves the master key is right before anything is replaced.
    if (old.backend === 'software') SoftwareSigner.load(dataDir, role, masterKey);
    return SoftwareSigner.#generate(dataDir, role, masterKey, retire(old));
  }

  static #generate(dataDir: string, role: KeyRole, masterKey: Uint8Array, previous: RetiredKey[]): SoftwareSigner {
    const path = keyFilePath(dataDir, role);
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = new SoftwareSigner(role, privateKey);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const stored: StoredKey = {
      v: 1,
      role,
      algorithm: 'EdDSA',
      backend: 'software',
      public_jwk: signer.publicJwk,
      key_id: signer.keyId,
      created_at: new Date().toISOString(),
      sealed_private: seal(masterKey, der, aad(role)),
      ...(previous.length ? { previous } : {}),
    };
    writeFileAtomic(path, `${JSON.stringify(stored, null, 2)}\n`);
    return signer;
  }

  static load(dataDir: string, role: KeyRole, masterKey: Uint8Array): SoftwareSigner {
    const stored = readStoredKey(dataDir, role);
    if (!stored.sealed_private) {
      throw new BriefcaseError('bad_request', `the ${role} key is a ${stored.backend} key, not a software key`);
    }
    let der: Buffer;
    try {
      der = open(masterKey, stored.sealed_private, aad(role));
    } catch {
      throw new BriefcaseError('vault_locked', `the ${role} key does not open with this master key`);
    }
    return new SoftwareSigner(role, createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return this.signSync(message);
  }

  signSync(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.#privateKey));
  }
}

/** The public half, readable without the master key (offline verification, doctor). */
export function readPublicKey(dataDir: string, role: KeyRole): { jwk: PublicJwk; keyId: string } | null {
  if (!existsSync(keyFilePath(dataDir, role))) return null;
  const stored = readStoredKey(dataDir, role);
  return { jwk: stored.public_jwk, keyId: stored.key_id };
}

/** Every public key the role has had, current first: what a verifier of its records trusts. */
export function readPublicKeys(
  dataDir: string,
  role: KeyRole,
): {
  keyId: string;
  jwk: PublicJwk;
  createdAt: string;
  retiredAt: string | null;
  backend: string;
  algorithm: string;
}[] {
  if (!existsSync(keyFilePath(dataDir, role))) return [];
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
      algorithm: k.public_jwk.kty === 'OKP' ? 'EdDSA' : 'ES256',
    })),
  ];
}

/** The current key, as a retired entry, followed by the keys it had already replaced. */
export function retire(old: StoredKey): RetiredKey[] {
  const retired: RetiredKey = {
    key_id: old.key_id,
    public_jwk: old.public_jwk,
    backend: old.backend,
    created_at: old.created_at,
    retired_at: new Date().toISOString(),
  };
  return [retired, ...(old.previous ?? [])];
}

export function readStoredKey(dataDir: string, role: KeyRole): StoredKey {
  return JSON.parse(readFileSync(keyFilePath(dataDir, role), 'utf8')) as StoredKey;
}

function aad(role: KeyRole): string {
  return `briefcase.key.v1:${role}`;
}
