import type { Ed25519PublicJwk } from '@briefcase/crypto';

/** Separate keys for separate jobs (DESIGN.md §5). More roles arrive with key custody. */
export type KeyRole = 'receipts' | 'dpop';

/**
 * A signing key, wherever it lives. Hardware backends (PKCS#11, TPM) implement the same shape and
 * report `nonExportable: true`; the software backend says plainly that it is exportable.
 */
export interface Signer {
  readonly role: KeyRole;
  readonly algorithm: 'EdDSA';
  readonly backend: 'software';
  readonly nonExportable: boolean;
  readonly publicJwk: Ed25519PublicJwk;
  /** RFC 7638 thumbprint of the public key; names the key in checkpoints. */
  readonly keyId: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}
