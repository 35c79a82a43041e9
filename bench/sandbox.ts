/**
 * What the OS sandbox adds to a stdio MCP server (issue 10, AC 4).
 *
 * Method: the same plain SDK echo server (`bench/plain-echo-server.ts`) is started and called
 * (1) unsandboxed, as `node SERVER`, and (2) inside its sandbox, with the bubblewrap command line
 * the daemon uses (packages/sandbox: fresh namespaces, read-only system, prlimit, fd closing;
 * no network grant, so no proxy). Start-up: spawn → `initialize` → first `tools/list`, alternated
 * between the two, RUNS times each. Per call: sequential `echo` calls after a warm-up on one warm
 * session (lib.ts `latency`); overhead = sandboxed − unsandboxed per percentile. The sandbox's own
 * set-up: `/usr/bin/true` run plainly and inside the same sandbox, RUNS × 5 times each. The daemon is
 * not involved: its own overhead is bench/remote-overhead.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessManifest } from '@briefcase/protocol';
import { bwrapCommand, nodeRuntimeDir, sandboxAvailable } from '@briefcase/sandbox';
import { ROOT, connect, latency, percentiles, round, type Target } from './lib.ts';

const SERVER = join(ROOT, 'bench/plain-echo-server.ts');
const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 20);
const echo = (i: number) => ({ text: `call ${i}` });

async function startup(target: Target): Promise<number> {
  const t = performance.now();
  const client = await connect(target);
  await client.listTools();
  const ms = performance.now() - t;
  await client.close();
  return ms;
}

export async function run(log: (m: string) => void = () => {}) {
  const available = sandboxAvailable();
  if (!available.ok) return { benchmark: 'sandbox', skipped: available.reason };
  const dataDir = mkdtempSync(join(tmpdir(), 'bc-bench-'));
  const toolDir = join(dataDir, 'tools', 'echo');
  mkdirSync(toolDir, { recursive: true, mode: 0o700 });
  try {
    const spec = {
      access: AccessManifest.parse({ filesystem: [{ path: ROOT, access: 'ro' }] }),
      command: process.execPath,
      args: [SERVER],
      env: {},
      toolDir,
      dataDir,
      home: dataDir,
      runtimeDirs: [nodeRuntimeDir()],
      bwrap: available.bwrap,
      prlimit: available.prlimit,
      bash: available.bash,
    };
    const built = bwrapCommand(spec);
    if (!built.ok) throw new Error(built.reason);
    const sandboxed: Target = { command: built.command, args: built.args, env: built.env };
    const plain: Target = { command: process.execPath, args: [SERVER], env: { PATH: process.env.PATH ?? '' } };

    log(`sandbox: start-up, ${RUNS} runs each…`);
    const cold = { plain: [] as number[], sandboxed: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      cold.plain.push(await startup(plain));
      cold.sandboxed.push(await startup(sandboxed));
    }
    // The sandbox's own set-up cost, without a server's start-up to hide it: `/usr/bin/true`.
    const bare = bwrapCommand({ ...spec, command: '/usr/bin/true', args: [] });
    if (!bare.ok) throw new Error(bare.reason);
    const exec = { plain: [] as number[], sandboxed: [] as number[] };
    for (let i = 0; i < RUNS * 5; i++) {
      let t = performance.now();
      spawnSync('/usr/bin/true', [], { stdio: 'ignore' });
      exec.plain.push(performance.now() - t);
      t = performance.now();
      const r = spawnSync(bare.command, bare.args, { env: bare.env, stdio: 'ignore' });
      exec.sandboxed.push(performance.now() - t);
      if (r.status !== 0) throw new Error(`sandboxed true exited ${r.status}`);
    }
    log('sandbox: calls, unsandboxed…');
    const callsPlain = await latency(plain, 'echo', echo);
    log('sandbox: calls, sandboxed…');
    const callsSandboxed = await latency(sandboxed, 'echo', echo);
    const diff = (a: { p50: number; p95: number; p99: number }, b: typeof a) => ({
      p50: round(a.p50 - b.p50),
      p95: round(a.p95 - b.p95),
      p99: round(a.p99 - b.p99),
    });
    const startPlain = percentiles(cold.plain);
    const startSandboxed = percentiles(cold.sandboxed);
    return {
      benchmark: 'sandbox',
      startup_ms: { unsandboxed: startPlain, sandboxed: startSandboxed, added: diff(startSandboxed, startPlain) },
      exec_true_ms: {
        unsandboxed: percentiles(exec.plain),
        sandboxed: percentiles(exec.sandboxed),
        added: diff(percentiles(exec.sandboxed), percentiles(exec.plain)),
      },
      call_ms: { unsandboxed: callsPlain, sandboxed: callsSandboxed, added: diff(callsSandboxed, callsPlain) },
      runs: RUNS,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2)}\n`);
}
