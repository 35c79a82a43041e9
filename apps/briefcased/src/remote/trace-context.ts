import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The W3C traceparent of the call a request to a remote MCP server belongs to. The session's
 * Streamable HTTP transport is shared by every call, so the header cannot be set on the
 * transport: the call runs inside `withTraceparent`, and the transport's fetch reads it back.
 */
const current = new AsyncLocalStorage<string>();

export function withTraceparent<T>(traceparent: string | undefined, run: () => Promise<T>): Promise<T> {
  return traceparent ? current.run(traceparent, run) : run();
}

/** A fetch that adds the current call's `traceparent` header, if there is one. */
export function tracedFetch(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const traceparent = current.getStore();
    if (!traceparent) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set('traceparent', traceparent);
    return fetch(input, { ...init, headers });
  };
}
