/**
 * The real gateway (`briefcase mcp`) driven byte by byte, for attacks the official SDK client
 * refuses to send (null ids, hostile nesting its own serializer would choke on).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN } from '../../helpers.ts';

export interface RawGateway {
  proc: ChildProcessWithoutNullStreams;
  send(line: string | object): void;
  /** The next message the gateway writes whose id equals `id` (JSON-RPC ids: null included). */
  reply(id: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function rawStdioGateway(home: string): Promise<RawGateway> {
  const proc = spawn(process.execPath, [BIN, 'mcp'], {
    env: { PATH: process.env.PATH ?? '', BRIEFCASE_HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const seen: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) seen.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    }
  });
  proc.stderr.resume();
  const gw: RawGateway = {
    proc,
    send: (line) => proc.stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`),
    async reply(id, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = seen.findIndex((m) => 'id' in m && m.id === id && ('result' in m || 'error' in m));
        if (i !== -1) return seen.splice(i, 1)[0]!;
        if (proc.exitCode !== null)
          throw new Error(`gateway exited (${proc.exitCode}) before answering id ${String(id)}`);
        if (Date.now() > deadline) throw new Error(`no answer for id ${JSON.stringify(id)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    async close() {
      proc.stdin.end();
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
  gw.send({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-agent', version: '1' } },
  });
  await gw.reply('init');
  gw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return gw;
}

/** `depth` nested arrays around an empty one, as JSON text (built without recursion). */
export function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** The same nesting as a value (JSON.parse is iterative in V8). */
export function nestedValue(depth: number): unknown {
  return JSON.parse(nested(depth));
}
