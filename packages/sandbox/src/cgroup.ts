import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const V1_PIDS = '/sys/fs/cgroup/pids';

/**
 * The kernel exempts uid 0 from RLIMIT_NPROC (kernel/fork.c: `user != INIT_USER`), also inside a
 * user namespace mapped to it, so a daemon run as root bounds a sandbox's processes with a pids
 * cgroup instead, where one is writable (cgroup v1 `pids`). Returns its `cgroup.procs` file, or
 * null when there is none (the limit then does not hold: `doctor` says so).
 */
export function pidsCgroup(dataDir: string, server: string, max: number): string | null {
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const dir = join(V1_PIDS, 'briefcase', `${id}-${server}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'pids.max'), String(max));
    return join(dir, 'cgroup.procs');
  } catch {
    return null;
  }
}

/** Whether the process limit of a sandbox holds here (see pidsCgroup). */
export function processLimitHolds(): boolean {
  if (process.getuid?.() !== 0) return true;
  const procs = pidsCgroup('/probe', 'probe', 4096);
  if (procs) rmdirSync(dirname(procs), { recursive: false });
  return procs !== null;
}

/**
 * How many forks a sandbox's pids cgroup has refused so far (`pids.events`: `max N`), given its
 * `cgroup.procs` file; 0 when it cannot be read. The kernel's own count, so a run that reached its
 * process limit is known for certain, whatever the program printed or how it exited.
 */
export function pidsLimitHits(procsFile: string): number {
  try {
    const events = readFileSync(join(dirname(procsFile), 'pids.events'), 'utf8');
    return Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
