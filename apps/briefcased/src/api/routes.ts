import type { IncomingMessage, ServerResponse } from 'node:http';

export type Role = 'agent' | 'admin';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  role: Role;
  signal: AbortSignal;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: RegExp;
  /** Who may call it. Admin routes refuse the agent token with 403. */
  role: Role | 'any';
  handle(ctx: RouteContext): Promise<void> | void;
}

export function matchRoute(
  routes: Route[],
  method: string,
  pathname: string,
): { route: Route; params: string[] } | 'method' | null {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.path.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return pathMatched ? 'method' : null;
}
