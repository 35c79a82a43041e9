/**
 * How long a `briefcase` command takes from spawn to exit (p50, p90, p95; issue 11's targets:
 * ≤ 300 ms p50 for every command, ≤ 150 ms for --version and --help) (issue 8 criterion 6, everyday-use
 * issue): an approver's `approvals approve` must not lose a race with an approval's lifetime.
 *
 * Method: one fresh data directory and a running daemon; each command is run BENCH_CLI_RUNS
 * times (default 10) after one warm-up run, as a new `node apps/cli/bin/briefcase.js …` process,
 * wall time from spawn to exit. The baseline is `node -e 0` (Node's own start-up) on the same
 * machine in the same run. `approvals approve` gets a fresh pending approval for every run (an
 * agent's `notes.add` through the daemon API, which answers `approval_required` at once).
 * The warm-up run fills Node's compile cache (bin/briefcase.js enables it); `version_no_cache` is
 * `--version` with NODE_DISABLE_COMPILE_CACHE=1, what a first run costs.
 *
 * BENCH_CLI_BASE_BIN=/path/to/other/apps/cli/bin/briefcase.js also measures another checkout's
 * CLI against the same daemon, its runs alternating with this one's (`base` in the output), so a
 * before/after comparison sees the same machine load.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { BIN, percentiles, startDaemon } from './lib.ts';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
const BASE_BIN = process.env.BENCH_CLI_BASE_BIN;

function agentCall(home: string, text: string): Promise<string> {
  const token = readFileSync(join(home, 'agent.token'), 'utf8').trim();
  const body = JSON.stringify({ tool: 'notes.add', args: { text } });
  return new Promise((resolve, reject) => {
    const r = request(
      {
        socketPath: join(home, 'daemon.sock'),
        method: 'POST',
        path: '/v1/agent/tools/call',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => {
          const id = /"approval_id":"([^"]+)"/.exec(t)?.[1];
          if (id) resolve(id);
          else reject(new Error(`no approval in ${t}`));
        });
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

export async function run(log: (m: string) => void = () => {}) {
  const daemon = await startDaemon();
  const time = (argv: string[], env: NodeJS.ProcessEnv = daemon.env): number => {
    const t = performance.now();
    const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  };
  const bins = BASE_BIN ? [BIN, BASE_BIN] : [BIN];
  const results: Record<string, { p50: number; p90: number; p95: number; target: number; met: boolean }>[] = bins.map(
    () => ({}),
  );
  /** `args(bin)` gives the argv of one run; runs of the two bins alternate. */
  const measure = async (
    label: string,
    args: (bin: string) => Promise<string[]> | string[],
    env: NodeJS.ProcessEnv = daemon.env,
  ) => {
    log(`cli startup: ${label}…`);
    for (const bin of bins) time(await args(bin), env);
    const samples: number[][] = bins.map(() => []);
    for (let i = 0; i < RUNS; i++) for (const [b, bin] of bins.entries()) samples[b]!.push(time(await args(bin), env));
    // Issue 11: every command ≤ 300 ms p50, --version and --help ≤ 150 ms.
    const target = label.startsWith('version') || label === 'help' ? 150 : 300;
    for (const [b] of bins.entries()) {
      const { p50, p90, p95 } = percentiles(samples[b]!);
      results[b]![label] = { p50, p90, p95, target, met: p50 <= target };
    }
  };
  try {
    let n = 0;
    await measure('node_baseline', () => ['-e', '0']);
    await measure('version', (bin) => [bin, '--version']);
    await measure('version_no_cache', (bin) => [bin, '--version'], { ...daemon.env, NODE_DISABLE_COMPILE_CACHE: '1' });
    await measure('help', (bin) => [bin, '--help']);
    await measure('status', (bin) => [bin, 'status']);
    await measure('tools_list', (bin) => [bin, 'tools', 'list']);
    await measure('tools_call', (bin) => [bin, 'tools', 'call', 'echo', '--args', '{"text":"bench"}']);
    await measure('approvals_list', (bin) => [bin, 'approvals', 'list']);
    await measure('secrets_list', (bin) => [bin, 'secrets', 'list']);
    await measure('policy_show', (bin) => [bin, 'policy', 'show']);
    await measure('remote_list', (bin) => [bin, 'remote', 'list']);
    await measure('budget_list', (bin) => [bin, 'budget', 'list']);
    await measure('operations_list', (bin) => [bin, 'operations', 'list']);
    await measure('keys_list', (bin) => [bin, 'keys', 'list']);
    await measure('console', (bin) => [bin, 'console', '--no-open']);
    await measure('doctor', (bin) => [bin, 'doctor']);
    await measure('approvals_approve', async (bin) => [
      bin,
      'approvals',
      'approve',
      await agentCall(daemon.home, `bench ${n++}`),
    ]);
    return {
      benchmark: 'cli-startup',
      runs: RUNS,
      unit: 'ms',
      commands: results[0]!,
      ...(BASE_BIN ? { base: { bin: BASE_BIN, commands: results[1]! } } : {}),
    };
  } finally {
    await daemon.stop();
  }
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2)}\n`);
}
