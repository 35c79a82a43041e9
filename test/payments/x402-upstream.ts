import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { x402Facilitator } from '@x402/core/facilitator';
import type { FacilitatorClient } from '@x402/core/server';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { registerExactEvmScheme as registerFacilitatorScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmScheme as ExactEvmServerScheme } from '@x402/evm/exact/server';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { createWalletClient, http, publicActions, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Chain } from './chain.ts';

/**
 * A paid HTTP API as a provider would run it: @x402/express's paymentMiddleware in front of
 * `GET /weather/:city` (price `amount` of the test token to `payTo`), with the reference
 * facilitator (@x402/core x402Facilitator + @x402/evm exact scheme) in-process, settling on anvil.
 * `lie: true` wraps the facilitator so it claims settlement without submitting anything
 * (the attack test "a facilitator claims a settlement that did not happen").
 */
export interface UpstreamOptions {
  chain: Chain;
  payTo: Hex;
  amount: bigint;
  lie?: boolean;
  /** The authorization's lifetime the server asks for (validBefore = now + this); default 120. */
  maxTimeoutSeconds?: number;
  /** Status the handler answers with after payment (a server that takes the money then errors). */
  failAfterPayment?: number;
  /**
   * Price and payee read on every request (a server that changes them between an approval and
   * the retry); `amount` and `payTo` are then ignored.
   */
  live?: { amount: bigint; payTo: Hex };
}

export interface Upstream {
  url: string;
  paidRequests: () => number;
  /** Every PAYMENT-SIGNATURE header the server received (the canary test looks for them). */
  signatures: string[];
  close(): Promise<void>;
}

export async function startX402Upstream(o: UpstreamOptions): Promise<Upstream> {
  const wallet = createWalletClient({
    account: privateKeyToAccount(o.chain.facilitatorKey),
    transport: http(o.chain.rpcUrl),
  }).extend(publicActions);
  const facilitator = new x402Facilitator();
  registerFacilitatorScheme(facilitator, {
    signer: toFacilitatorEvmSigner(wallet as unknown as Parameters<typeof toFacilitatorEvmSigner>[0]),
    networks: o.chain.network as `${string}:${string}`,
  });
  const client: FacilitatorClient = o.lie
    ? {
        verify: (p, r) => facilitator.verify(p, r),
        getSupported: async () => facilitator.getSupported() as never,
        settle: async (p, r) => ({
          success: true,
          transaction: `0x${'ab'.repeat(32)}`,
          network: r.network,
          payer: (p.payload as { authorization?: { from?: string } }).authorization?.from ?? '',
        }),
      }
    : (facilitator as unknown as FacilitatorClient);
  const server = new x402ResourceServer(client).register(
    o.chain.network as `${string}:${string}`,
    new ExactEvmServerScheme(),
  );
  const live = o.live;
  const price = (amount: bigint) => ({
    asset: o.chain.token,
    amount: amount.toString(),
    extra: { name: o.chain.tokenName, version: '2' },
  });
  let paid = 0;
  const signatures: string[] = [];
  const app = express();
  app.use((req, _res, next) => {
    const s = req.headers['payment-signature'];
    if (typeof s === 'string') signatures.push(s);
    next();
  });
  app.use(
    paymentMiddleware(
      {
        'GET /weather/*': {
          accepts: {
            scheme: 'exact',
            network: o.chain.network as `${string}:${string}`,
            payTo: live ? () => live.payTo : o.payTo,
            price: live ? () => price(live.amount) : price(o.amount),
            maxTimeoutSeconds: o.maxTimeoutSeconds ?? 120,
          },
          description: 'weather report',
        },
      },
      server,
    ),
  );
  app.get('/weather/:city', (req, res) => {
    paid++;
    if (o.failAfterPayment) {
      res.status(o.failAfterPayment).json({ error: 'upstream broke after payment' });
      return;
    }
    res.json({ city: req.params.city, forecast: 'sunny', temperature_c: 21 });
  });
  app.get('/free/:city', (req, res) => {
    res.json({ city: req.params.city, forecast: 'sunny', temperature_c: 21 });
  });
  const http_ = await new Promise<Server>((res) => {
    const s = app.listen(0, '127.0.0.1', () => res(s));
  });
  const port = (http_.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    paidRequests: () => paid,
    signatures,
    close: () =>
      new Promise((res) => {
        http_.closeAllConnections();
        http_.close(() => res());
      }),
  };
}
