import type { IncomingMessage } from 'node:http';
import type { ConsoleBackend } from './backend.ts';

export const VIEWER_PATHS = new Set(['/api/viewer/approvals', '/api/viewer/receipts']);

/**
 * The browser extension's read-only view. Authorized only by a viewer bearer token (never the
 * cookie); an Origin, when present, must be an extension's or the console's own, so a web page
 * that somehow got a token still cannot use it from its own origin.
 */
export function viewerOriginAllowed(req: IncomingMessage, consoleOrigin: string): boolean {
  const o = req.headers.origin;
  return o === undefined || o === consoleOrigin || /^chrome-extension:\/\/[a-p]{32}$/.test(o);
}

export async function viewerAnswer(path: string, backend: ConsoleBackend, consoleOrigin: string): Promise<unknown> {
  if (path === '/api/viewer/approvals') {
    return {
      console_url: consoleOrigin,
      approvals: backend.approvals('pending').map((a) => ({
        ...a,
        // Approving needs a passkey in the console itself: the extension opens this page.
        approve_url: `${consoleOrigin}/#/approvals/${encodeURIComponent(a.id)}`,
      })),
    };
  }
  const [receipts, verify] = await Promise.all([Promise.resolve(backend.receipts({ limit: 20 })), backend.verify()]);
  return { console_url: consoleOrigin, receipts, verify };
}
