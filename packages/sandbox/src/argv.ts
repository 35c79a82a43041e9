import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, normalize, relative, sep } from 'node:path';
import type { AccessManifest } from '@briefcase/protocol';
import { hostEntry, systemLinks, type HostEntry } from './available.ts';

/** Where the egress proxy's Unix socket appears inside the sandbox. */
export const PROXY_SOCKET_IN_SANDBOX = '/run/briefcase/egress.sock';

/** Host paths under /etc that a program commonly needs and that say nothing about the person. */
const ETC_READ_ONLY = ['/etc/ssl', '/etc/ca-certificates', '/etc/pki', '/etc/alternatives', '/etc/localtime'];

/** Environment variables the MCP SDK's stdio transport adds from the daemon's own environment. */
const SDK_DEFAULT_ENV = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'];

/**
 * Memory a JIT runtime reserves writable at start (Node 24 maps a ~512 MiB code range), added to
 * `memory_mb` for RLIMIT_DATA so the limit bounds what the server allocates, not the runtime's map.
 */
export const RUNTIME_RESERVE_MB = 768;

export interface SandboxSpec {
  access: AccessManifest;
  command: string;
  args: string[];
  /** Working directory; must lie inside a granted path or the tool directory. Default: the tool directory. */
  cwd?: string | undefined;
  /** The environment the server gets (granted variables and resolved secrets), nothing else. */
  env: Record<string, string>;
  /** The server's own directory (read-write, HOME inside the sandbox). */
  toolDir: string;
  /** The daemon's data directory: never visible inside, whatever is granted. */
  dataDir: string;
  /** For `$HOME/…` grants: the person's home directory. */
  home: string;
  /** Runtime install directories bound read-only (Node's, when it lives outside /usr). */
  runtimeDirs: string[];
  /** The egress proxy: its Unix socket on the host and the loopback port the bridge listens on inside. */
  proxy?: { socketPath: string; port: number } | undefined;
  bwrap: string;
  prlimit: string;
  bash: string;
  /** Injected for tests; default: the real file system. */
  fs?: { realpath(p: string): string; lstat(p: string): HostEntry };
}

export type SandboxCommand =
  { ok: true; command: string; args: string[]; env: Record<string, string> } | { ok: false; reason: string };

const inside = (child: string, parent: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/**
 * The bubblewrap command line that runs `command` with only what `access` grants: fresh user,
 * PID, IPC, network, UTS and cgroup namespaces, no capabilities, a read-only system (/usr and the
 * runtime), a private /tmp, its own /proc and a minimal /dev, the tool directory read-write, and
 * resource limits set by prlimit before the server's program starts. Pure apart from resolving
 * symlinks of granted paths (a grant is checked where it really points).
 */
export function bwrapCommand(spec: SandboxSpec): SandboxCommand {
  const fs = spec.fs ?? { realpath: (p: string) => realpathSync(p), lstat: hostEntry };
  const real = (p: string): string | null => {
    try {
      return fs.realpath(p);
    } catch {
      return null;
    }
  };
  const dataDir = real(spec.dataDir) ?? normalize(spec.dataDir);
  const toolDir = real(spec.toolDir);
  if (!toolDir) return { ok: false, reason: `the tool directory ${spec.toolDir} does not exist` };
  if (!inside(toolDir, dataDir) || toolDir === dataDir)
    return { ok: false, reason: 'the tool directory must be inside the data directory' };

  const binds: { from: string; to: string; rw: boolean }[] = [];
  for (const grant of spec.access.filesystem) {
    const expanded = grant.path.startsWith('$TOOL_DIR')
      ? spec.toolDir + grant.path.slice('$TOOL_DIR'.length)
      : grant.path.startsWith('$HOME')
        ? spec.home + grant.path.slice('$HOME'.length)
        : grant.path;
    if (!isAbsolute(expanded)) return { ok: false, reason: `granted path ${grant.path} is not absolute` };
    const target = real(expanded);
    const named = normalize(expanded);
    const inData = (p: string) =>
      (inside(p, dataDir) || inside(p, normalize(spec.dataDir))) && !inside(p, toolDir) && !inside(p, spec.toolDir);
    if (inData(named) || (target && inData(target))) {
      return {
        ok: false,
        reason: `granted path ${grant.path} is inside the Briefcase data directory: only the tool's own directory may be granted`,
      };
    }
    // A grant of something that does not exist is skipped: bwrap would refuse to start.
    if (!target) continue;
    binds.push({ from: target, to: named, rw: grant.access === 'rw' });
  }

  const args: string[] = [
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/usr',
    '/usr',
    ...systemLinks(fs.lstat),
  ];
  for (const etc of ETC_READ_ONLY) {
    const entry = fs.lstat(etc);
    if (entry.kind === 'dir' || entry.kind === 'file') args.push('--ro-bind', etc, etc);
    else if (entry.kind === 'symlink') args.push('--symlink', entry.target, etc);
  }
  for (const dir of spec.runtimeDirs) {
    const r = real(dir);
    if (!r) continue;
    if (inside(r, dataDir)) return { ok: false, reason: `the runtime ${dir} is inside the data directory` };
    if (!inside(r, '/usr')) args.push('--ro-bind', r, r);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/run/briefcase');
  for (const b of binds) args.push(b.rw ? '--bind' : '--ro-bind', b.from, b.to);
  // A granted parent of the data directory ($HOME) must not show it: an empty tmpfs covers it.
  if (binds.some((b) => inside(dataDir, b.from))) args.push('--tmpfs', dataDir);
  args.push('--bind', toolDir, toolDir);
  if (spec.proxy) args.push('--ro-bind', spec.proxy.socketPath, PROXY_SOCKET_IN_SANDBOX);

  const cwd = spec.cwd ? normalize(spec.cwd) : toolDir;
  if (!inside(cwd, toolDir) && !binds.some((b) => inside(cwd, b.to))) {
    return { ok: false, reason: `the working directory ${cwd} is not granted to the server` };
  }
  args.push('--chdir', cwd);

  // The environment: exactly the granted one. bwrap passes its own environment on, so secrets
  // travel in bwrap's environment (readable only by the daemon's user), never in its argv.
  const runtimeBins = spec.runtimeDirs.map((d) => `${d}/bin`);
  const env: Record<string, string> = {
    LANG: 'C.UTF-8',
    ...spec.env,
    PATH: [...runtimeBins, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: toolDir,
    TMPDIR: '/tmp',
  };
  if (spec.proxy) {
    const url = `http://127.0.0.1:${spec.proxy.port}`;
    Object.assign(env, {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: '',
      NODE_USE_ENV_PROXY: '1',
    });
  }
  for (const name of SDK_DEFAULT_ENV) if (!(name in env)) args.push('--unsetenv', name);

  const l = spec.access.limits;
  const limits = [
    `--data=${(l.memory_mb + RUNTIME_RESERVE_MB) * 1024 * 1024}`,
    // Counted per user namespace: only this sandbox's processes (bwrap's own init among them).
    `--nproc=${l.processes + 1}`,
    // Soft below hard: SIGXCPU ends it at the limit (an end the daemon can name), SIGKILL a second later.
    `--cpu=${l.cpu_seconds}:${l.cpu_seconds + 1}`,
    `--nofile=${l.open_files}`,
    '--core=0',
  ];
  const program = [spec.prlimit, ...limits, '--', spec.command, ...spec.args];
  // bwrap passes on every descriptor it inherited (the daemon may have inherited some without
  // close-on-exec from whatever started it): close all but stdio before anything else runs.
  const script = ['for f in /proc/self/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done'];
  if (spec.proxy) {
    // The sandbox has no network; a bridge inside it listens on its own loopback and forwards
    // to the daemon's egress proxy through the bound Unix socket.
    const port = spec.proxy.port;
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    script.push(
      `socat TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${PROXY_SOCKET_IN_SANDBOX} </dev/null >/dev/null 2>&1 &`,
      // Wait (at most ~2 s) until the bridge listens, so the server's first request finds it.
      `i=0; while [ $i -lt 200 ] && ! grep -q ':${hex} 00000000:0000 0A' /proc/net/tcp; do i=$((i+1)); sleep 0.01; done`,
    );
  }
  script.push('exec "$@"');
  args.push('--', spec.bash, '-c', script.join('\n'), 'sandbox', ...program);
  return { ok: true, command: spec.bwrap, args, env };
}

/** The install directory of the running Node (bound read-only so `node` servers can run). */
export function nodeRuntimeDir(): string {
  return dirname(dirname(realpathSync(process.execPath)));
}
