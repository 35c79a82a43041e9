/**
 * What the command-tool suites (test/sandbox/command-tools*.test.ts) share: install a definition
 * with the real CLI, call a tool through the real gateway as an agent does, read its receipts,
 * and run small loopback HTTP servers that count what reaches them.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, receiptRecords } from '../../helpers.ts';

export interface CallOutcome {
  r: Awaited<ReturnType<Client['callTool']>>;
  text: string;
  /** The Briefcase error code, when the call failed with one. */
  code: string | undefined;
}

/** `briefcase tools add FILE --json` of a definition written to `work`; fails the test if refused. */
export function addCommandTool(home: string, work: string, definition: Record<string, unknown>) {
  const file = join(work, `${String(definition['name'])}.json`);
  writeFileSync(file, JSON.stringify(definition));
  const r = cli(home, ['tools', 'add', file, '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** One `tools/call` by the agent: the text it sees and the error code in `_meta`, if any. */
export async function callTool(agent: Client, name: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const r = await agent.callTool({ name, arguments: args });
  const text = (r.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
  const meta = (r._meta ?? {}) as Record<string, unknown>;
  return { r, text, code: (meta['dev.briefcase/error'] as { code?: string } | undefined)?.code };
}

/** The tool_call receipts of one tool, in order. */
export const toolReceipts = (home: string, tool: string) =>
  receiptRecords(home).filter((x) => x.kind === 'tool_call' && x.body['tool'] === tool);

export interface CountingServer {
  server: Server;
  port: number;
  readonly hits: number;
}

/** An HTTP server on 127.0.0.1 (a random free port) that counts the requests reaching it. */
export function countingServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<CountingServer> {
  return new Promise((resolve) => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      handler(req, res);
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        get hits() {
          return hits;
        },
      }),
    );
  });
}
