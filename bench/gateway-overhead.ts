/**
 * `npm run bench -- --json`: what the Briefcase adds to a tool call.
 *
 * Method: the same official-SDK MCP client calls `echo` (1) on a plain SDK stdio server and (2)
 * through `briefcase mcp` → briefcased (Cedar policy, budget check, strict validation, and a
 * durable, hash-chained receipt committed with fsync before the answer). Latency: sequential
 * calls after a warm-up, percentiles per path, overhead = briefcase − direct per percentile.
 * Throughput: 1 client, and 16 clients each with its own stdio connection (the topology of 16
 * agents), calling back-to-back for a fixed time. CPU: each process's CPU time (/proc, all its
 * threads) over the same sequential calls, per call: the direct server against the gateway and
 * the daemon; resident size of each after them. Figures are printed as JSON; nothing here passes
 * or fails the test suite. BENCH_CPU_PROF=DIR writes a `--cpu-prof` profile of every process
 * under test (docs/benchmarks.md, "Where the time goes").
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  BIN,
  CALLS,
  ROOT,
  WARMUP,
  gatewayFlags,
  measured,
  profileFlags,
  round,
  startDaemon,
  THROUGHPUT_MS,
  throughput,
  type Target,
} from './lib.ts';

const echo = (i: number) => ({ text: `call ${i}` });

/** The figures of this benchmark (see the comment at the top). */
export async function run(log: (m: string) => void = () => {}) {
  const daemon = await startDaemon();
  const direct: Target = {
    command: process.execPath,
    args: [...profileFlags(), join(ROOT, 'bench/plain-echo-server.ts')],
    env: { PATH: daemon.env.PATH! },
  };
  const briefcase: Target = {
    command: process.execPath,
    args: [...gatewayFlags(), ...profileFlags(), BIN, 'mcp'],
    env: daemon.env,
  };
  try {
    log('gateway: latency and CPU direct…');
    const d = await measured(direct, 'echo', echo, (server) => ({ server: server! }));
    log('gateway: latency and CPU through the Briefcase…');
    const b = await measured(briefcase, 'echo', echo, (gateway) => ({ gateway: gateway!, daemon: daemon.pid }));
    const dLat = d.latency_ms;
    const bLat = b.latency_ms;
    log('gateway: throughput…');
    const d1 = await throughput(direct, 'echo', 1);
    const b1 = await throughput(briefcase, 'echo', 1);
    const d16 = await throughput(direct, 'echo', 16);
    const b16 = await throughput(briefcase, 'echo', 16);
    const overhead = {
      p50: round(bLat.p50 - dLat.p50),
      p95: round(bLat.p95 - dLat.p95),
      p99: round(bLat.p99 - dLat.p99),
    };
    const cpuSum = b.cpu_us_per_call.gateway! + b.cpu_us_per_call.daemon!;
    return {
      benchmark: 'gateway-overhead',
      // First: the figure that stays steady on a loaded machine (issue 13).
      cpu_us_per_call: {
        direct: d.cpu_us_per_call,
        briefcase: { ...b.cpu_us_per_call, sum: cpuSum },
        ratio_to_direct: round(cpuSum / d.cpu_us_per_call.server!),
      },
      rss_mib: { direct: d.rss_mib, briefcase: b.rss_mib },
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.versions.node },
      method: { calls: CALLS, warmup: WARMUP, throughput_seconds: THROUGHPUT_MS / 1000 },
      latency_ms: { direct: dLat, briefcase: bLat, overhead },
      throughput_calls_per_s: {
        direct: { clients_1: d1, clients_16: d16 },
        briefcase: { clients_1: b1, clients_16: b16 },
      },
      // Issue 13's goals (the 16-client goal is 2× the figure before it: docs/benchmarks.md).
      targets: {
        cpu_gateway_plus_daemon_le_700us: cpuSum <= 700,
        overhead_p50_le_0_5ms: overhead.p50 <= 0.5,
        overhead_p99_le_2_5ms: overhead.p99 <= 2.5,
        gateway_rss_le_60mib: b.rss_mib.gateway! <= 60,
        daemon_rss_le_120mib: b.rss_mib.daemon! <= 120,
      },
    };
  } finally {
    await daemon.stop();
  }
}
