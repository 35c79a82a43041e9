import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalize } from './jcs.ts';

const encoder = new TextEncoder();

type NativeHash = {
  (algorithm: 'sha256', data: Uint8Array | string, encoding: 'buffer'): Uint8Array;
  (algorithm: 'sha256', data: Uint8Array | string, encoding: 'hex'): string;
};
/**
 * Node's one-shot `crypto.hash` where it exists, the same SHA-256 in JS elsewhere (the extension,
 * the signer page): this package imports no Node built-in. Issue 13: a receipt's hash of ~500
 * bytes costs 7.7 µs in @noble/hashes and 0.7 µs natively, and the daemon hashes three or four
 * such inputs per call (call hash, record hash, result hash). Both give the same bytes for the
 * same input (strings as UTF-8, lone surrogates as U+FFFD; crypto.test.ts checks them against
 * each other).
 */
const nativeHash = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => { hash?: NativeHash } | undefined } }
).process?.getBuiltinModule?.('node:crypto')?.hash;

/** SHA-256 in JavaScript: what `sha256` computes where Node's is not available (exported for tests). */
export function portableSha256(data: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof data === 'string' ? encoder.encode(data) : data);
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function sha256(data: Uint8Array | string): Uint8Array {
  if (!nativeHash) return portableSha256(data);
  // A plain Uint8Array of its own, as @noble/hashes returns (not a Buffer on a shared pool).
  return new Uint8Array(nativeHash('sha256', data, 'buffer'));
}

export function sha256Hex(data: Uint8Array | string): string {
  return nativeHash ? nativeHash('sha256', data, 'hex') : bytesToHex(portableSha256(data));
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
