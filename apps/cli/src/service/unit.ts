import { posix } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../daemon-flags.ts';

/**
 * The systemd unit of a dedicated-user install (docs/service.md). Pure: the same options give
 * the same text, so it is unit-tested and checked with `systemd-analyze verify`.
 */
export interface ServiceLayout {
  /** The daemon's system user; also its primary group, which no person is in. */
  user: string;
  /** The group whose members' processes may use the agent socket (and nothing else). */
  agentsGroup: string;
  /** The data directory, the service user's home (0700, owned by it). */
  home: string;
  /** Where the agent socket lives; under /run it is the unit's RuntimeDirectory. */
  socketDir: string;
  /** Absolute paths of Node 24 and of bin/briefcase.js, readable by the service user. */
  node: string;
  cli: string;
  /** chgrp(1), run with privileges before start to give the runtime directory to the agents. */
  chgrp: string;
}

export const UNIT_NAME = 'briefcase.service';
export const SOCKET_NAME = 'agent.sock';

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
// No spaces, quotes, `%` (a systemd specifier) or `$`: every path goes into the unit unquoted.
const SAFE_PATH = /^\/[A-Za-z0-9._+/@-]*$/;

/** Every problem with a layout, each naming the option; empty when it is good. */
export function checkLayout(l: ServiceLayout): string[] {
  const problems: string[] = [];
  if (!NAME.test(l.user)) problems.push(`--user "${l.user}": use lower case letters, digits, _ and - (32 at most)`);
  if (!NAME.test(l.agentsGroup)) {
    problems.push(`--group "${l.agentsGroup}": use lower case letters, digits, _ and - (32 at most)`);
  }
  if (l.user === l.agentsGroup)
    problems.push('--user and --group must differ: the agents must not share the daemon’s group');
  const paths: [string, string][] = [
    ['--home', l.home],
    ['--socket-dir', l.socketDir],
    ['node', l.node],
    ['the briefcase CLI', l.cli],
    ['chgrp', l.chgrp],
  ];
  for (const [what, p] of paths) {
    if (!SAFE_PATH.test(p) || p.split('/').includes('..')) {
      problems.push(`${what} "${p}": needs an absolute path of letters, digits and ._+@-/ only`);
    }
  }
  for (const [what, p] of [
    ['--home', l.home],
    ['--socket-dir', l.socketDir],
  ] as const) {
    if (p === '/' || p.endsWith('/') || posix.normalize(p) !== p)
      problems.push(`${what} "${p}": give a plain directory path`);
  }
  if (isInside(l.socketDir, l.home) || isInside(l.home, l.socketDir)) {
    problems.push('--socket-dir and --home must not contain each other: the data directory stays closed to the agents');
  }
  if (Buffer.byteLength(agentSocketPath(l)) > 103)
    problems.push(`--socket-dir "${l.socketDir}": too long for a Unix socket path`);
  return problems;
}

export function agentSocketPath(l: Pick<ServiceLayout, 'socketDir'>): string {
  return posix.join(l.socketDir, SOCKET_NAME);
}

/** systemd creates and removes a RuntimeDirectory= under /run; anywhere else the install makes it. */
export function runtimeDirectory(socketDir: string): string | null {
  const m = /^\/run\/(.+?)\/?$/.exec(socketDir);
  return m ? m[1]! : null;
}

function isInside(path: string, dir: string): boolean {
  const rel = posix.relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !posix.isAbsolute(rel));
}

/** The command the unit runs; also how to run the daemon by hand where systemd is not PID 1. */
export function execStart(l: ServiceLayout): string[] {
  return [
    l.node,
    ...DAEMON_NODE_FLAGS,
    l.cli,
    '--home',
    l.home,
    'start',
    '--agent-socket',
    agentSocketPath(l),
    '--agent-group',
    l.agentsGroup,
  ];
}

export function serviceUnit(l: ServiceLayout): string {
  const problems = checkLayout(l);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  const runtime = runtimeDirectory(l.socketDir);
  const lines = [
    '# Written by `briefcase service install --dedicated-user` (docs/service.md).',
    '# `briefcase service uninstall` removes it; the data directory stays unless --purge.',
    '[Unit]',
    `Description=Briefcase daemon, as the dedicated user ${l.user}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${l.user}`,
    `Group=${l.user}`,
    // The daemon gives the agent socket to this group; a process may chgrp only to its own groups.
    `SupplementaryGroups=${l.agentsGroup}`,
    `Environment=BRIEFCASE_HOME=${l.home}`,
    `Environment=HOME=${l.home}`,
    // Node's compile cache (bin/briefcase.js) goes to the cache directory, not the data directory.
    'Environment=XDG_CACHE_HOME=%C',
    'CacheDirectory=briefcase',
    'CacheDirectoryMode=0700',
    ...(runtime
      ? [
          `RuntimeDirectory=${runtime}`,
          'RuntimeDirectoryMode=0750',
          // RuntimeDirectory= belongs to User:Group; the agents need its group to reach the socket.
          `ExecStartPre=+${l.chgrp} ${l.agentsGroup} ${l.socketDir}`,
        ]
      : []),
    `ExecStart=${execStart(l).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=2s',
    'TimeoutStopSec=30s',
    'UMask=0077',
    // Nothing on the system is writable but the data directory (and the runtime and cache ones).
    'ProtectSystem=strict',
    `ReadWritePaths=${l.home}${runtime ? '' : ` ${l.socketDir}`}`,
    // The people's homes are not the daemon's business, nor theirs its.
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateMounts=yes',
    // Other users' processes are invisible to it, and its IPC objects go when it stops.
    'ProtectProc=invisible',
    'RemoveIPC=yes',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'RestrictSUIDSGID=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'LockPersonality=yes',
    'RestrictRealtime=yes',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    // Not PrivateDevices=: a TPM (/dev/tpmrm0) or a PKCS#11 token may hold the keys (docs/keys.md).
    // Not MemoryDenyWriteExecute=: V8 compiles JavaScript to machine code at run time.
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
