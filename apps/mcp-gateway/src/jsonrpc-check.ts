import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { jsonDepthExceeds } from '@briefcase/protocol/json-depth';

/**
 * How deep a JSON-RPC message may nest. Generous for any real MCP message; far below where the
 * gateway's own JSON.stringify (recursive) would overflow its stack, which is what hostile
 * nesting of a few thousand levels used to do. Tool arguments have a tighter limit in the daemon
 * (64 levels), which answers with a receipted `invalid_args`.
 */
export const MAX_MESSAGE_DEPTH = 1000;

type RequestId = string | number;

export type Inspection =
  { ok: true; message: JSONRPCMessage } | { ok: false; id: RequestId | null; code: -32700 | -32600; reason: string };

/**
 * One line (stdio) or one body element (HTTP) from the agent, checked before the SDK sees it.
 * Every message gets an outcome: valid, or a JSON-RPC error to answer with. JSON-RPC 2.0 §5:
 * the error carries the request's id when it could be read, else null. MCP (basic, "Requests"):
 * a request id is a string or an integer, never null; so `id: null`, objects, fractions and
 * booleans are invalid requests (-32600), not messages to drop in silence.
 */
export function inspectText(text: string): Inspection {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, id: null, code: -32700, reason: 'parse error: the message is not valid JSON' };
  }
  // JSON.parse is iterative and safe on deep input; the depth check comes after it so that the
  // error can still carry the request's id.
  if (jsonDepthExceeds(text, MAX_MESSAGE_DEPTH)) {
    return {
      ok: false,
      id: idOf(value),
      code: -32600,
      reason: `invalid request: the message nests deeper than ${MAX_MESSAGE_DEPTH} levels`,
    };
  }
  return inspectValue(value);
}

export function inspectValue(value: unknown): Inspection {
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data as JSONRPCMessage };
  const m = value as { id?: unknown } | null;
  const badId = m !== null && typeof m === 'object' && 'id' in m && idOf(m) === null;
  return {
    ok: false,
    id: idOf(value),
    code: -32600,
    reason: badId
      ? 'invalid request: "id" must be a string or an integer (MCP does not allow null)'
      : 'invalid request: expected a JSON-RPC 2.0 message ("jsonrpc":"2.0" and a method, or a response)',
  };
}

/** The request id to answer with, when the message has a valid one. */
export function idOf(value: unknown): RequestId | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return null;
}

export function errorMessage(id: RequestId | null, code: number, reason: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message: reason } });
}
