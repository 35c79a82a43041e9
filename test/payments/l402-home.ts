/**
 * A Briefcase home that pays L402 from alice's LND on the regtest (test/lib/lnd-regtest.ts): the
 * daemon's `payments.l402` config, a pay-only macaroon in the vault, an l402 grant for bob, and
 * HTTP connectors on the L402 test server. Shared by the e2e test and the benchmark.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, cliJson, readJson, startDaemon, tempHome, writeJson, type DaemonProcess } from '../helpers.ts';
import type { Regtest } from '../lib/lnd-regtest.ts';

export interface L402Home {
  home: string;
  daemon: DaemonProcess;
  cleanup(): Promise<void>;
}

/** `connectors`: tool name → path on the server (`/forecast`, or `/free` for the unpaid twin). */
export async function l402Home(
  net: Regtest,
  serverUrl: string,
  priceMsat: string,
  connectors: Record<string, string> = { 'weather.get': '/forecast' },
): Promise<L402Home> {
  const { home, cleanup } = tempHome();
  // Least privilege (docs/payments-l402.md): this macaroon can pay and track payments, nothing else.
  const macaroon = (
    await net.alice.cliText(
      'bakemacaroon',
      'uri:/routerrpc.Router/SendPaymentV2',
      'uri:/routerrpc.Router/TrackPaymentV2',
    )
  ).trim();
  assert.equal(cli(home, ['init']).code, 0);
  const configPath = join(home, 'config.json');
  writeJson(configPath, {
    ...readJson<Record<string, unknown>>(configPath),
    payments: {
      rpc: {},
      l402: {
        rest_url: net.alice.restUrl,
        tls_cert_path: join(net.alice.dir, 'tls.cert'),
        macaroon_secret: '{{secret:payments.lnd.pay}}',
        network: 'bcrt',
      },
    },
  });
  const upstream = new URL(serverUrl);
  for (const [name, path] of Object.entries(connectors)) {
    writeJson(join(home, 'connectors', `${name}.json`), {
      kind: 'http',
      name,
      description: 'Weather for a city (a paid API: L402)',
      category: 'payment',
      input_schema: {
        type: 'object',
        properties: { city: { type: 'string', pattern: '^[a-z]{1,20}$' } },
        required: ['city'],
        additionalProperties: false,
      },
      request: { method: 'GET', url: `${upstream.origin}${path}/{city}`, timeout_ms: 120_000 },
      egress: [upstream.host],
      cost: { estimate: 1, currency: 'USD', payments: [{ network: 'lightning:bcrt', asset: 'msat', max: priceMsat }] },
    });
  }
  const daemon = await startDaemon(home);
  const set = cli(home, ['secrets', 'set', 'payments.lnd.pay'], `${macaroon}\n`);
  assert.equal(set.code, 0, set.stderr);
  const grant = cliJson(home, [
    ...['grants', 'create', '--rail', 'l402', '--network', 'lightning:bcrt', '--asset', 'msat'],
    ...['--total', '1000000000', '--payee', net.bob.pubkey, '--purpose', ...Object.keys(connectors).slice(0, 1)],
    ...['--velocity-count', '100000', '--window', '3600', '--expires', '1d'],
  ]);
  assert.equal(grant.code, 0, grant.stderr);
  return {
    home,
    daemon,
    cleanup: async () => {
      await daemon.stop();
      cleanup();
    },
  };
}
