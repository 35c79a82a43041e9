/**
 * What the Briefcase adds to a call to a remote MCP server (remote MCP issue).
 *
 * Method: the same plain SDK echo server (`bench/plain-echo-server.ts`) is called (1) directly
 * by an SDK client, over stdio and over Streamable HTTP, and (2) as a remote server of the
 * Briefcase — client → `briefcase mcp` → briefcased → the server, on the daemon's pooled,
 * warm session (no reconnect per call). Sequential calls after a warm-up; overhead = through −
 * direct per percentile. Cold start: the time `briefcase remote add` takes for each of three
 * stdio servers (spawn, initialize, first tools/list), and in total. CPU µs per call of the
 * gateway and the daemon (the server's own share is the direct path's) and their resident size,
 * against the direct server's, over the same calls (bench/proc.ts). Throughput: 1 and 16 clients
 * calling back to back for 5 s, each path against its direct server.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, measured, profileFlags, round, startDaemon, throughput, type Target } from './lib.ts';

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

    const viaBriefcase: Target = { command: process.execPath, args: [...profileFlags(), BIN, 'mcp'], env: daemon.env };
    const through = (gateway: number | null) => ({ gateway: gateway!, daemon: daemon.pid });
    log('remote: stdio direct…');
    const stdioD = await measured(
      { command: process.execPath, args: [SERVER], env: { PATH: daemon.env.PATH! } },
      'echo',
      echo,
      (server) => ({ server: server! }),
    );
    log('remote: stdio through the Briefcase…');
    const stdioV = await measured(viaBriefcase, 'one.echo', echo, through);
    log('remote: HTTP direct…');
    const httpD = await measured({ url: `http://127.0.0.1:${port}/mcp` }, 'echo', echo, () => ({ server: http.pid! }));
    log('remote: HTTP through the Briefcase…');
    const httpV = await measured(viaBriefcase, 'web.echo', echo, through);
    log('remote: throughput…');
    const stdioDirectTarget: Target = { command: process.execPath, args: [SERVER], env: { PATH: daemon.env.PATH! } };
    const httpDirectTarget: Target = { url: `http://127.0.0.1:${port}/mcp` };
    const rate = async (direct: Target, tool: string) => ({
      direct: { clients_1: await throughput(direct, 'echo', 1), clients_16: await throughput(direct, 'echo', 16) },
      briefcase: {
        clients_1: await throughput(viaBriefcase, tool, 1),
        clients_16: await throughput(viaBriefcase, tool, 16),
      },
    });
    const stdioRate = await rate(stdioDirectTarget, 'one.echo');
    const httpRate = await rate(httpDirectTarget, 'web.echo');
    const [stdioDirect, stdioVia, httpDirect, httpVia] = [stdioD, stdioV, httpD, httpV].map((m) => m.latency_ms) as [
      typeof stdioD.latency_ms,
      typeof stdioD.latency_ms,
      typeof stdioD.latency_ms,
      typeof stdioD.latency_ms,
    ];
    const cpu = (d: typeof stdioD, v: typeof stdioV) => {
      const sum = v.cpu_us_per_call.gateway! + v.cpu_us_per_call.daemon!;
      return {
        direct: d.cpu_us_per_call,
        briefcase: { ...v.cpu_us_per_call, sum },
        ratio_to_direct: round(sum / d.cpu_us_per_call.server!),
      };
    };
    const diff = (a: typeof stdioVia, b: typeof stdioVia) => ({
      p50: round(a.p50 - b.p50),
      p95: round(a.p95 - b.p95),
      p99: round(a.p99 - b.p99),
    });
    const stdioAdded = diff(stdioVia, stdioDirect);
    const httpAdded = diff(httpVia, httpDirect);
    return {
      benchmark: 'remote-overhead',
      cpu_us_per_call: { stdio: cpu(stdioD, stdioV), http: cpu(httpD, httpV) },
      rss_mib: {
        stdio: { direct: stdioD.rss_mib, briefcase: stdioV.rss_mib },
        http: { direct: httpD.rss_mib, briefcase: httpV.rss_mib },
      },
      latency_ms: {
        stdio: { direct: stdioDirect, briefcase: stdioVia, added: stdioAdded },
        http: { direct: httpDirect, briefcase: httpVia, added: httpAdded },
      },
      throughput_calls_per_s: { stdio: stdioRate, http: httpRate },
      cold_start_ms: { per_server: cold, three_servers: round(cold.reduce((a, b) => a + b, 0)) },
      targets: {
        // Issue 13: pooled sessions add at most 1 ms at p50.
        stdio_added_p50_le_1ms: stdioAdded.p50 <= 1,
        stdio_added_p99_le_8ms: stdioAdded.p99 <= 8,
        http_added_p50_le_1ms: httpAdded.p50 <= 1,
        http_added_p99_le_8ms: httpAdded.p99 <= 8,
      },
    };
  } finally {
    http.kill();
    await daemon.stop();
  }
}
