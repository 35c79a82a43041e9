/**
 * What the Briefcase adds to a call to a remote MCP server (remote MCP issue).
 *
 * Method: the same plain SDK echo server (`bench/plain-echo-server.ts`) is called (1) directly
 * by an SDK client, over stdio and over Streamable HTTP, and (2) as a remote server of the
 * Briefcase — client → `briefcase mcp` → briefcased → the server, on the daemon's pooled,
 * warm session (no reconnect per call). Sequential calls after a warm-up; overhead = through −
 * direct per percentile. Cold start: the time `briefcase remote add` takes for each of three
 * stdio servers (spawn, initialize, first tools/list), and in total.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, latency, round, startDaemon, type Target } from './lib.ts';

const echo = (i: number) => ({ text: `call ${i}` });
const SERVER = join(ROOT, 'bench/plain-echo-server.ts');

export async function run(log: (m: string) => void = () => {}) {
  const daemon = await startDaemon();
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const http = spawn(process.execPath, [SERVER, '--http', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((r) => http.stdout.once('data', () => r()));
  try {
    const cold: number[] = [];
    for (const name of ['one', 'two', 'three']) {
      const t = performance.now();
      const r = daemon.cli(['remote', 'add', name, '--stdio', '--', process.execPath, SERVER]);
      cold.push(round(performance.now() - t));
      if (r.status !== 0) throw new Error(`remote add ${name}: ${r.stderr}`);
    }
    const added = daemon.cli(['remote', 'add', 'web', '--url', `http://127.0.0.1:${port}/mcp`]);
    if (added.status !== 0) throw new Error(`remote add web: ${added.stderr}`);

    const viaBriefcase: Target = { command: process.execPath, args: [BIN, 'mcp'], env: daemon.env };
    log('remote: stdio direct…');
    const stdioDirect = await latency(
      { command: process.execPath, args: [SERVER], env: { PATH: daemon.env.PATH! } },
      'echo',
      echo,
    );
    log('remote: stdio through the Briefcase…');
    const stdioVia = await latency(viaBriefcase, 'one.echo', echo);
    log('remote: HTTP direct…');
    const httpDirect = await latency({ url: `http://127.0.0.1:${port}/mcp` }, 'echo', echo);
    log('remote: HTTP through the Briefcase…');
    const httpVia = await latency(viaBriefcase, 'web.echo', echo);
    const diff = (a: typeof stdioVia, b: typeof stdioVia) => ({
      p50: round(a.p50 - b.p50),
      p95: round(a.p95 - b.p95),
      p99: round(a.p99 - b.p99),
    });
    const stdioAdded = diff(stdioVia, stdioDirect);
    const httpAdded = diff(httpVia, httpDirect);
    return {
      benchmark: 'remote-overhead',
      latency_ms: {
        stdio: { direct: stdioDirect, briefcase: stdioVia, added: stdioAdded },
        http: { direct: httpDirect, briefcase: httpVia, added: httpAdded },
      },
      cold_start_ms: { per_server: cold, three_servers: round(cold.reduce((a, b) => a + b, 0)) },
      targets: {
        stdio_added_p50_le_2ms: stdioAdded.p50 <= 2,
        stdio_added_p99_le_8ms: stdioAdded.p99 <= 8,
        http_added_p50_le_2ms: httpAdded.p50 <= 2,
        http_added_p99_le_8ms: httpAdded.p99 <= 8,
      },
    };
  } finally {
    http.kill();
    await daemon.stop();
  }
}
