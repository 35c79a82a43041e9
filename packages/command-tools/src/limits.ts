import { constants } from 'node:os';
import type { RunOutcome } from './run.ts';

const SIGXCPU = constants.signals.SIGXCPU;

/** A resource limit of the access manifest (`limits`) that a run ran into. */
export type LimitHit = 'memory' | 'processes' | 'cpu';

/**
 * What programs print when an allocation fails under RLIMIT_DATA: glibc and coreutils
 * ("Cannot allocate memory", "memory exhausted"), bash ("xmalloc: cannot allocate"), Python
 * (MemoryError), Node/V8 ("Array buffer allocation failed", "JavaScript heap out of memory",
 * "Fatal process out of memory"), C++ (std::bad_alloc), jq ("jq: error: cannot allocate memory").
 */
const OUT_OF_MEMORY =
  /cannot allocate memory|cannot allocate \d+ bytes|memory exhausted|out of memory|MemoryError|allocation failed|bad_alloc/i;
/** What fork(2) failing with EAGAIN at RLIMIT_NPROC prints (bash: "fork: retry: Resource temporarily unavailable"). */
const NO_MORE_PROCESSES = /fork: (?:retry: )?Resource temporarily unavailable|Cannot fork|can't fork/i;

/**
 * Which limit a run that failed ran into, from what the kernel and the program say, or null.
 * RLIMIT_CPU ends a program with SIGXCPU (the sandbox sets the hard limit a second later): certain. RLIMIT_DATA and RLIMIT_NPROC only make an
 * allocation or a fork fail, so these are recognised from the program's own message on stderr:
 * a program that hides it ends as a tool error instead (its call fails either way), and one that
 * fakes it only fails its own call. A run that exited 0 ran into nothing that mattered.
 * (Where the daemon runs the sandbox in a pids cgroup, the kernel's count of refused forks
 * decides about processes instead: `RunSpec.overLimit`.)
 */
export function limitHit(outcome: Pick<RunOutcome, 'exitCode' | 'signal' | 'stderrTail'>): LimitHit | null {
  // Under bubblewrap the daemon sees the program's signal as bwrap's exit status, 128 + signal.
  if (outcome.signal === 'SIGXCPU' || outcome.exitCode === 128 + SIGXCPU) return 'cpu';
  if (outcome.exitCode === 0) return null;
  if (OUT_OF_MEMORY.test(outcome.stderrTail)) return 'memory';
  if (NO_MORE_PROCESSES.test(outcome.stderrTail)) return 'processes';
  return null;
}
