import http from 'node:http';
import https from 'node:https';
import { pinnedLookup } from './connect.ts';

/**
 * Kept-alive connections for `checkedFetch` (issue 13). A connection per request cost the daemon
 * a TCP set-up and a new HTTP parser on every call to a remote MCP server over HTTP: with pooled
 * connections the daemon's CPU per remote call fell from ~1,620 to ~1,360 µs and the added p50
 * from 1.48 to 1.08 ms (docs/benchmarks.md, round 3).
 *
 * A pool is keyed by everything that decided where its connections go: scheme, host name, port,
 * the checked addresses the name resolved to for this request, and the trust anchors. The rules
 * are checked and the name resolved on every request before a pool is chosen, so a connection is
 * only ever reused for a request whose own check allowed that very address set; a resolver that
 * answers differently, or rules that no longer allow an address, lead to another pool or to a
 * refusal, never to an old connection.
 *
 * Idle connections close after `IDLE_MS`, below the 5 s keep-alive of Node's HTTP server and of
 * most others, so a request rarely meets a connection the server is closing. Such a request is
 * not retried (a POST may have been applied): it fails as a network error.
 */
const IDLE_MS = 4_000;
/** Pools kept (least recently used dropped first, its connections closed). */
const MAX_POOLS = 64;

const pools = new Map<string, http.Agent>();

export function pooledAgent(
  protocol: 'http:' | 'https:',
  host: string,
  port: number,
  addresses: Array<{ address: string; family: 4 | 6 }>,
  ca: string | undefined,
): http.Agent {
  const key = JSON.stringify([protocol, host, port, addresses.map((a) => a.address), ca ?? null]);
  const found = pools.get(key);
  if (found) {
    pools.delete(key);
    pools.set(key, found); // most recently used last
    return found;
  }
  const options = { keepAlive: true, timeout: IDLE_MS, lookup: pinnedLookup(addresses), ...(ca ? { ca } : {}) };
  const agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  pools.set(key, agent);
  if (pools.size > MAX_POOLS) {
    const [oldest, pool] = pools.entries().next().value!;
    pools.delete(oldest);
    pool.destroy();
  }
  return agent;
}

/** Close every pooled connection (the daemon's stop; tests). */
export function closeConnectionPools(): void {
  for (const pool of pools.values()) pool.destroy();
  pools.clear();
}
