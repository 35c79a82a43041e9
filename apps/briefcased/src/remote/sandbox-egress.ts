import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessManifest } from '@briefcase/protocol';
import { egressRules, startEgressProxy, type EgressProxy, type EgressViolation } from '@briefcase/egress';
import type { LaunchProxy } from './sandboxed-stdio.ts';

/** Inside the sandbox the bridge to the proxy listens on this loopback port (its own netns). */
export const BRIDGE_PORT = 3128;

/**
 * The egress proxy of one sandboxed stdio server: started on its first connection when its
 * manifest grants any network, on a Unix socket in `<data dir>/run/` (0700) that is bound into
 * the sandbox, and closed with the server. Every refusal goes to `onViolation`.
 */
export class ServerEgress {
  #proxy: Promise<EgressProxy> | undefined;
  readonly #socketPath: string;
  readonly onViolation: (v: EgressViolation) => void;

  constructor(dataDir: string, server: string, onViolation: (v: EgressViolation) => void) {
    this.onViolation = onViolation;
    const dir = join(dataDir, 'run');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#socketPath = join(dir, `egress-${server}.sock`);
  }

  /** The proxy for the sandbox's command line, or undefined when nothing is granted. */
  async forLaunch(access: AccessManifest): Promise<LaunchProxy | undefined> {
    if (access.isolation === 'none' || access.network.length === 0) return undefined;
    this.#proxy ??= (async () => {
      rmSync(this.#socketPath, { force: true });
      return startEgressProxy({
        listen: proxyListen(this.#socketPath),
        rules: egressRules(access),
        onViolation: (v) => this.onViolation(v),
      });
    })();
    return launchProxy(await this.#proxy);
  }

  async close(): Promise<void> {
    const proxy = this.#proxy;
    this.#proxy = undefined;
    await (await proxy?.catch(() => undefined))?.close();
  }
}

/**
 * Where a sandbox's egress proxy listens: a Unix socket (0600, in the 0700 run directory) bound
 * into the bubblewrap sandbox on Linux; on macOS, where the sandbox shares the host's network
 * stack, a TCP port on 127.0.0.1 that the generated profile alone lets it reach.
 */
export function proxyListen(socketPath: string): { path: string } | { host: '127.0.0.1'; port: number } {
  return process.platform === 'darwin' ? { host: '127.0.0.1', port: 0 } : { path: socketPath };
}

/** What the sandbox's command line needs to know of a started proxy. */
export function launchProxy(proxy: EgressProxy): LaunchProxy {
  if (proxy.socketPath) return { socketPath: proxy.socketPath, port: BRIDGE_PORT };
  return { tcpPort: Number(new URL(proxy.url).port) };
}
