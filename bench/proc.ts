/**
 * What a process costs, read from outside it (Linux /proc): CPU time and resident size. The
 * benchmarks and the CPU regression test measure the processes they spawn this way, so nothing in
 * the product has to report on itself. CPU time is steady on a loaded machine where latency is not.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in clock ticks of 10 ms on Linux. */
const TICK_MS = 10;

export const procAvailable = (): boolean => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
};

/** CPU time (user + system, all threads, dead ones included) of `pid` so far, in ms. */
export function cpuMs(pid: number): number {
  // The command name (field 2) may hold spaces: split after its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/** Resident set size of `pid` now (VmRSS), in MiB to one decimal. */
export function rssMiB(pid: number): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kib / 102.4) / 10;
}

/** The direct children of `pid` (e.g. the stdio MCP servers a daemon spawned). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The command line of `pid`, for finding one child among several. */
export function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/**
 * CPU per call of each watched process over `calls` calls made by `work`, in µs. One tick is
 * 10 ms, so run enough calls that each process spends many ticks (the callers say how many).
 */
export async function cpuPerCall<K extends string>(
  pids: Record<K, number>,
  calls: number,
  work: () => Promise<void>,
): Promise<Record<K, number>> {
  const entries = Object.entries<number>(pids);
  const before = entries.map(([, pid]) => cpuMs(pid));
  await work();
  return Object.fromEntries(
    entries.map(([k, pid], i) => [k, Math.round(((cpuMs(pid) - before[i]!) * 1000) / calls)]),
  ) as Record<K, number>;
}
