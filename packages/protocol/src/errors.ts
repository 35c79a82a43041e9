/**
 * Stable wire error codes (DESIGN.md §2). Callers switch on `code`; the agent sees the code and a
 * safe message, while the detailed reason goes to the receipt and the log only.
 */
export const ERROR_CODES = [
  'unknown_tool',
  'invalid_args',
  'tool_changed',
  'denied',
  'approval_required',
  'approval_rejected',
  'budget_exceeded',
  /** Too many approvals already wait for a person; they must be decided or expire first. */
  'rate_limited',
  'oauth_required',
  'payment_failed',
  'revoked',
  'sandbox_violation',
  'upstream_error',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes used by the daemon API and CLI that are not tool-call outcomes. */
export const API_ERROR_CODES = [
  'unauthorized',
  'forbidden',
  'not_found',
  'bad_request',
  'payload_too_large',
  'conflict',
  'invalid_policy',
  'invalid_config',
  'public_bind_forbidden',
  'port_in_use',
  'daemon_unreachable',
  'vault_locked',
  'receipts_altered',
  /** The change widens what an agent can do: a person must confirm it with a passkey (console). */
  'presence_required',
  /** A passkey assertion was refused: replayed, for something else, without UV, or unknown. */
  'presence_refused',
  /** The operating system refused: not root, or not in the group that owns the agent socket. */
  'permission_denied',
  /** The command needs something this machine lacks (systemd, Linux, useradd). */
  'unsupported_platform',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export type AnyErrorCode = ErrorCode | ApiErrorCode;

export function isErrorCode(value: unknown): value is AnyErrorCode {
  return (
    typeof value === 'string' &&
    ((ERROR_CODES as readonly string[]).includes(value) || (API_ERROR_CODES as readonly string[]).includes(value))
  );
}

/**
 * An error with a stable code and a message that is safe to show to the party that caused it.
 * `detail` is the internal reason: it goes to logs and receipts, never over the wire to the agent.
 * Serialisation is allow-listed so that a stray `cause` or property can never leak.
 */
export class BriefcaseError extends Error {
  readonly code: AnyErrorCode;
  readonly detail: string | undefined;

  constructor(code: AnyErrorCode, message: string, detail?: string) {
    super(message);
    this.name = 'BriefcaseError';
    this.code = code;
    this.detail = detail;
  }

  toJSON(): { code: AnyErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A validator's answer: no throwing for expected bad input (STYLE.md, "Errors and input"). */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
