import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const BIN = join(ROOT, 'apps/cli/bin/briefcase.js');

/** A fresh data directory under the system temp dir (short path: Unix sockets max ~107 bytes). */
export function tempHome(): { home: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'bc-'));
  return { home: join(base, 'h'), cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/**
 * Run the real CLI (`node apps/cli/bin/briefcase.js …`) to completion. `env` replaces this
 * process's environment (a test that must not see the real HOME, XDG_* or APPDATA).
 */
export function cli(
  home: string,
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = process.env,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...env, BRIEFCASE_HOME: home },
    input: input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (needed when this process also runs an upstream server). */
export function cliAsync(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, BRIEFCASE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.once('exit', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

export function cliJson<T = Record<string, unknown>>(
  home: string,
  args: string[],
  input?: string,
): { code: number; json: T; stderr: string } {
  const r = cli(home, [...args, '--json'], input);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`briefcase ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

export interface DaemonProcess {
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/**
 * Start `briefcase start` as a real process and wait until its socket answers. `inheritFile`:
 * the daemon inherits a read descriptor of that file (fd 200, not close-on-exec), as a daemon may
 * from whatever starts it (Node reuses low descriptor numbers for its own, so a high one survives).
 */
export async function startDaemon(
  home: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  o: { inheritFile?: string } = {},
): Promise<DaemonProcess> {
  const [command, argv] = o.inheritFile
    ? ['/bin/bash', ['-c', 'exec 200<"$0"; exec "$@"', o.inheritFile, process.execPath, BIN, 'start', ...args]]
    : [process.execPath, [BIN, 'start', ...args]];
  const proc = spawn(command, argv, {
    env: { ...process.env, BRIEFCASE_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c) => (out += c));
  proc.stderr?.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}:\n${out}`);
    if (await healthy(home)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`daemon did not become healthy:\n${out}`);
    }
    await sleep(50);
  }
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export function healthy(home: string): Promise<boolean> {
  const sock = join(home, 'daemon.sock');
  if (!existsSync(sock) || !existsSync(join(home, 'admin.token'))) return Promise.resolve(false);
  const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
  return new Promise((res) => {
    const r = request(
      { socketPath: sock, path: '/v1/health', headers: { authorization: `Bearer ${token}` } },
      (resp) => {
        resp.resume();
        res(resp.statusCode === 200);
      },
    );
    r.on('error', () => res(false));
    r.end();
  });
}

/** A raw call to the daemon API with a given token (for authorisation tests). */
export function daemonRequest(
  home: string,
  method: string,
  path: string,
  token: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const r = request(
      {
        socketPath: join(home, 'daemon.sock'),
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (resp) => {
        let text = '';
        resp.on('data', (c) => (text += c));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, body: text }));
      },
    );
    r.on('error', rej);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

export function token(home: string, which: 'agent' | 'admin' | 'gateway-http'): string {
  return readFileSync(join(home, `${which}.token`), 'utf8').trim();
}

/** An official-SDK MCP client that spawns `briefcase mcp` over stdio, as an agent host does. */
export async function stdioClient(
  home: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<Client> {
  return (await stdioClientWithPid(home, extraArgs, env)).client;
}

/** `stdioClient`, and the pid of the `briefcase mcp` process it spawned. */
export async function stdioClientWithPid(
  home: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ client: Client; pid: number }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...extraArgs],
    env: { PATH: process.env.PATH ?? '', BRIEFCASE_HOME: home, ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'briefcase-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid! };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every receipt record in the daemon's log, read through the offline export path. */
export function receiptRecords(
  home: string,
): { seq: number; kind: string; actor: string; body: Record<string, unknown> }[] {
  const out = join(home, '..', `export-${Date.now()}-${Math.random()}.jsonl`);
  const r = cli(home, ['receipts', 'export', '--out', out]);
  if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"type":"record"'))
    .map(
      (l) =>
        (JSON.parse(l) as { record: { seq: number; kind: string; actor: string; body: Record<string, unknown> } })
          .record,
    );
}

/** A remote MCP server as `briefcase remote list --json` shows it. */
export interface RemoteSummary {
  name: string;
  status: string;
  error: string | null;
  auth: string;
  tools: { name: string; remote_name: string; hash: string; pinned: string | null; changed: boolean }[];
}

/** One server from `briefcase remote list --json` (without blocking this process). */
export async function remoteState(home: string, name: string): Promise<RemoteSummary | undefined> {
  const r = await cliAsync(home, ['remote', 'list', '--json']);
  return (JSON.parse(r.stdout) as { servers: RemoteSummary[] }).servers.find((s) => s.name === name);
}
