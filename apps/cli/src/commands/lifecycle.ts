import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { daemonAnswers, type DataPaths } from '@briefcase/briefcased/paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import type { AdminClient } from '../client.ts';
import { DAEMON_NODE_FLAGS } from '../daemon-flags.ts';
import { mcpClientConfig } from '../mcp-entry.ts';
import { print, printJson, warn } from '../output.ts';
import { oneLine } from '../safe-text.ts';

/**
 * The daemon in the background: `start --detach`, `stop`, `restart`, `status`. The daemon itself
 * writes `daemon.pid` once everything listens and removes it when it has stopped cleanly; a
 * detached daemon's stdout and stderr go to logs/start.log (its log proper is logs/daemon.log).
 * Nothing here loads the daemon: a detached start spawns `briefcase start` again.
 */

/** What a detached daemon inherits from the shell that starts it; nothing else passes. */
const PASSED_ENV =
  /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_\w+|TZ|TMPDIR|XDG_\w+|DBUS_SESSION_BUS_ADDRESS|BRIEFCASE_\w+|OTEL_\w+|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|NODE_COMPILE_CACHE|NODE_DISABLE_COMPILE_CACHE|HTTPS?_PROXY|https?_proxy|NO_PROXY|no_proxy)$/;

export function detachedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && PASSED_ENV.test(k)));
}

const READY_TIMEOUT_MS = Number(process.env.BRIEFCASE_START_TIMEOUT_MS ?? 120_000);
const STOP_TIMEOUT_MS = Number(process.env.BRIEFCASE_STOP_TIMEOUT_MS ?? 60_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readPid(paths: DataPaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/**
 * `briefcase start --detach`: spawn `briefcase start` (the same flags) in its own session, and
 * return once it answers on its socket and has written its pid file, or fail with its output.
 */
export async function startDetached(paths: DataPaths, startArgs: string[], json: boolean): Promise<number> {
  if (await daemonAnswers(paths.socket)) {
    throw new BriefcaseError(
      'conflict',
      `a daemon is already running on ${paths.socket} (pid ${readPid(paths) ?? '?'}): \`${cliCommand(...homeArgsFor(paths.home), 'status')}\` shows it`,
    );
  }
  if (!existsSync(paths.adminToken) && !startArgs.includes('--init-demo')) {
    throw new BriefcaseError(
      'invalid_config',
      `${paths.home} is not initialised: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\` first`,
    );
  }
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const outFile = join(paths.logs, 'start.log');
  const out = openSync(outFile, 'w', 0o600);
  const entry = process.argv[1]!;
  const child = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, entry, '--home', paths.home, 'start', ...startArgs, '--detached-child'],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: detachedEnv(),
      cwd: paths.home,
    },
  );
  closeSync(out);
  let exited: number | null | undefined;
  child.once('exit', (code, signal) => (exited = code ?? (signal ? 128 : 1)));
  child.unref();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      warn(`briefcase: the daemon did not start (exit ${exited}). Its output (${outFile}):`);
      warn(tail(outFile));
      return 1;
    }
    if (readPid(paths) === child.pid && (await daemonAnswers(paths.socket))) break;
    if (Date.now() > deadline) {
      warn(
        `briefcase: the daemon (pid ${child.pid}) is not ready after ${READY_TIMEOUT_MS / 1000} s; it keeps trying. See ${outFile} and ${paths.logs}/daemon.log`,
      );
      return 1;
    }
    await sleep(100);
  }
  const again = (...a: string[]) => cliCommand(...homeArgsFor(paths.home), ...a);
  if (json) {
    printJson({ running: true, pid: child.pid, home: paths.home, log: join(paths.logs, 'daemon.log') });
    return 0;
  }
  print(`briefcased is running in the background (pid ${child.pid})`);
  print(`  data directory  ${paths.home}`);
  print(`  logs            ${paths.logs}/daemon.log (start-up output: ${outFile})`);
  print(`  status          ${again('status')}`);
  print(`  stop            ${again('stop')}`);
  print('\nConnect an agent host (Claude Desktop, Cursor, …) with this MCP configuration:');
  print(JSON.stringify(mcpClientConfig(paths.home), null, 2));
  print(
    `(or let \`${again('client', 'connect')} HOST\` write it there; HOST: claude-desktop, claude-code, cursor, vscode, windsurf)`,
  );
  return 0;
}

/** The pid of the daemon of this data directory: what it says of itself, else its pid file. */
async function daemonPid(paths: DataPaths, admin: () => Promise<AdminClient>): Promise<number | undefined> {
  if (await daemonAnswers(paths.socket)) {
    try {
      const s = await (await admin()).get<{ pid?: number }>('/v1/admin/status');
      if (typeof s.pid === 'number') return s.pid;
    } catch {
      // Answers but not to us (a token changed): the pid file still names it.
    }
  }
  // Not answering: the pid file is all there is, and anyone who can write the data directory can
  // write it. Signal only a live process that is a `briefcase … start` (where /proc tells).
  const pid = readPid(paths);
  return pid !== undefined && alive(pid) && isDaemonProcess(pid) ? pid : undefined;
}

function isDaemonProcess(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform !== 'linux'; // no /proc (macOS): the pid file and the signal check
  }
  const argv = cmdline.split('\0');
  return argv.some((a) => /briefcase(\.js)?$/.test(a)) && argv.includes('start');
}

/** `briefcase stop`: SIGTERM, then wait until the daemon has closed its receipt log and exited. */
export async function stop(paths: DataPaths, admin: () => Promise<AdminClient>, json: boolean): Promise<number> {
  const pid = await daemonPid(paths, admin);
  if (pid === undefined) {
    rmSync(paths.pidFile, { force: true });
    if (json) printJson({ running: false, stopped: false });
    else print(`No daemon is running for ${paths.home}.`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      warn(
        `briefcase: the daemon (pid ${pid}) is still stopping after ${STOP_TIMEOUT_MS / 1000} s; see ${paths.logs}/daemon.log`,
      );
      return 1;
    }
    await sleep(100);
  }
  if (json) printJson({ running: false, stopped: true, pid });
  else print(`briefcased (pid ${pid}) stopped.`);
  return 0;
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** `briefcase status`: running, pid, version, listeners, uptime, data dir, and what it does. */
export async function status(admin: AdminClient, json: boolean): Promise<void> {
  const s = await admin.get<Record<string, unknown>>('/v1/admin/status');
  if (json) return printJson({ running: true, ...s });
  const listeners = (s.listeners ?? {}) as Record<string, string | null>;
  print(
    `briefcased is running (pid ${String(s.pid)}, version ${String(s.version)}, up ${duration(Number(s.uptime_s ?? 0))})`,
  );
  for (const [k, v] of Object.entries(listeners)) if (v) print(`  ${oneLine(k).padEnd(17)} ${oneLine(v)}`);
  for (const [k, v] of Object.entries(s)) {
    if (['pid', 'version', 'uptime_s', 'listeners'].includes(k)) continue;
    print(`  ${oneLine(k).padEnd(17)} ${oneLine(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  }
}
