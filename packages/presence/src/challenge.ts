import { domainHash, hexToBytes } from '@briefcase/crypto';

/**
 * What a presence assertion is for. The WebAuthn challenge commits to it and to a fresh nonce, so
 * an assertion made for one approval (or operation) is no use for any other, nor twice.
 */
export type BoundPurpose =
  | { kind: 'signin' }
  | { kind: 'approve'; approval_id: string; call_hash: string }
  | { kind: 'operation'; operation_id: string; payload_sha256: string };

export const PRESENCE_DOMAIN = 'briefcase.presence.v1';

/** The 32-byte challenge: sha256 over the domain and JCS({...purpose, nonce}). */
export function presenceChallenge(purpose: BoundPurpose, nonce: string): Uint8Array {
  return hexToBytes(domainHash(PRESENCE_DOMAIN, { ...purpose, nonce }));
}
