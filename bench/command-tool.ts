/**
 * A command tool's run (`jq -c .a`, stdin in, stdout out) with and without the bubblewrap sandbox,
 * alternating, in one process: what the sandbox adds to each call of a command tool. The daemon's
 * pipeline around it is the same for both and is measured by gateway-overhead.ts.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '@briefcase/command-tools';
import { AccessManifest } from '@briefcase/protocol';
import { findExecutable, sandboxAvailable } from '@briefcase/sandbox';
import { sandboxLaunch } from '../apps/briefcased/src/remote/sandboxed-stdio.ts';
import { percentiles, round } from './lib.ts';

const RUNS = Number(process.env.BENCH_COMMAND_RUNS ?? 40);

export async function run(log: (m: string) => void) {
  const jq = findExecutable('jq');
  const s = sandboxAvailable();
  if (!jq) return { skipped: 'jq is not installed (Debian package: jq)' };
  if (!s.ok) return { skipped: s.reason };
  const data = mkdtempSync(join(tmpdir(), 'bc-bench-cmd-'));
  const work = join(data, 'command-tools', 'q', 'work');
  mkdirSync(work, { recursive: true });
  const access = AccessManifest.parse({ limits: { memory_mb: 64, processes: 4 } });
  let n = 0;
  const once = async (sandboxed: boolean) => {
    const l = sandboxed
      ? sandboxLaunch({
          server: 'q',
          command: 'jq',
          args: ['-c', '.a'],
          cwd: undefined,
          env: {},
          access,
          dataDir: data,
          toolDir: work,
          cgroupKey: `bench-${n++}`,
        })
      : { command: jq, args: ['-c', '.a'], env: { PATH: '/usr/bin:/bin' }, cwd: work };
    const t = performance.now();
    const r = await runProcess({
      command: l.command,
      args: l.args,
      env: l.env,
      cwd: l.cwd,
      stdin: '{"a":1}',
      timeoutMs: 30_000,
      maxOutputBytes: 1000,
      signal: new AbortController().signal,
    });
    if (r.stdout.trim() !== '1') throw new Error(`jq answered ${JSON.stringify(r)}`);
    return performance.now() - t;
  };
  log(`command tool: ${RUNS} runs of jq, sandboxed and not, alternating`);
  const plain: number[] = [];
  const boxed: number[] = [];
  for (let i = 0; i < 3; i++) {
    await once(false);
    await once(true);
  }
  for (let i = 0; i < RUNS; i++) {
    plain.push(await once(false));
    boxed.push(await once(true));
  }
  rmSync(data, { recursive: true, force: true });
  const p = percentiles(plain);
  const b = percentiles(boxed);
  const added = { p50: round(b.p50 - p.p50), p95: round(b.p95 - p.p95), p99: round(b.p99 - p.p99) };
  return { run_ms: { unsandboxed: p, sandboxed: b, added } };
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(await run((m) => process.stderr.write(`${m}\n`)), null, 2)}\n`);
}
