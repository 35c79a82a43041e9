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

/** What a remote MCP tool is, beyond the name the agent calls it by (docs/remote-mcp.md). */
export interface RemoteToolIdentity {
  /** The remote server's configured name. */
  server: string;
  /** The tool's name as the server spells it, before it was made a valid `server.tool` name. */
  name: string;
  /** The hash of the tool's whole definition (`definitionHash`). */
  definition_hash: string;
}

/**
 * DESIGN.md §4: call_hash = sha256(JCS({tool, args})), hex. A remote MCP tool's call hash also
 * covers its identity, sha256(JCS({tool, args, remote: {server, name, definition_hash}})), so an
 * approval given for one remote tool can never be used by another one the server later presents
 * under the same `server.tool` name. The local form is unchanged (test/vectors). Throws JcsError
 * on input JCS cannot represent.
 */
export function callHash(tool: string, args: Record<string, unknown>, remote?: RemoteToolIdentity): string {
  if (!remote) return sha256Hex(canonicalize({ tool, args }));
  const { server, name, definition_hash } = remote;
  return sha256Hex(canonicalize({ tool, args, remote: { server, name, definition_hash } }));
}

export { bytesToHex, hexToBytes };
