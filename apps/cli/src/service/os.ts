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
