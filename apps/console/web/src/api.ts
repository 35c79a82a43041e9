/**
 * The console's JSON API. The browser's only credential is the HttpOnly session cookie; state-
 * changing calls add the CSRF token from GET /api/session (the server also checks Origin).
 */
export interface SessionInfo {
  state: 'anonymous' | 'enrolling' | 'signed_in';
  csrf: string;
  expires_in: number;
  device_id: string;
  version: string;
  passkeys: number;
  credential_id: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let csrf = '';
const listeners = new Set<(s: SessionInfo | null) => void>();

/** Called when the server says the session is gone, so the app can show the sign-in page. */
export function onSessionChange(l: (s: SessionInfo | null) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function adoptSession(s: SessionInfo): SessionInfo {
  csrf = s.csrf;
  for (const l of listeners) l(s);
  return s;
}

let loading: Promise<SessionInfo> | undefined;

export function loadSession(): Promise<SessionInfo> {
  loading ??= request<SessionInfo>('GET', '/api/session')
    .then(adoptSession)
    .finally(() => (loading = undefined));
  return loading;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', cache: 'no-store' };
  if (method === 'POST') {
    // A page opened on a deep link (#/enrol/<token>) may act before the session has loaded.
    if (!csrf) await loadSession();
    init.headers = { 'content-type': 'application/json', 'x-briefcase-csrf': csrf };
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(res.status, 'bad_response', `the console answered ${res.status} without JSON`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    const err = new ApiError(res.status, e?.code ?? 'internal', e?.message ?? `request failed (${res.status})`);
    if (res.status === 401 && !path.startsWith('/api/session')) void loadSession().catch(() => undefined);
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);

export function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
