import { z } from 'zod';

/**
 * What passes between the extension and the native host. The extension may ask for one thing: a
 * viewer session. The host answers with exactly the three fields below, whatever else the daemon
 * said: an allow-list, so that nothing the daemon adds later (and never the admin token) reaches
 * the browser by accident.
 */
export const HostRequest = z.object({ type: z.literal('session') }).strict();
export type HostRequest = z.infer<typeof HostRequest>;

/** The console is reached on loopback only; a session pointing anywhere else is refused. */
const LoopbackHttpUrl = z
  .string()
  .max(200)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) && u.port !== '';
    } catch {
      return false;
    }
  }, 'not an http URL on localhost with a port');

/** The daemon's answer to POST /v1/admin/console/viewer-session; unknown keys are dropped. */
export const ViewerSession = z.object({
  token: z
    .string()
    .min(16)
    .max(512)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII'),
  expires_at: z.iso.datetime({ offset: true }),
  console_url: LoopbackHttpUrl,
});
export type ViewerSession = z.infer<typeof ViewerSession>;

export const HOST_ERROR_CODES = [
  /** The caller is not the Briefcase extension (argv[1] is another origin). */
  'forbidden_origin',
  /** Not a JSON object we understand, or not UTF-8 JSON at all. */
  'bad_message',
  'unknown_type',
  /** Over MAX_INCOMING bytes. */
  'too_large',
  /** The data directory has no admin.token: `briefcase init` has not run. */
  'not_initialised',
  /** admin.token exists but this user cannot read it (a dedicated service user owns the data directory). */
  'no_access',
  'daemon_unreachable',
  /** The daemon refused or failed; the message is the daemon's safe message. */
  'daemon_error',
  /** The daemon answered something that is not a viewer session (or handed back the admin token). */
  'bad_daemon_answer',
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

export class HostError extends Error {
  readonly code: HostErrorCode;
  constructor(code: HostErrorCode, message: string) {
    super(message);
    this.name = 'HostError';
    this.code = code;
  }
}

export type HostAnswer =
  ({ type: 'session' } & ViewerSession) | { type: 'error'; error: { code: HostErrorCode; message: string } };

export const errorAnswer = (code: HostErrorCode, message: string): HostAnswer => ({
  type: 'error',
  error: { code, message },
});

/** A message from the extension: a request we serve, or the error to answer with. */
export function parseRequest(value: unknown): { ok: true; value: HostRequest } | { ok: false; answer: HostAnswer } {
  const parsed = HostRequest.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && type !== 'session') {
    return { ok: false, answer: errorAnswer('unknown_type', 'the host answers {"type":"session"} only') };
  }
  return { ok: false, answer: errorAnswer('bad_message', 'expected {"type":"session"}') };
}
