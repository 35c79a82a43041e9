import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
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
  if (isJsonRpcMessage(value)) return { ok: true, message: value };
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

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean => typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));
const onlyKeys = (o: Obj, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));

/**
 * A JSON-RPC 2.0 message as MCP reads it: the SDK's JSONRPCMessageSchema (1.32.2, types.ts),
 * written out by hand so that the gateway need not load the SDK's zod schemas (issue 13: they
 * were ~20 MiB of every gateway's resident size). Request, notification, result or error; the
 * envelope is strict (no other keys), params and result are objects, `_meta.progressToken` is a
 * string or an integer.
 */
export function isJsonRpcMessage(v: unknown): v is JSONRPCMessage {
  if (!isObj(v) || v.jsonrpc !== '2.0') return false;
  if ('method' in v) {
    if (typeof v.method !== 'string') return false;
    if (v.params !== undefined && !(isObj(v.params) && metaOk(v.params._meta))) return false;
    return 'id' in v
      ? isId(v.id) && onlyKeys(v, ['jsonrpc', 'id', 'method', 'params'])
      : onlyKeys(v, ['jsonrpc', 'method', 'params']);
  }
  if ('result' in v)
    return isId(v.id) && isObj(v.result) && metaOk(v.result._meta) && onlyKeys(v, ['jsonrpc', 'id', 'result']);
  if ('error' in v) {
    const e = v.error;
    return (
      (v.id === undefined || isId(v.id)) &&
      isObj(e) &&
      Number.isSafeInteger(e.code) &&
      typeof e.message === 'string' &&
      onlyKeys(v, ['jsonrpc', 'id', 'error'])
    );
  }
  return false;
}

function metaOk(meta: unknown): boolean {
  if (meta === undefined) return true;
  if (!isObj(meta)) return false;
  return meta.progressToken === undefined || isId(meta.progressToken);
}
