import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type SandboxAvailability =
  { ok: true; bwrap: string; prlimit: string; bash: string; socat: string | null } | { ok: false; reason: string };

let cached: SandboxAvailability | undefined;

function existsExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return path.startsWith('/');
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH (or in the usual system directories), or null. */
export function findExecutable(name: string, path = process.env['PATH'] ?? ''): string | null {
  for (const dir of [...path.split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Whether stdio servers can run in the OS sandbox here: bubblewrap present, and the kernel lets
 * it make the namespaces (user namespaces are refused on some hardened kernels and containers).
 * Tried once with a trivial run and cached for the life of the process.
 */
export function sandboxAvailable(): SandboxAvailability {
  cached ??= probe();
  return cached;
}

/** Forget the cached answer (tests). */
export function resetSandboxAvailability(): void {
  cached = undefined;
}

function probe(): SandboxAvailability {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `no OS sandbox for stdio servers on ${process.platform} (bubblewrap is Linux-only)` };
  }
  // BRIEFCASE_BWRAP names a bubblewrap outside the usual places (and lets tests take it away).
  const override = process.env['BRIEFCASE_BWRAP'];
  const bwrap = override ? (existsExecutable(override) ? override : null) : findExecutable('bwrap');
  if (!bwrap) {
    return {
      ok: false,
      reason: `bubblewrap is not installed${override ? ` at ${override} (BRIEFCASE_BWRAP)` : ''} (Debian/Ubuntu: apt install bubblewrap)`,
    };
  }
  const prlimit = findExecutable('prlimit');
  if (!prlimit) return { ok: false, reason: 'prlimit is not installed (Debian/Ubuntu: apt install util-linux)' };
  const bash = findExecutable('bash');
  if (!bash) return { ok: false, reason: 'bash is not installed' };
  const run = spawnSync(
    bwrap,
    [
      '--unshare-all',
      '--unshare-user',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--ro-bind',
      '/usr',
      '/usr',
      ...systemLinks(),
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
      prlimit,
      '--nofile=64',
      '--',
      '/usr/bin/true',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, env: {} },
  );
  if (run.error) return { ok: false, reason: `bubblewrap could not run: ${run.error.message}` };
  if (run.status !== 0) {
    const why = run.stderr.toString('utf8').trim().split('\n')[0] ?? '';
    return {
      ok: false,
      reason: `bubblewrap could not create its namespaces (are unprivileged user namespaces disabled?): ${why.slice(0, 300)}`,
    };
  }
  return { ok: true, bwrap, prlimit, bash, socat: findExecutable('socat') };
}

/** `/lib`, `/bin`… as the host has them: symlinks into /usr (merged /usr) or directories. */
export function systemLinks(lstat: (p: string) => HostEntry = hostEntry): string[] {
  const out: string[] = [];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const entry = lstat(dir);
    if (entry.kind === 'symlink') out.push('--symlink', entry.target, dir);
    else if (entry.kind === 'dir') out.push('--ro-bind', dir, dir);
  }
  return out;
}

export type HostEntry = { kind: 'symlink'; target: string } | { kind: 'dir' } | { kind: 'file' } | { kind: 'missing' };

export function hostEntry(path: string): HostEntry {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return { kind: 'symlink', target: readlinkSync(path) };
    return st.isDirectory() ? { kind: 'dir' } : { kind: 'file' };
  } catch {
    return { kind: 'missing' };
  }
}
