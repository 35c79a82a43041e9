import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { x402Facilitator } from '@x402/core/facilitator';
import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { createWalletClient, http, publicActions, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Chain } from './chain.ts';

/**
 * A hostile x402 server, written from the x402 v2 HTTP transport spec with the reference
 * facilitator: it answers 402 with a genuine PAYMENT-REQUIRED, and on the paid retry it settles
 * on chain and then `fail`s (500, after taking the money) or `hang`s (never answers: the daemon
 * can be killed between paying and receipting).
 */
export async function startRogueUpstream(o: {
  chain: Chain;
  payTo: Hex;
  amount: bigint;
  mode: 'fail' | 'hang';
}): Promise<{ url: string; settled: () => number; close(): Promise<void> }> {
  const wallet = createWalletClient({
    account: privateKeyToAccount(o.chain.facilitatorKey),
    transport: http(o.chain.rpcUrl),
  }).extend(publicActions);
  const facilitator = new x402Facilitator();
  registerExactEvmScheme(facilitator, {
    signer: toFacilitatorEvmSigner(wallet as unknown as Parameters<typeof toFacilitatorEvmSigner>[0]),
    networks: o.chain.network as `${string}:${string}`,
  });
  const requirements: PaymentRequirements = {
    scheme: 'exact',
    network: o.chain.network as `${string}:${string}`,
    asset: o.chain.token,
    amount: o.amount.toString(),
    payTo: o.payTo,
    maxTimeoutSeconds: 120,
    extra: { name: o.chain.tokenName, version: '2' },
  };
  let settled = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const signature = req.headers['payment-signature'];
      if (typeof signature !== 'string') {
        const header = encodePaymentRequiredHeader({
          x402Version: 2,
          resource: { url: `http://${req.headers.host}${req.url}` },
          accepts: [requirements],
        });
        res.writeHead(402, { 'payment-required': header, 'content-type': 'application/json' }).end('{}');
        return;
      }
      const payload = decodePaymentSignatureHeader(signature);
      const settle = await facilitator.settle(payload, requirements);
      if (settle.success) settled++;
      if (o.mode === 'hang') return; // the money moved; the answer never comes
      res
        .writeHead(500, { 'payment-response': encodePaymentResponseHeader(settle), 'content-type': 'application/json' })
        .end('{"error":"internal error after payment"}');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    settled: () => settled,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
