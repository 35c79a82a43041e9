/** Shared pieces of the benchmark programs: spawning a daemon, MCP clients, percentiles. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cpuPerCall, rssMiB } from './proc.ts';
import { DAEMON_NODE_FLAGS } from '../apps/cli/src/daemon-flags.ts';

export const ROOT = resolve(import.meta.dirname, '..');
/** The `briefcase` under test: this checkout's, or BENCH_BIN's (another checkout, for before/after). */
export const BIN = process.env.BENCH_BIN ? resolve(process.env.BENCH_BIN) : join(ROOT, 'apps/cli/bin/briefcase.js');
export const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
export const WARMUP = 300;

export type Target = { command: string; args: string[]; env: Record<string, string> } | { url: string };

export async function connect(target: Target): Promise<Client> {
  return (await connectWithPid(target)).client;
}

/** A connected client and, for a stdio target, the pid of the process it spawned. */
export async function connectWithPid(target: Target): Promise<{ client: Client; pid: number | null }> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const transport =
    'url' in target
      ? new StreamableHTTPClientTransport(new URL(target.url))
      : new StdioClientTransport({ ...target, stderr: 'ignore' });
  await client.connect(transport);
  return { client, pid: transport instanceof StdioClientTransport ? transport.pid : null };
}

export const round = (n: number) => Math.round(n * 1000) / 1000;

export function percentiles(samples: number[]): { p50: number; p90: number; p95: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!);
  return { p50: at(50), p90: at(90), p95: at(95), p99: at(99) };
}

/** Sequential `tool` calls after a warm-up, as latency percentiles in ms. */
export async function latency(target: Target, tool: string, args: (i: number) => Record<string, unknown>) {
  const client = await connect(target);
  for (let i = 0; i < WARMUP; i++) await client.callTool({ name: tool, arguments: args(i) });
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: tool, arguments: args(i) });
    samples.push(performance.now() - t);
    if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r)}`);
  }
  await client.close();
  return percentiles(samples);
}

/**
 * `latency`, and what each process spent: CPU µs per call over the measured calls (not the
 * warm-up) and resident size after them. `processes` names the pids to watch, given the pid of
 * the process the client spawned (`spawned`, null for an HTTP target).
 */
export async function measured<K extends string>(
  target: Target,
  tool: string,
  args: (i: number) => Record<string, unknown>,
  processes: (spawned: number | null) => Record<K, number>,
) {
  const { client, pid } = await connectWithPid(target);
  for (let i = 0; i < WARMUP; i++) await client.callTool({ name: tool, arguments: args(i) });
  const pids = processes(pid);
  const samples: number[] = [];
  const cpu = await cpuPerCall(pids, CALLS, async () => {
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      const r = await client.callTool({ name: tool, arguments: args(i) });
      samples.push(performance.now() - t);
      if (r.isError) throw new Error(`${tool} failed: ${JSON.stringify(r)}`);
    }
  });
  const rss = Object.fromEntries(Object.entries<number>(pids).map(([k, p]) => [k, rssMiB(p)])) as Record<K, number>;
  await client.close();
  return { cpu_us_per_call: cpu, rss_mib: rss, latency_ms: percentiles(samples) };
}

/** Node flags for the processes under test: BENCH_CPU_PROF=DIR profiles them (`--cpu-prof`). */
export function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : [];
}

export interface BenchDaemon {
  pid: number;
  home: string;
  env: Record<string, string>;
  cli(args: string[]): ReturnType<typeof spawnSync>;
  stop(): Promise<void>;
}

/** A fresh data directory and a running `briefcase start`; `prepare` runs after init. */
export async function startDaemon(
  prepare?: (home: string, cli: (args: string[]) => ReturnType<typeof spawnSync>) => void,
): Promise<BenchDaemon> {
  const base = mkdtempSync(join(tmpdir(), 'bc-bench-'));
  const home = join(base, 'h');
  const env: Record<string, string> = { ...(process.env as Record<string, string>), BRIEFCASE_HOME: home };
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  cli(['init', '--master-key', 'file']);
  prepare?.(home, cli);
  // The daemon runs with the Node flags `start --detach` and the service units give it;
  // BENCH_DAEMON_FLAGS (space-separated) replaces them, to measure another setting.
  const flags = process.env.BENCH_DAEMON_FLAGS?.split(' ').filter(Boolean) ?? DAEMON_NODE_FLAGS;
  const daemon: ChildProcess = // Any free port for the console: the default one may be taken by another daemon on the machine.
    spawn(process.execPath, [...flags, ...profileFlags(), BIN, 'start', '--console-port', '0'], {
      env,
      stdio: 'ignore',
    });
  for (let i = 0; i < 200; i++) {
    if (spawnSync(process.execPath, [BIN, 'status', '--json'], { env }).status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: daemon.pid!,
    home,
    env,
    cli,
    async stop() {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Node flags for the gateway under test: BENCH_GATEWAY_FLAGS (space-separated), to try a setting. */
export function gatewayFlags(): string[] {
  return process.env.BENCH_GATEWAY_FLAGS?.split(' ').filter(Boolean) ?? [];
}

export const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 5000);

/** Calls completed per second by `clients` clients calling `tool` back to back (after 20 warm-up calls each). */
export async function throughput(target: Target, tool: string, clients: number): Promise<number> {
  const all = await Promise.all(Array.from({ length: clients }, () => connect(target)));
  for (const c of all) for (let i = 0; i < 20; i++) await c.callTool({ name: tool, arguments: { text: 'w' } });
  let done = 0;
  const end = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    all.map(async (c, k) => {
      while (performance.now() < end) {
        await c.callTool({ name: tool, arguments: { text: `c${k}` } });
        done++;
      }
    }),
  );
  await Promise.all(all.map((c) => c.close()));
  return Math.round(done / (THROUGHPUT_MS / 1000));
}
