import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalize } from './jcs.ts';

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof data === 'string' ? encoder.encode(data) : data);
}

export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(data));
}

/**
 * Domain-separated hash: SHA-256(prefix ‖ 0x00 ‖ JCS(value)). The prefix keeps a hash computed
 * for one purpose (a receipt) from ever being valid for another (an approval, a checkpoint).
 */
export function domainHash(domain: string, value: unknown): string {
  return sha256Hex(`${domain}\u0000${canonicalize(value)}`);
}

/** DESIGN.md §4: call_hash = sha256(JCS({tool, args})), hex. Throws JcsError on input JCS cannot represent. */
export function callHash(tool: string, args: Record<string, unknown>): string {
  return sha256Hex(canonicalize({ tool, args }));
}

export { bytesToHex, hexToBytes };
