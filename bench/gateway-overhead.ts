/**
 * `npm run bench -- --json`: what the Briefcase adds to a tool call.
 *
 * Method: the same official-SDK MCP client calls `echo` (1) on a plain SDK stdio server and (2)
 * through `briefcase mcp` → briefcased (Cedar policy, budget check, strict validation, and a
 * durable, hash-chained receipt committed with fsync before the answer). Latency: sequential
 * calls after a warm-up, percentiles per path, overhead = briefcase − direct per percentile.
 * Throughput: 1 client, and 16 clients each with its own stdio connection (the topology of 16
 * agents), calling back-to-back for a fixed time. Figures are printed as JSON; nothing here
 * passes or fails the test suite.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'apps/cli/bin/briefcase.js');
const json = process.argv.includes('--json');
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const WARMUP = 300;
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 5000);

type Spawn = { command: string; args: string[]; env: Record<string, string> };

async function connect(target: Spawn): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ ...target, stderr: 'ignore' }));
  return client;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(target: Spawn) {
  const client = await connect(target);
  for (let i = 0; i < WARMUP; i++) await client.callTool({ name: 'echo', arguments: { text: `w${i}` } });
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    const r = await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    samples.push(performance.now() - t);
    if (r.isError) throw new Error(`echo failed: ${JSON.stringify(r)}`);
  }
  await client.close();
  samples.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
  };
}

async function throughput(target: Spawn, clients: number): Promise<number> {
  const all = await Promise.all(Array.from({ length: clients }, () => connect(target)));
  for (const c of all) for (let i = 0; i < 20; i++) await c.callTool({ name: 'echo', arguments: { text: 'w' } });
  let done = 0;
  const end = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    all.map(async (c, k) => {
      while (performance.now() < end) {
        await c.callTool({ name: 'echo', arguments: { text: `c${k}` } });
        done++;
      }
    }),
  );
  await Promise.all(all.map((c) => c.close()));
  return Math.round(done / (THROUGHPUT_MS / 1000));
}

const base = mkdtempSync(join(tmpdir(), 'bc-bench-'));
const home = join(base, 'h');
const env = { PATH: process.env.PATH ?? '', BRIEFCASE_HOME: home };
spawnSync(process.execPath, [BIN, 'init'], { env });
const daemon = spawn(process.execPath, [BIN, 'start'], { env, stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
for (let i = 0; i < 100; i++) {
  if (spawnSync(process.execPath, [BIN, 'status', '--json'], { env }).status === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}

const direct: Spawn = {
  command: process.execPath,
  args: [join(ROOT, 'bench/plain-echo-server.ts')],
  env: { PATH: env.PATH },
};
const briefcase: Spawn = { command: process.execPath, args: [BIN, 'mcp'], env };

try {
  const log = (m: string) => !json && process.stderr.write(`${m}\n`);
  log('latency: direct…');
  const dLat = await latency(direct);
  log('latency: through the Briefcase…');
  const bLat = await latency(briefcase);
  log('throughput…');
  const d1 = await throughput(direct, 1);
  const b1 = await throughput(briefcase, 1);
  const d16 = await throughput(direct, 16);
  const b16 = await throughput(briefcase, 16);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const overhead = {
    p50: round(bLat.p50 - dLat.p50),
    p95: round(bLat.p95 - dLat.p95),
    p99: round(bLat.p99 - dLat.p99),
  };
  const result = {
    benchmark: 'gateway-overhead',
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.versions.node },
    method: { calls: CALLS, warmup: WARMUP, throughput_seconds: THROUGHPUT_MS / 1000 },
    latency_ms: { direct: dLat, briefcase: bLat, overhead },
    throughput_calls_per_s: {
      direct: { clients_1: d1, clients_16: d16 },
      briefcase: { clients_1: b1, clients_16: b16 },
    },
    targets: {
      overhead_p50_le_1ms: overhead.p50 <= 1,
      overhead_p99_le_5ms: overhead.p99 <= 5,
      briefcase_16_clients_ge_1000_per_s: b16 >= 1000,
    },
  };
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    console.log(`latency direct    p50 ${dLat.p50} ms  p95 ${dLat.p95} ms  p99 ${dLat.p99} ms`);
    console.log(`latency briefcase p50 ${bLat.p50} ms  p95 ${bLat.p95} ms  p99 ${bLat.p99} ms`);
    console.log(`overhead          p50 ${overhead.p50} ms  p95 ${overhead.p95} ms  p99 ${overhead.p99} ms`);
    console.log(`throughput direct ${d1}/s (1 client), ${d16}/s (16 clients)`);
    console.log(`throughput brief. ${b1}/s (1 client), ${b16}/s (16 clients)`);
  }
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(base, { recursive: true, force: true });
}
