import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { jwkThumbprint, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { open, seal } from '@briefcase/vault';
import { readStoredKey, retiredKeys, writeStoredKey, hasStoredKey } from './key-store.ts';
import { DEFAULT_ALGORITHM, type KeyAlgorithm, type KeyRole, type Signer } from './signer.ts';

/**
 * A key in software: Ed25519 (EdDSA) or P-256 (ES256). The private key is encrypted at rest
 * under the vault master key; it is still exportable by anyone who holds that key, which doctor
 * and `npm start` say out loud.
 */
export class SoftwareSigner implements Signer {
  readonly role: KeyRole;
  readonly algorithm: KeyAlgorithm;
  readonly backend = 'software' as const;
  readonly nonExportable = false;
  readonly publicJwk: PublicJwk;
  readonly keyId: string;
  readonly #privateKey: KeyObject;

  private constructor(role: KeyRole, privateKey: KeyObject) {
    this.role = role;
    this.#privateKey = privateKey;
    this.algorithm = algorithmOf(privateKey);
    this.publicJwk = publicJwkOf(privateKey);
    this.keyId = jwkThumbprint(this.publicJwk);
  }

  /** Load the role's key, creating it (never overwriting) on first use. */
  static loadOrCreate(dataDir: string, role: KeyRole, masterKey: Uint8Array): SoftwareSigner {
    if (hasStoredKey(dataDir, role)) return SoftwareSigner.load(dataDir, role, masterKey);
    return SoftwareSigner.create(dataDir, role, masterKey, DEFAULT_ALGORITHM[role]);
  }

  /**
   * A new key for the role. A key the role had before is retired, not forgotten: its public key is
   * kept (with when it was retired) so that what it signed still verifies; its private key is gone.
   */
  static create(dataDir: string, role: KeyRole, masterKey: Uint8Array, algorithm: KeyAlgorithm): SoftwareSigner {
    const { signer, save } = SoftwareSigner.prepare(dataDir, role, masterKey, algorithm);
    save();
    return signer;
  }

  /**
   * A new key, made but not yet the role's key: `save()` retires the current key (stamping its
   * retirement now) and writes the new one. A rotation switches the receipt log to the new key
   * first, so that every checkpoint by the old key falls before its retirement.
   */
  static prepare(
    dataDir: string,
    role: KeyRole,
    masterKey: Uint8Array,
    algorithm: KeyAlgorithm,
  ): { signer: SoftwareSigner; save: () => void } {
    if (hasStoredKey(dataDir, role) && readStoredKey(dataDir, role).backend === 'software') {
      // Opening the old key first proves the master key is right before anything is replaced.
      SoftwareSigner.load(dataDir, role, masterKey);
    }
    const { privateKey } =
      algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = new SoftwareSigner(role, privateKey);
    const createdAt = new Date().toISOString();
    const sealed = seal(masterKey, privateKey.export({ format: 'der', type: 'pkcs8' }), aad(role));
    const save = () => {
      const previous = retiredKeys(dataDir, role);
      writeStoredKey(dataDir, {
        v: 1,
        role,
        algorithm,
        backend: 'software',
        public_jwk: signer.publicJwk,
        key_id: signer.keyId,
        created_at: createdAt,
        sealed_private: sealed,
        ...(previous.length ? { previous } : {}),
      });
    };
    return { signer, save };
  }

  /** A rotation keeps the role's algorithm unless told otherwise (see `prepare`). */
  static prepareRotation(
    dataDir: string,
    role: KeyRole,
    masterKey: Uint8Array,
    algorithm?: KeyAlgorithm,
  ): { signer: SoftwareSigner; save: () => void } {
    return SoftwareSigner.prepare(dataDir, role, masterKey, algorithm ?? readStoredKey(dataDir, role).algorithm);
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

  /** EdDSA over the message; ES256 as r‖s (IEEE P1363, the JOSE form) over its SHA-256. */
  signSync(message: Uint8Array): Uint8Array {
    return this.algorithm === 'EdDSA'
      ? new Uint8Array(sign(null, message, this.#privateKey))
      : new Uint8Array(sign('sha256', message, { key: this.#privateKey, dsaEncoding: 'ieee-p1363' }));
  }

  close(): void {}
}

function algorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new BriefcaseError('internal', `unsupported software key type ${key.asymmetricKeyType}`);
}

function publicJwkOf(key: KeyObject): PublicJwk {
  const jwk = createPublicKey(key).export({ format: 'jwk' }) as { x?: string; y?: string };
  if (!jwk.x) throw new BriefcaseError('internal', 'public key has no x');
  if (key.asymmetricKeyType === 'ed25519') return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  if (!jwk.y) throw new BriefcaseError('internal', 'P-256 public key has no y');
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

function aad(role: KeyRole): string {
  return `briefcase.key.v1:${role}`;
}
