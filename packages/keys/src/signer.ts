import type { PublicJwk } from '@briefcase/crypto';

/**
 * Separate keys for separate jobs (DESIGN.md §5): `identity` names this device, `receipts` signs
 * receipt checkpoints, `dpop` signs DPoP proofs to OAuth servers and providers.
 */
export type KeyRole = 'identity' | 'receipts' | 'dpop';
export const KEY_ROLES: readonly KeyRole[] = ['identity', 'receipts', 'dpop'];

/**
 * Every role with a key file, including `payment`: the secp256k1 wallet key (docs/payments.md).
 * The daemon never loads the payment key; only the payment-helper process opens it
 * (payment-key.ts), so it is not among the KEY_ROLES the daemon signs with.
 */
export type StoredRole = KeyRole | 'payment';

export type KeyAlgorithm = 'EdDSA' | 'ES256';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EdDSA', 'ES256'];

/**
 * Where keys can live. `software` and `pkcs11` (which covers TPM 2.0 through tpm2-pkcs11) are
 * built; macOS Secure Enclave and Windows CNG would slot in here but cannot be built or tested on
 * our machines, so they are only listed by `briefcase keys backends` as unavailable.
 */
export type KeyBackend = 'software' | 'pkcs11';

/**
 * The algorithm a new software key gets. DPoP defaults to ES256 because it is the one algorithm
 * every DPoP-capable authorization server accepts; EdDSA is smaller and faster elsewhere.
 */
export const DEFAULT_ALGORITHM: Record<KeyRole, KeyAlgorithm> = {
  identity: 'EdDSA',
  receipts: 'EdDSA',
  dpop: 'ES256',
};

export function isKeyRole(value: string): value is KeyRole {
  return (KEY_ROLES as readonly string[]).includes(value);
}

/**
 * A signing key, wherever it lives. Hardware backends (PKCS#11, TPM) implement the same shape and
 * report `nonExportable: true`; the software backend says plainly that it is exportable.
 */
export interface Signer {
  readonly role: StoredRole;
  readonly algorithm: KeyAlgorithm;
  readonly backend: KeyBackend;
  readonly nonExportable: boolean;
  readonly publicJwk: PublicJwk;
  /** RFC 7638 thumbprint of the public key; names the key in checkpoints. */
  readonly keyId: string;
  /** The JOSE-form signature of `message` (ES256: raw r‖s over its SHA-256). */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** Release what the key holds open (a token session); software keys hold nothing. */
  close(): void;
}
