import { mkdirSync, rmdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BriefcaseError, type AccessManifest } from '@briefcase/protocol';
import {
  bwrapCommand,
  findExecutable,
  isolationSupport,
  nodeRuntimeDir,
  pidsCgroup,
  sandboxAvailable,
  sandboxExecCommand,
} from '@briefcase/sandbox';

export interface StdioLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** The pids cgroup the sandbox runs in (a daemon run as root), to remove once it is gone. */
  cgroup?: string;
}

/** Remove a sandbox's pids cgroup once its processes are gone (tried for a few seconds). */
export function removeCgroup(procs: string, attempts = 20): void {
  try {
    rmdirSync(dirname(procs));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY' && attempts > 0)
      setTimeout(() => removeCgroup(procs, attempts - 1), 200).unref();
  }
}

/** A stdio server's own directory, `<data dir>/tools/<name>/`, made 0700 if missing. */
export function toolDirectory(dataDir: string, server: string): string {
  const dir = join(dataDir, 'tools', server);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * How a stdio server's process is started: inside the OS sandbox with only what its access
 * manifest grants (docs/sandbox.md), or as given when the manifest says `isolation: "none"`.
 * Where the sandbox cannot run here, the server does not start at all (fail closed).
 */
export function stdioLaunch(o: {
  server: string;
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string>;
  access: AccessManifest;
  dataDir: string;
  proxy?: LaunchProxy | undefined;
}): StdioLaunch {
  if (o.access.isolation === 'none') {
    return { command: o.command, args: o.args, env: o.env, ...(o.cwd ? { cwd: o.cwd } : {}) };
  }
  return sandboxLaunch({ ...o, toolDir: toolDirectory(o.dataDir, o.server), cgroupKey: o.server });
}

/**
 * How a sandbox reaches its egress proxy: on Linux a Unix socket bound into the sandbox and
 * bridged to `port` on the sandbox's own loopback; on macOS the proxy's TCP port on 127.0.0.1.
 */
export type LaunchProxy = { socketPath: string; port: number } | { tcpPort: number };

/**
 * The same sandbox for any process (a stdio server, one run of a command tool): `toolDir` is its
 * own read-write directory inside the data directory, `cgroupKey` names its pids cgroup (a daemon
 * run as root). Linux: bubblewrap; macOS: sandbox-exec (never run on macOS: packages/sandbox
 * sbpl.ts); elsewhere `unsupported_platform`. Throws `unavailable` where the OS sandbox cannot
 * run here (fail closed): only isolation "none", set explicitly and receipted, runs then.
 */
export function sandboxLaunch(o: {
  server: string;
  command: string;
  args: string[];
  cwd: string | undefined;
  env: Record<string, string>;
  access: AccessManifest;
  dataDir: string;
  toolDir: string;
  cgroupKey: string;
  proxy?: LaunchProxy | undefined;
  platform?: string;
}): StdioLaunch {
  const access = o.access;
  const platform = o.platform ?? process.platform;
  if (platform === 'darwin') return macLaunch(o);
  if (platform !== 'linux') {
    throw new BriefcaseError(
      'unsupported_platform',
      `${o.server} cannot start: ${isolationSupport(platform).detail}. It runs only after an admin sets its isolation to "none" (receipted; confirmed with a passkey once one exists).`,
    );
  }
  if (o.proxy && !('socketPath' in o.proxy))
    throw new BriefcaseError('internal', 'the proxy is a Unix socket on Linux');
  const proxy = o.proxy;
  const available = sandboxAvailable();
  if (!available.ok) {
    throw new BriefcaseError(
      'unavailable',
      `${o.server} cannot start: its sandbox (bubblewrap) is not available here: ${available.reason}. ` +
        'It runs only once bubblewrap works, or after an admin sets its isolation to "none".',
    );
  }
  if (proxy && !available.socat) {
    throw new BriefcaseError(
      'unavailable',
      `${o.server} cannot start: its network grants need socat (apt install socat)`,
    );
  }
  const built = bwrapCommand({
    access,
    command: o.command,
    args: o.args,
    cwd: o.cwd,
    env: o.env,
    toolDir: o.toolDir,
    dataDir: o.dataDir,
    home: homedir(),
    runtimeDirs: [nodeRuntimeDir()],
    proxy,
    bwrap: available.bwrap,
    prlimit: available.prlimit,
    bash: available.bash,
  });
  if (!built.ok) throw new BriefcaseError('invalid_config', `${o.server} cannot start: ${built.reason}`);
  // bwrap itself starts in the tool directory; the server's own cwd is set inside (--chdir).
  const cwd = o.toolDir;
  const cgroup = process.getuid?.() === 0 ? pidsCgroup(o.dataDir, o.cgroupKey, access.limits.processes + 2) : null;
  if (cgroup) {
    // Join the pids cgroup before bwrap starts, so every process of the sandbox is in it.
    return {
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0" && exec "$@"', cgroup, built.command, ...built.args],
      env: built.env,
      cwd,
      cgroup,
    };
  }
  return { command: built.command, args: built.args, env: built.env, cwd };
}

/** macOS: the process under sandbox-exec with a profile generated from its manifest. */
function macLaunch(o: Parameters<typeof sandboxLaunch>[0]): StdioLaunch {
  const support = isolationSupport('darwin');
  if (!support.ok) throw new BriefcaseError('unavailable', `${o.server} cannot start: ${support.detail}`);
  if (o.proxy && !('tcpPort' in o.proxy)) throw new BriefcaseError('internal', 'the proxy is a TCP port on macOS');
  const command = o.command.startsWith('/') ? o.command : findExecutable(o.command);
  if (!command) throw new BriefcaseError('invalid_config', `${o.server} cannot start: ${o.command} is not on PATH`);
  const built = sandboxExecCommand({
    access: o.access,
    command,
    args: o.args,
    env: o.env,
    toolDir: o.toolDir,
    dataDir: o.dataDir,
    home: homedir(),
    runtimeDirs: [nodeRuntimeDir()],
    proxyPort: o.proxy?.tcpPort,
  });
  if (!built.ok) throw new BriefcaseError('invalid_config', `${o.server} cannot start: ${built.reason}`);
  return { command: built.command, args: built.args, env: built.env, cwd: o.cwd ?? o.toolDir };
}
