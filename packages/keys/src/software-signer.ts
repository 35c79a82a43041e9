import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwkThumbprint, type Ed25519PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { open, seal, writeFileAtomic, type Sealed } from '@briefcase/vault';
import type { KeyRole, Signer } from './signer.ts';

interface StoredKey {
  v: 1;
  role: KeyRole;
  algorithm: 'EdDSA';
  backend: 'software';
  public_jwk: Ed25519PublicJwk;
  key_id: string;
  created_at: string;
  /** PKCS#8 DER of the private key, sealed under the vault master key. */
  sealed_private: Sealed;
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
    };
    writeFileAtomic(path, `${JSON.stringify(stored, null, 2)}\n`);
    return signer;
  }

  static load(dataDir: string, role: KeyRole, masterKey: Uint8Array): SoftwareSigner {
    const stored = readStoredKey(dataDir, role);
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
export function readPublicKey(dataDir: string, role: KeyRole): { jwk: Ed25519PublicJwk; keyId: string } | null {
  if (!existsSync(keyFilePath(dataDir, role))) return null;
  const stored = readStoredKey(dataDir, role);
  return { jwk: stored.public_jwk, keyId: stored.key_id };
}

function readStoredKey(dataDir: string, role: KeyRole): StoredKey {
  return JSON.parse(readFileSync(keyFilePath(dataDir, role), 'utf8')) as StoredKey;
}

function aad(role: KeyRole): string {
  return `briefcase.key.v1:${role}`;
}
