/**
 * The entry point `@modelcontextprotocol/conformance client --suite auth` runs:
 * `node packages/oauth/bin/conformance-client.ts <server-url>`. It connects to the server with the
 * Briefcase's OAuth provider, completes authorization when asked, and lists and calls a tool.
 *
 * The suite's authorization server approves at once and redirects to our redirect URI; with no
 * browser here, this client follows the authorization URL itself and reads the code from the
 * redirect — what the daemon's loopback listener does when a person has approved in a browser.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { BriefcaseOAuthProvider, MemoryOAuthStore } from '../src/index.ts';

const serverUrl = new URL(process.argv[2] ?? '');
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Record<string, string>;
const redirectUrl = 'http://127.0.0.1:53682/callback';
let authorizationCode: string | undefined;

const provider = new BriefcaseOAuthProvider({
  redirectUrl,
  // A client ID metadata document URL (the Briefcase's, when it publishes one).
  clientMetadataUrl:
    process.env.BRIEFCASE_CLIENT_METADATA_URL ?? 'https://briefcase.invalid/oauth/client-metadata.json',
  store: new MemoryOAuthStore(),
  ...(context.client_id
    ? {
        preRegistered: {
          client_id: context.client_id,
          ...(context.client_secret ? { client_secret: context.client_secret } : {}),
        },
      }
    : {}),
  onAuthorizationUrl: async (url) => {
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) throw new Error(`the authorization endpoint answered ${res.status} without a redirect`);
    const back = new URL(location);
    if (!provider.checkState(back.searchParams.get('state'))) throw new Error('state mismatch on the redirect');
    authorizationCode = back.searchParams.get('code') ?? undefined;
  },
});

let transport: StreamableHTTPClientTransport;

/** Connect; when the server asks for authorization, complete it and connect again. */
async function connect(): Promise<Client> {
  const client = new Client({ name: 'briefcase-conformance', version: '0.1.0' });
  transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
  try {
    await client.connect(transport);
    return client;
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    await finish();
    return connect();
  }
}

async function finish(): Promise<void> {
  if (!authorizationCode) throw new Error('authorization was required but produced no code');
  const code = authorizationCode;
  authorizationCode = undefined;
  await transport.finishAuth(code);
}

let client = await connect();

/** Run an operation; after an authorization it asked for (401, or 403 step-up), run it again. */
async function withReauth<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    await finish();
    await client.close();
    client = await connect();
    return fn(client);
  }
}

const { tools } = await withReauth((c) => c.listTools());
if (tools[0]) await withReauth((c) => c.callTool({ name: tools[0]!.name, arguments: {} }));
await client.close();
