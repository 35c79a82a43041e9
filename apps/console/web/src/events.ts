import { useEffect } from 'react';

type Kind = 'approval' | 'operation' | 'passkeys';

/**
 * Live changes from GET /api/events (Server-Sent Events). The event carries an id and a status;
 * the page re-fetches the details. EventSource reconnects by itself; if the session has ended the
 * server answers 401 and the app shows sign-in on its next request.
 */
export function useEvents(kinds: Kind[], onEvent: (kind: Kind, data: { id?: string; status?: string }) => void): void {
  useEffect(() => {
    const source = new EventSource('/api/events');
    const handlers = kinds.map((k) => {
      const h = (e: MessageEvent<string>) => {
        try {
          onEvent(k, JSON.parse(e.data) as { id?: string; status?: string });
        } catch {
          onEvent(k, {});
        }
      };
      source.addEventListener(k, h);
      return [k, h] as const;
    });
    return () => {
      for (const [k, h] of handlers) source.removeEventListener(k, h);
      source.close();
    };
    // The listener list is fixed for the page's life.
  }, []);
}
