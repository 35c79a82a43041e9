import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { BriefcaseError, jsonDepthExceeds, type AnyErrorCode } from '@briefcase/protocol';
import { viewText, WITHHELD_MESSAGE } from './agent-view.ts';
import { ByteBuffer } from './byte-buffer.ts';

const STATUS: Partial<Record<AnyErrorCode, number>> = {
  unauthorized: 401,
  forbidden: 403,
  presence_required: 403,
  presence_refused: 403,
  not_found: 404,
  bad_request: 400,
  invalid_policy: 400,
  invalid_config: 400,
  payload_too_large: 413,
  conflict: 409,
  unavailable: 503,
  vault_locked: 503,
  internal: 500,
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Agent responses pass the output firewall here (agent-view.ts); a withheld body is an error.
  let text = viewText(res, body);
  if (text === undefined) {
    status = 500;
    text = JSON.stringify({ error: { code: 'internal', message: WITHHELD_MESSAGE } });
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: BriefcaseError): void {
  sendJson(res, STATUS[error.code] ?? 400, { error: { code: error.code, message: error.message } });
}

/**
 * How deep any request body may nest. Above the gateway's JSON-RPC framing limit (so whatever the
 * gateway forwards gets here and is receipted), far below what recursive code could choke on.
 */
export const MAX_BODY_DEPTH = 1024;

/** Read a JSON body up to `limit` bytes; oversize, bad JSON and schema errors are 4xx with a reason. */
export async function readJson<T extends z.ZodType>(
  req: IncomingMessage,
  limit: number,
  schema: T,
): Promise<z.infer<T>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new BriefcaseError('payload_too_large', `request body is ${declared} bytes; the limit is ${limit}`);
  }
  const text = await readBody(req, limit);
  if (jsonDepthExceeds(text, MAX_BODY_DEPTH)) {
    throw new BriefcaseError('bad_request', `request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text || '{}');
  } catch (e) {
    throw new BriefcaseError('bad_request', `request body is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw new BriefcaseError('bad_request', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The body as text, with listeners rather than `for await`: the stream's async iterator cost
 * ~25 µs of the daemon's main thread per call (issue 13, docs/benchmarks.md). The bytes are copied
 * into one growing buffer, not kept as the chunks they came in (byte-buffer.ts: a body sent a byte
 * per read would cost ~250 bytes of memory per byte). Over `limit` the rest of the body is
 * discarded unread, so the 413 answer still reaches the client.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = new ByteBuffer();
    const done = (error?: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (error) reject(error);
      else resolve(body.take().toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      if (body.length + chunk.length <= limit) return void body.append(chunk);
      done(new BriefcaseError('payload_too_large', `request body is over the ${limit}-byte limit`));
      req.resume();
    };
    const onEnd = () => done();
    const onClose = () => done(new Error('the request was closed before its body ended'));
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}
