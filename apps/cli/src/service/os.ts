import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readlinkSync } from 'node:fs';
import { BriefcaseError } from '@briefcase/protocol/errors';

/** The system tools a dedicated-user install runs, found on the usual sbin/bin paths. */
const SEARCH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findTool(name: string): string | null {
  for (const dir of SEARCH) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return null;
}

export function requireTools(names: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const p = findTool(n);
    if (p) found[n] = p;
    else missing.push(n);
  }
  if (missing.length > 0) {
    throw new BriefcaseError(
      'unsupported_platform',
      `this system lacks ${missing.join(', ')} (shadow-utils / passwd, util-linux, coreutils): a dedicated-user install needs them`,
    );
  }
  return found;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** systemctl can only start units where systemd is PID 1 (not in most containers). */
export function systemdIsPid1(): boolean {
  try {
    return (
      readlinkSync('/proc/1/exe').endsWith('/systemd') || readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd'
    );
  } catch {
    return false;
  }
}

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run a command without a shell; a failure is an error naming the command and what it said. */
export function run(argv: string[], options: { input?: string; allowFail?: boolean } = {}): Ran {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
  const ran = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!options.allowFail && ran.status !== 0) {
    throw new BriefcaseError(
      'internal',
      `\`${argv.join(' ')}\` failed (exit ${ran.status}): ${(ran.stderr || ran.stdout || String(r.error ?? '')).trim()}`,
    );
  }
  return ran;
}

/** uid, gid and home of a user, from NSS (getent). */
export function lookupUser(name: string): { uid: number; gid: number; home: string } | null {
  const r = run(['getent', 'passwd', name], { allowFail: true });
  if (r.status !== 0) return null;
  const [, , uid, gid, , home] = r.stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid), home: home ?? '' };
}

/** Can `user` execute (x) or read (r) this path, every directory above it included? */
export function userCan(runuser: string, user: string, test: 'x' | 'r', path: string): boolean {
  return run([runuser, '-u', user, '--', 'test', `-${test}`, path], { allowFail: true }).status === 0;
}

/** Where systemd looks for units; a unit written elsewhere is not started by the install. */
export const SYSTEMD_UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];
const TOOLS = ['getent', 'groupadd', 'groupdel', 'useradd', 'userdel', 'usermod', 'runuser', 'install', 'chgrp'];

/** One thing an install or uninstall does: said (and printed by --dry-run), then done. */
export interface Step {
  say: string;
  act: () => void;
}

/** Linux, and (unless only printing) root with the system tools. */
export function preflight(needRoot: boolean): Record<string, string> {
  if (process.platform !== 'linux') {
    throw new BriefcaseError(
      'unsupported_platform',
      `service install is for Linux with systemd; on ${process.platform} see docs/service.md (macOS: a launchd LaunchDaemon)`,
    );
  }
  if (!needRoot) return {};
  if (!isRoot()) {
    throw new BriefcaseError(
      'permission_denied',
      'service install must run as root (it creates a system user and writes a systemd unit): `sudo briefcase service install --dedicated-user`, or --dry-run to see what it would do',
    );
  }
  return requireTools(TOOLS);
}
