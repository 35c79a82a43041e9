import { createHash } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
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
