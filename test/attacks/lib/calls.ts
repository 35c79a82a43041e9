import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { freePort, readJson, writeJson } from '../../helpers.ts';

/** A local upstream API that counts the requests that reached it, per path. */
export interface Upstream {
  port: number;
  hits: (path: string) => number;
  close: () => void;
}

export async function startUpstream(body = '{"done":true}'): Promise<Upstream> {
  const port = await freePort();
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, hits: (path) => counts.get(path) ?? 0, close: () => server.close() };
}

export interface ConnectorOptions {
  category?: 'read' | 'write' | 'payment';
  estimate?: number;
  currency?: string;
  sensitive?: string[];
  reads?: string;
  changes?: string;
}

/** An HTTP connector `name` that POSTs `{item, …}` to the upstream at `/<name>`. */
export function writeConnector(home: string, upstream: Upstream, name: string, o: ConnectorOptions = {}): void {
  const props: Record<string, unknown> = { item: { type: 'string' } };
  for (const s of o.sensitive ?? []) props[s] = { type: 'string' };
  writeJson(join(home, 'connectors', `${name}.json`), {
    kind: 'http',
    name,
    description: `test connector ${name}`,
    category: o.category ?? 'payment',
    input_schema: { type: 'object', properties: props, required: ['item'], additionalProperties: false },
    request: { method: 'POST', url: `http://127.0.0.1:${upstream.port}/${name}`, body_args: ['item'] },
    egress: [`127.0.0.1:${upstream.port}`],
    cost: { estimate: o.estimate ?? 1, currency: o.currency ?? 'USD' },
    ...(o.sensitive ? { sensitive_args: o.sensitive } : {}),
    ...(o.reads ? { reads: o.reads } : {}),
    ...(o.changes ? { changes: o.changes } : {}),
  });
}

/** Merge `patch` into the top-level sections of config.json. */
export function patchConfig(home: string, patch: Record<string, Record<string, unknown>>): void {
  const path = join(home, 'config.json');
  const config = readJson<Record<string, Record<string, unknown>>>(path);
  for (const [k, v] of Object.entries(patch)) config[k] = { ...config[k], ...v };
  writeJson(path, config);
}

export interface Outcome {
  code: string;
  text: string;
  approvalId: string | undefined;
  receipt: string | undefined;
}

/** What the agent saw: `ok`, or the stable error code the gateway put in `_meta`. */
export async function callAs(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  timeout = 120_000,
): Promise<Outcome> {
  const r = await client.callTool({ name, arguments: args }, undefined, { timeout });
  const meta = (r._meta ?? {}) as Record<string, unknown>;
  const error = meta['dev.briefcase/error'] as { code: string; approval_id?: string } | undefined;
  const content = (r.content ?? []) as { type: string; text?: string }[];
  return {
    code: error?.code ?? (r.isError ? 'tool_error' : 'ok'),
    text: content.map((c) => c.text ?? '').join('\n'),
    approvalId: error?.approval_id,
    receipt: meta['dev.briefcase/receipt'] as string | undefined,
  };
}

export function tally(outcomes: Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) t[o.code] = (t[o.code] ?? 0) + 1;
  return t;
}
