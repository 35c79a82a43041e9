import type { PublicJwk } from '@briefcase/crypto';

/** Separate keys for separate jobs (DESIGN.md §5). More roles arrive with key custody. */
export type KeyRole = 'receipts' | 'dpop';

/**
 * A signing key, wherever it lives. Hardware backends (PKCS#11, TPM) implement the same shape and
 * report `nonExportable: true`; the software backend says plainly that it is exportable.
 */
export interface Signer {
  readonly role: KeyRole;
  readonly algorithm: 'EdDSA' | 'ES256';
  readonly backend: 'software' | 'pkcs11';
  readonly nonExportable: boolean;
  readonly publicJwk: PublicJwk;
  /** RFC 7638 thumbprint of the public key; names the key in checkpoints. */
  readonly keyId: string;
  /** The JOSE-form signature of `message` (ES256: raw r‖s over its SHA-256). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}
