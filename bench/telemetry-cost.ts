/**
 * `node bench/telemetry-cost.ts [--root CHECKOUT] [--otel]`: what telemetry costs per call.
 *
 * Method: a fresh daemon and one `briefcase mcp` gateway from CHECKOUT (default: this one), an
 * official-SDK client calling `echo` sequentially: a warm-up, then BENCH_CALLS calls, with each
 * process's CPU time (utime + stime from /proc/PID/stat) read before and after, and its resident
 * size (VmRSS) read after. `--otel` exports to an OTLP/HTTP receiver in this process (answering
 * 200 to everything), as a person who turned telemetry on would. Run it against another checkout
 * (`--root /path/to/main`) to compare with telemetry off there. Linux only (/proc). Figures only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const argv = process.argv.slice(2);
const root = resolve(argv.includes('--root') ? argv[argv.indexOf('--root') + 1]! : join(import.meta.dirname, '..'));
const otel = argv.includes('--otel');
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const WARMUP = 300;
const BIN = join(root, 'apps/cli/bin/briefcase.js');
const TICK_MS = 10; // USER_HZ is 100 on Linux

const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
};
const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 102.4) / 10;

const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const port = (sink.address() as { port: number }).port;

const base = mkdtempSync(join(tmpdir(), 'bc-bench-otel-'));
const home = join(base, 'h');
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  BRIEFCASE_HOME: home,
};
if (otel) {
  Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_METRIC_EXPORT_INTERVAL: '5000' });
}
spawnSync(process.execPath, [BIN, 'init', '--master-key', 'file'], { env });
const daemon = spawn(process.execPath, [BIN, 'start'], { env, stdio: 'ignore' });
for (let i = 0; i < 200; i++) {
  if (spawnSync(process.execPath, [BIN, 'status', '--json'], { env }).status === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env, stderr: 'ignore' });
const client = new Client({ name: 'bench', version: '1.0.0' });
await client.connect(transport);
const gateway = transport.pid!;
try {
  for (let i = 0; i < WARMUP; i++) await client.callTool({ name: 'echo', arguments: { text: `w${i}` } });
  const g0 = cpuMs(gateway);
  const d0 = cpuMs(daemon.pid!);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
  const wall = performance.now() - t0;
  const gatewayUs = ((cpuMs(gateway) - g0) * 1000) / CALLS;
  const daemonUs = ((cpuMs(daemon.pid!) - d0) * 1000) / CALLS;
  process.stdout.write(
    `${JSON.stringify({
      root,
      otel,
      calls: CALLS,
      cpu_us_per_call: {
        gateway: Math.round(gatewayUs),
        daemon: Math.round(daemonUs),
        sum: Math.round(gatewayUs + daemonUs),
      },
      rss_mib: { gateway: rssMiB(gateway), daemon: rssMiB(daemon.pid!) },
      mean_ms_per_call: Math.round((wall / CALLS) * 1000) / 1000,
    })}\n`,
  );
} finally {
  await client.close();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  sink.close();
  rmSync(base, { recursive: true, force: true });
}
