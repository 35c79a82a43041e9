import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { x402Facilitator } from '@x402/core/facilitator';
import type { FacilitatorClient } from '@x402/core/server';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { registerExactEvmScheme as registerFacilitatorScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmScheme as ExactEvmServerScheme } from '@x402/evm/exact/server';
import { createWalletClient, http, publicActions, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import type { Chain } from './chain.ts';

/**
 * A paid MCP server as a provider would run it over x402's MCP transport
 * (specs/transports-v2/mcp.md): the official SDK's McpServer on Streamable HTTP, one read-only
 * tool `forecast` that answers `isError` + PaymentRequired (structuredContent and the
 * `x402/error` text) until a tools/call carries `_meta["x402/payment"]`, which it verifies and
 * settles through the reference facilitator on anvil, then answers with
 * `_meta["x402/payment-response"]`. `state.amount` is read on every call (a server that changes
 * its price); `state.askTwice` makes it take the payment and ask again.
 */
export interface McpUpstreamState {
  amount: bigint;
  askTwice: boolean;
}

export interface McpUpstream {
  url: string;
  state: McpUpstreamState;
  /** Calls that were paid (settled on chain) and served. */
  paid: () => number;
  /** Every EIP-3009 signature the server received in `_meta["x402/payment"]` (canaries). */
  signatures: string[];
  close(): Promise<void>;
}

export async function startX402McpUpstream(chain: Chain, payTo: Hex, amount: bigint): Promise<McpUpstream> {
  const wallet = createWalletClient({
    account: privateKeyToAccount(chain.facilitatorKey),
    transport: http(chain.rpcUrl),
  }).extend(publicActions);
  const facilitator = new x402Facilitator();
  registerFacilitatorScheme(facilitator, {
    signer: toFacilitatorEvmSigner(wallet as unknown as Parameters<typeof toFacilitatorEvmSigner>[0]),
    networks: chain.network as `${string}:${string}`,
  });
  const rs = new x402ResourceServer(facilitator as unknown as FacilitatorClient).register(
    chain.network as `${string}:${string}`,
    new ExactEvmServerScheme(),
  );
  await rs.initialize();
  const state: McpUpstreamState = { amount, askTwice: false };
  let paid = 0;
  const signatures: string[] = [];

  const resource = { url: 'mcp://tool/forecast', description: 'weather forecast', mimeType: 'application/json' };
  const requirements = () =>
    rs.buildPaymentRequirements({
      scheme: 'exact',
      network: chain.network as `${string}:${string}`,
      payTo,
      price: { asset: chain.token, amount: state.amount.toString(), extra: { name: chain.tokenName, version: '2' } },
      maxTimeoutSeconds: 120,
    });
  const askForPayment = async (accepts: PaymentRequirements[], error: string): Promise<CallToolResult> => {
    const required = await rs.createPaymentRequiredResponse(accepts, resource, error);
    return {
      isError: true,
      structuredContent: required as unknown as Record<string, unknown>,
      content: [
        { type: 'text', text: JSON.stringify({ 'x402/error': { code: 402, message: error, data: required } }) },
      ],
    };
  };

  const mcp = (): McpServer => {
    const server = new McpServer({ name: 'paid-weather', version: '1.0.0' });
    server.registerTool(
      'forecast',
      {
        description: 'the weather for a city (paid: x402)',
        inputSchema: { city: z.string() },
        annotations: { readOnlyHint: true },
      },
      async ({ city }, extra) => {
        const accepts = await requirements();
        const payment = extra._meta?.['x402/payment'] as PaymentPayload | undefined;
        if (!payment) return askForPayment(accepts, 'Payment required to access this resource');
        const signature = (payment.payload as { signature?: unknown }).signature;
        if (typeof signature === 'string') signatures.push(signature);
        const matched = rs.findMatchingRequirements(accepts, payment);
        if (!matched) return askForPayment(accepts, 'the payment does not match the price');
        const verified = await rs.verifyPayment(payment, matched);
        if (!verified.isValid) return askForPayment(accepts, `invalid payment: ${verified.invalidReason ?? '?'}`);
        const settled = await rs.settlePayment(payment, matched);
        if (!settled.success) return askForPayment(accepts, `settlement failed: ${settled.errorReason ?? '?'}`);
        paid++;
        if (state.askTwice) return askForPayment(accepts, 'Payment required to access this resource');
        return {
          content: [{ type: 'text', text: `sunny in ${city}` }],
          _meta: { 'x402/payment-response': settled as unknown as Record<string, unknown> },
        };
      },
    );
    return server;
  };

  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const httpServer: Server = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      await mcp().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    state,
    paid: () => paid,
    signatures,
    close: () =>
      new Promise((r) => {
        httpServer.closeAllConnections();
        httpServer.close(() => r());
      }),
  };
}
