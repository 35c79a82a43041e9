import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createWalletClient, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { cli, cliJson, readJson, startDaemon, tempHome, writeJson, type DaemonProcess } from '../helpers.ts';
import { TOKEN_ABI, type Chain } from './chain.ts';

/** A Briefcase home set up to pay x402 on the test chain: wallet funded, a connector per upstream. */
export interface PayingHome {
  home: string;
  wallet: Hex;
  daemon: DaemonProcess;
  cleanup(): Promise<void>;
}

export interface ConnectorSpec {
  name: string;
  upstream: string;
  /** Declared payment maximum for the token (atomic units); omitted: none declared. */
  max?: string;
  path?: string;
  /** The token's decimals, declared with `max` (what a payment approval shows). */
  decimals?: number;
  /** Default `payment`; `write` needs a call approval under the default policy. */
  category?: string;
}

/**
 * `walletArgs`: the CLI command that makes the wallet (default the software alias; a test of a
 * token passes `keys create --role payment --backend pkcs11 …`). It prints `{address}` with --json.
 */
export async function payingHome(
  chain: Chain,
  connectors: ConnectorSpec[],
  fund = 10_000_000n,
  walletArgs: string[] = ['payments', 'wallet-create'],
): Promise<PayingHome> {
  const { home, cleanup } = tempHome();
  assert.equal(cli(home, ['init']).code, 0);
  const configPath = join(home, 'config.json');
  const config = readJson(configPath);
  writeJson(configPath, { ...config, payments: { rpc: { [chain.network]: chain.rpcUrl } } });
  for (const c of connectors) writeConnector(home, chain, c);
  const daemon = await startDaemon(home);
  const created = cliJson<{ address: Hex }>(home, walletArgs);
  assert.equal(created.code, 0, created.stderr);
  const wallet = created.json.address;
  const funder = createWalletClient({
    account: privateKeyToAccount(chain.facilitatorKey),
    transport: http(chain.rpcUrl),
  });
  await funder.writeContract({
    address: chain.token,
    abi: TOKEN_ABI,
    functionName: 'transfer',
    args: [wallet, fund],
    chain: null,
  });
  for (let i = 0; i < 200 && (await chain.balanceOf(wallet)) < fund; i++) await new Promise((r) => setTimeout(r, 50));
  const h: PayingHome = {
    home,
    wallet,
    daemon,
    // The daemon a test restarted is the one stopped (h.daemon, not the first).
    cleanup: async () => {
      await h.daemon.stop();
      cleanup();
    },
  };
  return h;
}

export function writeConnector(home: string, chain: Chain, c: ConnectorSpec): void {
  const url = new URL(c.upstream);
  writeJson(join(home, 'connectors', `${c.name}.json`), {
    kind: 'http',
    name: c.name,
    description: 'Weather for a city (a paid API: x402)',
    category: c.category ?? 'payment',
    input_schema: {
      type: 'object',
      properties: { city: { type: 'string', pattern: '^[a-z]{1,20}$' } },
      required: ['city'],
      additionalProperties: false,
    },
    request: { method: 'GET', url: `${c.upstream}${c.path ?? '/weather'}/{city}`, timeout_ms: 60_000 },
    egress: [url.host],
    cost: {
      estimate: 25,
      currency: 'USD',
      ...(c.max
        ? {
            payments: [
              {
                network: chain.network,
                asset: chain.token.toLowerCase(),
                max: c.max,
                ...(c.decimals !== undefined ? { decimals: c.decimals } : {}),
              },
            ],
          }
        : {}),
    },
  });
}

export interface GrantFlags {
  total?: string;
  payee: string;
  purpose?: string;
  count?: number;
  window?: number;
  velocityAmount?: string;
  expires?: string;
  asset?: string;
  /** Payments above this need a person's approval (`--approval-above`). */
  approvalAbove?: string;
  /** More payees on the allowlist. */
  morePayees?: string[];
}

export function createGrant(home: string, chain: Chain, g: GrantFlags): string {
  const r = cliJson<{ grant: { grantId: string } }>(home, [
    'grants',
    'create',
    '--network',
    chain.network,
    '--asset',
    g.asset ?? chain.token,
    '--total',
    g.total ?? '1000000',
    '--payee',
    g.payee,
    '--purpose',
    g.purpose ?? 'weather.get',
    '--velocity-count',
    String(g.count ?? 100),
    '--window',
    String(g.window ?? 3600),
    ...(g.velocityAmount ? ['--velocity-amount', g.velocityAmount] : []),
    ...(g.approvalAbove ? ['--approval-above', g.approvalAbove] : []),
    ...(g.morePayees ?? []).flatMap((p) => ['--payee', p]),
    '--expires',
    g.expires ?? '1d',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.json.grant.grantId;
}
