import { realpathSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import type { AccessManifest } from '@briefcase/protocol';

/**
 * macOS: a `sandbox-exec` (Seatbelt, SBPL) profile generated from an access manifest.
 *
 * THIS HAS NEVER RUN ON macOS. No test, and no person, has executed `sandbox-exec` with a profile
 * from this file: it is written from Apple's own profiles (/System/Library/Sandbox/Profiles) and
 * the SBPL used by Chromium and @anthropic-ai/sandbox-runtime, and only unit tests on Linux
 * (sbpl.test.ts) read the profile's text. Nothing here is known to confine anything. Before
 * relying on it, run the escape suite (test/sandbox/) on a Mac. `sandbox-exec` is deprecated by
 * Apple but still present.
 *
 * The profile: deny by default; read-only the system libraries and the runtime; read-write only
 * the tool's own directory (its HOME, and its `tmp/` as TMPDIR: macOS has no private /tmp);
 * the granted paths; network only to the daemon's egress proxy on loopback (its TCP port, as
 * SBPL can name only `localhost` or `*` as a host); exec of the command and nothing else.
 */
export interface SbplSpec {
  access: AccessManifest;
  /** The program, as an absolute path (the only one the profile lets it exec). */
  command: string;
  toolDir: string;
  dataDir: string;
  home: string;
  /** Runtime install directories (Node's), read-only. */
  runtimeDirs: string[];
  /** The egress proxy's TCP port on 127.0.0.1, when the manifest grants network. */
  proxyPort?: number | undefined;
  /** Injected for tests; default: the real file system (a grant is checked where it points). */
  realpath?: (p: string) => string;
}

/** What the system itself needs read-only (dyld, frameworks, locale, time zones, certificates). */
const SYSTEM_READ_ONLY = [
  '/usr/lib',
  '/usr/share',
  '/System/Library',
  '/Library/Apple/System/Library',
  '/private/etc/ssl',
  '/private/var/db/timezone',
];
const DEVICES = ['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom'];

const inside = (child: string, parent: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/**
 * An SBPL string literal. Quotes and backslashes are escaped, so a path with `"` or `)` cannot
 * end the string and add a rule; control characters (a newline would end a comment-free line
 * just the same) are refused outright.
 */
export function sbplString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s))
    throw new Error(`a path with a control character cannot be granted: ${JSON.stringify(s)}`);
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export type SbplProfile = { ok: true; profile: string } | { ok: false; reason: string };

/** The profile text for one sandboxed process, or why the manifest cannot be granted. */
export function sbplProfile(spec: SbplSpec): SbplProfile {
  const real = (p: string): string | null => {
    try {
      return (spec.realpath ?? realpathSync)(p);
    } catch {
      return null;
    }
  };
  if (!isAbsolute(spec.command)) return { ok: false, reason: `the command ${spec.command} is not an absolute path` };
  const dataDir = real(spec.dataDir) ?? normalize(spec.dataDir);
  const toolDir = real(spec.toolDir) ?? normalize(spec.toolDir);
  if (!inside(toolDir, dataDir) || toolDir === dataDir)
    return { ok: false, reason: 'the tool directory must be inside the data directory' };
  const ro: string[] = [...SYSTEM_READ_ONLY];
  const rw: string[] = [toolDir];
  for (const grant of spec.access.filesystem) {
    const expanded = grant.path.startsWith('$TOOL_DIR')
      ? spec.toolDir + grant.path.slice('$TOOL_DIR'.length)
      : grant.path.startsWith('$HOME')
        ? spec.home + grant.path.slice('$HOME'.length)
        : grant.path;
    if (!isAbsolute(expanded)) return { ok: false, reason: `granted path ${grant.path} is not absolute` };
    const named = normalize(expanded);
    const target = real(expanded) ?? named;
    for (const p of [named, target]) {
      // Inside the data directory (other than the tool's own), or a parent of it: SBPL has no
      // reliable way to carve the data directory out of a granted parent, so such a grant is refused.
      if ((inside(p, dataDir) && !inside(p, toolDir)) || inside(dataDir, p)) {
        return { ok: false, reason: `granted path ${grant.path} contains or is inside the Briefcase data directory` };
      }
    }
    (grant.access === 'rw' ? rw : ro).push(target);
  }
  for (const dir of spec.runtimeDirs) {
    const r = real(dir) ?? dir;
    if (inside(r, dataDir) || inside(dataDir, r))
      return { ok: false, reason: `the runtime ${dir} overlaps the data directory` };
    ro.push(r);
  }
  const command = real(spec.command) ?? spec.command;
  if (inside(command, dataDir)) return { ok: false, reason: 'the command is inside the data directory' };
  try {
    const lines = [
      '(version 1)',
      '; Generated by Briefcase from the tool access manifest (packages/sandbox/src/sbpl.ts). Not yet run on macOS.',
      '(deny default)',
      `(allow process-exec (literal ${sbplString(command)}))`,
      '(allow process-fork)',
      '(allow signal (target self))',
      '(allow sysctl-read)',
      `(allow file-read* ${[...new Set(ro)].map((p) => `(subpath ${sbplString(p)})`).join(' ')})`,
      `(allow file-read* (literal ${sbplString(command)}))`,
      `(allow file-read* file-write* ${[...new Set(rw)].map((p) => `(subpath ${sbplString(p)})`).join(' ')})`,
      `(allow file-read* file-write-data ${DEVICES.map((d) => `(literal ${sbplString(d)})`).join(' ')})`,
    ];
    if (spec.proxyPort !== undefined) {
      if (!Number.isInteger(spec.proxyPort) || spec.proxyPort < 1 || spec.proxyPort > 65_535)
        return { ok: false, reason: 'the egress proxy port is not a TCP port' };
      lines.push(`(allow network-outbound (remote tcp ${sbplString(`localhost:${spec.proxyPort}`)}))`);
    }
    return { ok: true, profile: `${lines.join('\n')}\n` };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * The command line that runs `command` under `sandbox-exec` with the generated profile: `/bin/sh`
 * sets the limits it can (open files, CPU seconds, data size; macOS counts RLIMIT_NPROC over all
 * of the user's processes, so `processes` is not applied), then execs sandbox-exec.
 */
export function sandboxExecCommand(
  spec: SbplSpec & { args: string[]; env: Record<string, string>; sandboxExec?: string },
): { ok: true; command: string; args: string[]; env: Record<string, string> } | { ok: false; reason: string } {
  const built = sbplProfile(spec);
  if (!built.ok) return built;
  const l = spec.access.limits;
  const tmp = join(spec.toolDir, 'tmp');
  const env: Record<string, string> = {
    LANG: 'C.UTF-8',
    ...spec.env,
    PATH: [...spec.runtimeDirs.map((d) => `${d}/bin`), '/usr/bin', '/bin'].join(':'),
    HOME: spec.toolDir,
    TMPDIR: tmp,
  };
  if (spec.proxyPort !== undefined) {
    const url = `http://127.0.0.1:${spec.proxyPort}`;
    Object.assign(env, {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NODE_USE_ENV_PROXY: '1',
    });
  }
  const limits = `ulimit -n ${l.open_files}; ulimit -t ${l.cpu_seconds}; ulimit -d ${l.memory_mb * 1024}; mkdir -p "$0"; exec "$@"`;
  return {
    ok: true,
    command: '/bin/sh',
    args: [
      '-c',
      limits,
      tmp,
      spec.sandboxExec ?? '/usr/bin/sandbox-exec',
      '-p',
      built.profile,
      spec.command,
      ...spec.args,
    ],
    env,
  };
}
