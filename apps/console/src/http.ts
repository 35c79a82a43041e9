import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error the console answers with: a stable code, a safe message, an HTTP status. */
export class ConsoleHttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ConsoleHttpError';
    this.status = status;
    this.code = code;
  }
}

/** Backend codes (BriefcaseError from @briefcase/protocol, plus presence_refused) → HTTP status. */
const STATUS: Record<string, number> = {
  bad_request: 400,
  invalid_args: 400,
  invalid_policy: 400,
  invalid_config: 400,
  unauthorized: 401,
  presence_refused: 403,
  forbidden: 403,
  denied: 403,
  not_found: 404,
  conflict: 409,
  approval_rejected: 409,
  tool_changed: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  vault_locked: 503,
  daemon_unreachable: 503,
};

export interface WireError {
  status: number;
  code: string;
  message: string;
}

/**
 * Only errors that carry a stable code are shown with their message: BriefcaseError messages are
 * written to be safe for the party that caused them. Anything else is `internal`, and its text
 * goes to the log only.
 */
export function toWireError(e: unknown): { wire: WireError; internal: boolean } {
  if (e instanceof ConsoleHttpError)
    return { wire: { status: e.status, code: e.code, message: e.message }, internal: false };
  if (e instanceof Error && e.name === 'BriefcaseError' && typeof (e as { code?: unknown }).code === 'string') {
    const code = (e as Error & { code: string }).code;
    return { wire: { status: STATUS[code] ?? 500, code, message: e.message }, internal: !(code in STATUS) };
  }
  return { wire: { status: 500, code: 'internal', message: 'internal error; see the daemon log' }, internal: true };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

export const MAX_BODY = 256 * 1024;

/**
 * A JSON object body. Content-Type must be application/json: an HTML form cannot send that
 * type, and a cross-origin fetch that sets it must pass a preflight, which the console refuses.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new ConsoleHttpError(413, 'payload_too_large', `body larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  if (size === 0) return {};
  if (type !== 'application/json') throw new ConsoleHttpError(415, 'bad_request', 'send the body as application/json');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConsoleHttpError(400, 'bad_request', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConsoleHttpError(400, 'bad_request', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function str(body: Record<string, unknown>, key: string, max = 4096): string {
  const v = body[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new ConsoleHttpError(400, 'bad_request', `"${key}" must be a non-empty string of at most ${max} characters`);
  }
  return v;
}

export function optStr(body: Record<string, unknown>, key: string, max = 4096): string | undefined {
  return body[key] === undefined ? undefined : str(body, key, max);
}

export function obj(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = body[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConsoleHttpError(400, 'bad_request', `"${key}" must be a JSON object`);
  }
  return v as Record<string, unknown>;
}
