import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { freePort, receiptRecords, writeJson } from '../../helpers.ts';

/**
 * A local upstream API that records every JSON body it receives (so a test can tell a denied
 * call never left the daemon), and HTTP connectors whose schema accepts any JSON type for one
 * argument, as a hand-written connector easily does (`"amount": {}`).
 */
export interface Upstream {
  server: Server;
  port: number;
  bodies: Record<string, unknown>[];
}

export async function startUpstream(): Promise<Upstream> {
  const port = await freePort();
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      bodies.push({ path: req.url, ...(JSON.parse(text || '{}') as Record<string, unknown>) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port, bodies };
}

/** An HTTP connector `name` taking one untyped argument `arg`, posting it to the upstream. */
export function looseConnector(home: string, port: number, name: string, arg: string, category = 'write'): void {
  writeJson(join(home, 'connectors', `${name}.json`), {
    kind: 'http',
    name,
    description: `Sends ${arg} upstream (its schema takes any JSON type)`,
    category,
    input_schema: {
      type: 'object',
      properties: { [arg]: {}, memo: { type: 'string' } },
      required: [arg],
      additionalProperties: false,
    },
    request: { method: 'POST', url: `http://127.0.0.1:${port}/${name}`, body_args: [arg, 'memo'] },
    egress: [`127.0.0.1:${port}`],
  });
}

export interface CallOutcome {
  isError: boolean;
  code: string | undefined;
  receipt: string | undefined;
}

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const r = await client.callTool({ name, arguments: args });
  const meta = (r._meta ?? {}) as Record<string, unknown>;
  return {
    isError: r.isError === true,
    code: (meta['dev.briefcase/error'] as { code?: string } | undefined)?.code,
    receipt: meta['dev.briefcase/receipt'] as string | undefined,
  };
}

export type ReceiptRecord = ReturnType<typeof receiptRecords>[number];

/** The receipt a call's result names (`r<seq>-<hash>`), from the exported log. */
export function receiptFor(records: ReceiptRecord[], receiptId: string | undefined): ReceiptRecord | undefined {
  const seq = Number(/^r(\d+)-/.exec(receiptId ?? '')?.[1]);
  return records.find((r) => r.seq === seq);
}
