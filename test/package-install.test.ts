import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { VERSION } from '@briefcase/briefcased/version';
import { ROOT } from './helpers.ts';

/**
 * Issue 11, AC 1: the packed package (`npm run pack`) installed into a throwaway prefix, run as
 * `briefcase` from another directory with a fresh HOME: init, start --detach, status, restart, a
 * tool call through `briefcase mcp` with the official MCP SDK client, stop. Dependencies come
 * from npm's cache (or the registry this machine reaches); if npm cannot install the package the
 * test skips and says why.
 */
const base = mkdtempSync(join(tmpdir(), 'bc-pkg-'));
const prefix = join(base, 'prefix');
const home = join(base, 'home');
const elsewhere = join(base, 'elsewhere');
mkdirSync(home, { recursive: true });
mkdirSync(elsewhere, { recursive: true });

function pack(out: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/pack.ts'), '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `npm run pack failed: ${r.stderr}`);
  return r.stdout.trim();
}

const tarball = pack(join(base, 'pack'));
// npm's own cache and registry settings come from the real HOME; the CLI gets a fresh one.
const npmConfig = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k.toLowerCase().startsWith('npm_config_')),
) as Record<string, string>;
const npmCache = process.env.npm_config_cache ?? join(homedir(), '.npm');
const npmEnv = { PATH: process.env.PATH ?? '', HOME: homedir(), ...npmConfig, npm_config_cache: npmCache };
const install = spawnSync(
  'npm',
  ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
  { cwd: base, encoding: 'utf8', env: npmEnv, timeout: 600_000 },
);
const skip =
  install.status === 0
    ? false
    : `npm could not install ${tarball} (offline, from its cache or the registry): ${install.stderr.trim().split('\n').slice(-3).join(' ')}`;

/** The person's shell: the installed bin first on the PATH, Node 24 after it, a fresh HOME. */
const env: Record<string, string> = {
  PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
  HOME: home,
  LANG: 'C.UTF-8',
};

function briefcase(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('briefcase', args, { cwd: elsewhere, env, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run a command exactly as a message printed it, in the same shell environment. */
function runPrinted(command: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', command], { cwd: elsewhere, env, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Spawn the `briefcase` entry an agent host's configuration holds, as the host does (the SDK's
 * stdio client) with only the entry's own environment and a PATH that finds nothing (a desktop
 * host is not the person's shell), and call one tool through it.
 */
async function callThroughEntry(file: string, text: string): Promise<McpEntry> {
  const { mcpServers } = JSON.parse(readFileSync(file, 'utf8')) as { mcpServers: { briefcase: McpEntry } };
  const entry = mcpServers.briefcase;
  const client = new Client({ name: 'host-stand-in', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { ...entry.env, PATH: '/nonexistent' },
      cwd: '/',
      stderr: 'pipe',
    }),
  );
  try {
    const r = await client.callTool({ name: 'echo', arguments: { text } });
    assert.deepEqual(r.content, [{ type: 'text', text }]);
  } finally {
    await client.close();
  }
  return entry;
}

interface McpEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the packed package, installed and run from another directory (issue 11, AC 1)', { skip }, () => {
  let pid: number | undefined;
  before(() => {
    assert.equal(briefcase(['init', '--master-key', 'file']).code, 0);
  });
  after(() => {
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGTERM');
  });

  it('is reproducible: packing the same sources again gives the same tarball', () => {
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(pack(join(base, 'pack-again'))), sha(tarball));
  });

  it('briefcase --version runs the installed bundle (no TypeScript under node_modules)', () => {
    const r = briefcase(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it('with the daemon down, status fails and names `briefcase start --detach`, which works as printed', () => {
    const down = briefcase(['status']);
    assert.equal(down.code, 3, down.stderr);
    const command = /start it with `([^`]+)`/.exec(down.stderr)?.[1];
    assert.equal(command, 'briefcase start --detach', down.stderr);
    const started = runPrinted(`${command} --console-port 0`);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /running in the background \(pid \d+\)/);
  });

  it('status reports pid, version, uptime, listeners and the data directory; the console page is shipped', async () => {
    const r = briefcase(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      running: boolean;
      pid: number;
      version: string;
      uptime_s: number;
      home: string;
      listeners: { socket: string; console: string | null };
    };
    assert.equal(s.running, true);
    assert.equal(s.version, VERSION);
    assert.equal(s.home, join(home, '.briefcase'));
    assert.ok(alive(s.pid));
    assert.ok(s.uptime_s >= 0);
    assert.ok(s.listeners.console, 'the console listens');
    const page = await fetch(s.listeners.console);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="root">|<script/);
    pid = s.pid;
  });

  it('restart replaces the daemon with a new one', () => {
    const r = briefcase(['restart', '--console-port', '0']);
    assert.equal(r.code, 0, r.stderr);
    const next = Number(/in the background \(pid (\d+)\)/.exec(r.stdout)?.[1]);
    assert.ok(next > 0 && next !== pid, r.stdout);
    assert.equal(alive(pid!), false, 'the old daemon has exited');
    pid = next;
  });

  it('an MCP SDK client calls a tool through `briefcase mcp`', async () => {
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: 'briefcase', args: ['mcp'], cwd: elsewhere, env, stderr: 'pipe' }),
    );
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      const r = await client.callTool({ name: 'echo', arguments: { text: 'from the installed package' } });
      assert.deepEqual(r.content, [{ type: 'text', text: 'from the installed package' }]);
    } finally {
      await client.close();
    }
  });

  it('client connect from the installed package writes an entry that starts its gateway (issue 11, connect hosts)', async () => {
    mkdirSync(join(home, '.cursor'), { recursive: true });
    const r = briefcase(['client', 'connect', 'cursor']);
    assert.equal(r.code, 0, r.stderr);
    const entry = await callThroughEntry(join(home, '.cursor/mcp.json'), 'via the installed package');
    // The installed package's own entry script (not this checkout's, not a bare name), with this Node.
    assert.equal(entry.args[0], join(realpathSync(prefix), 'lib/node_modules/briefcase-agent/bin/briefcase.js'));
    assert.equal(realpathSync(entry.command), realpathSync(process.execPath));
    assert.deepEqual(entry.env, { BRIEFCASE_HOME: join(home, '.briefcase') });
    // The same entry `init` prints for pasting by hand.
    const printed = JSON.parse(briefcase(['init', '--json']).stdout) as {
      mcp_client_config: { mcpServers: { briefcase: McpEntry } };
    };
    assert.deepEqual(entry, printed.mcp_client_config.mcpServers.briefcase);
  });

  it('client connect run through npx writes an entry that works without npx, node or npm on the PATH', async () => {
    mkdirSync(join(home, '.codeium/windsurf'), { recursive: true });
    const r = spawnSync(
      'npx',
      ['--yes', '--prefer-offline', '--package', tarball, 'briefcase', 'client', 'connect', 'windsurf'],
      { cwd: elsewhere, env: { ...env, ...npmConfig, npm_config_cache: npmCache }, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const entry = await callThroughEntry(join(home, '.codeium/windsurf/mcp_config.json'), 'via npx');
    assert.ok(entry.args[0]?.split('/').includes('_npx'), `npx's copy of the package: ${entry.args[0]}`);
  });

  it('a QuickJS code tool runs in its worker thread, shipped as a bundle of its own', () => {
    const dir = join(ROOT, 'examples/tools/csv-to-json');
    const add = briefcase(['tools', 'add', join(dir, 'csv.js'), '--manifest', join(dir, 'manifest.json')]);
    assert.equal(add.code, 0, add.stderr);
    const r = briefcase(['tools', 'call', 'csv.to_json', '--args', '{"csv":"a,b\\n1,2\\n"}', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { result: { structuredContent: { records: unknown } } };
    assert.deepEqual(out.result.structuredContent.records, [{ a: '1', b: '2' }]);
  });

  it('stop waits for a clean exit, and nothing is lost: the call is in the verified receipt log', () => {
    const r = briefcase(['stop']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(alive(pid!), false);
    assert.equal(briefcase(['status']).code, 3);
    const out = join(base, 'receipts.jsonl');
    assert.equal(briefcase(['receipts', 'export', '--out', out]).code, 0);
    const verify = briefcase(['receipts', 'verify', out]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const records = readFileSync(out, 'utf8');
    assert.match(records, /"tool":"echo"/);
    assert.match(records, /"event":"stopped"/);
  });

  it('run through npx, its messages name `npx briefcase-agent`', () => {
    // npx installs the package under its cache's _npx/ (npm's cache, so its dependencies come from there).
    const r = spawnSync('npx', ['--yes', '--prefer-offline', '--package', tarball, 'briefcase', 'status'], {
      cwd: elsewhere,
      env: { ...env, ...npmConfig, npm_config_cache: npmCache },
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 3 && /npm error/.test(r.stderr)) {
      // npm itself failed (no registry): said, not hidden.
      assert.fail(`npx could not install the package: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    }
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /start it with `npx briefcase-agent start --detach`/);
  });

  it("with the daemon down, the agent's error says how to start it", async () => {
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: 'briefcase', args: ['mcp'], cwd: elsewhere, env, stderr: 'pipe' }),
    );
    try {
      const r = await client.callTool({ name: 'echo', arguments: { text: 'x' } }).catch((e: Error) => e);
      const text = r instanceof Error ? r.message : JSON.stringify(r.content);
      assert.match(text, /start it with `briefcase start --detach`/);
    } finally {
      await client.close();
    }
  });
});

after(() => rmSync(base, { recursive: true, force: true }));
