import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, ROOT, sleep } from './helpers.ts';

/**
 * Issue 9 AC-3: the daemon runs as a dedicated service user; a person's process in the agents'
 * group can use `briefcase mcp` and nothing else — not the data directory, the tokens, the vault,
 * the keys, nor the admin API. Systemd is not PID 1 here, so the test does what the unit does:
 * `briefcase service install --dedicated-user` (users, group, data dir, unit), then the unit's
 * ExecStart as its User= with its SupplementaryGroups= and UMask=, through setpriv(1).
 */

const TOOLS = ['useradd', 'userdel', 'groupadd', 'groupdel', 'usermod', 'runuser', 'setpriv', 'getent', 'install'];
const SBIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const which = (t: string) => SBIN.map((d) => join(d, t)).find((p) => existsSync(p));
const RUNUSER = which('runuser') ?? 'runuser';
const SETPRIV = which('setpriv') ?? 'setpriv';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'the service user is a Linux (systemd) deployment';
  if (process.getuid?.() !== 0) return 'needs root (creates system users); CI runs it as root';
  const missing = TOOLS.filter((t) => !which(t));
  if (missing.length > 0) return `missing ${missing.join(', ')} (Debian packages passwd, util-linux, coreutils)`;
  return false;
}

const SFX = randomBytes(3).toString('hex');
const SVC = `bcsvc${SFX}`;
const AGENTS = `bcagents${SFX}`;
const PERSON = `bcperson${SFX}`;
const OUTSIDER = `bcout${SFX}`;

function sh(argv: string[], input = ''): { status: number; stdout: string; stderr: string } {
  // System tools live in sbin, which a test runner's PATH may lack.
  const cmd = argv[0]!.startsWith('/') ? argv[0]! : (which(argv[0]!) ?? argv[0]!);
  const r = spawnSync(cmd, argv.slice(1), { encoding: 'utf8', input, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const ok = (argv: string[], input = '') => {
  const r = sh(argv, input);
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const id = (flag: '-u' | '-g', user: string) => Number(ok(['id', flag, user]).trim());
const gid = (group: string) => Number(ok(['getent', 'group', group]).split(':')[2]);
const canRun = (user: string, test: 'x' | 'r', path: string) =>
  sh([RUNUSER, '-u', user, '--', 'test', `-${test}`, path]).status === 0;

/**
 * What other users need: Node (the toolchain keeps it under root's 0700 home) and the repository
 * (CI may clone under a root-only directory). Whatever they cannot reach is put in a world-readable
 * temp directory: Node hard-linked (or copied), the workspace copied.
 */
function stage(base: string, probeUser: string): { node: string; root: string; staged: string[] } {
  const staged: string[] = [];
  let node = process.execPath;
  if (!canRun(probeUser, 'x', node)) {
    mkdirSync(join(base, 'node'), { mode: 0o755 });
    node = join(base, 'node', 'node');
    try {
      linkSync(process.execPath, node);
    } catch {
      copyFileSync(process.execPath, node);
    }
    chmodSync(node, 0o755);
    staged.push(`node (${process.execPath} is not reachable by other users)`);
  }
  let root = ROOT;
  const needed = [BIN, join(ROOT, 'node_modules/@modelcontextprotocol/sdk/package.json')];
  if (!needed.every((p) => canRun(probeUser, 'r', p))) {
    root = join(base, 'repo');
    mkdirSync(root, { mode: 0o755 });
    for (const part of ['package.json', 'apps', 'packages', 'node_modules']) {
      ok(['cp', '-a', join(ROOT, part), join(root, part)]);
    }
    ok(['chmod', '-R', 'a+rX,go-w', root]);
    staged.push(`the repository (${ROOT} is not reachable by other users)`);
  }
  return { node, root, staged };
}

/** The checks a person's (or an outsider's) process makes, run as that user. Plain JS: no build. */
const PROBE = `
import { openSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
const { dataDir, daemonSocket, agentSocket, files, adminCalls, tokens } = JSON.parse(process.argv[2]);
const out = { files: {}, calls: [] };
for (const f of files) { try { openSync(f, 'r'); out.files[f] = 'OPENED'; } catch (e) { out.files[f] = e.code; } }
try { readdirSync(dataDir); out.listDataDir = 'LISTED'; } catch (e) { out.listDataDir = e.code; }
const reach = (path) => new Promise((r) => { const s = connect(path); s.once('connect', () => { s.destroy(); r('CONNECTED'); }); s.once('error', (e) => r(e.code)); });
out.daemonSocket = await reach(daemonSocket);
out.agentSocket = await reach(agentSocket);
const call = (method, path, token, body) => new Promise((r) => {
  const headers = { ...(token ? { authorization: 'Bearer ' + token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
  const q = request({ socketPath: agentSocket, method, path, headers }, (res) => { let t = ''; res.on('data', (c) => (t += c)); res.on('end', () => r({ status: res.statusCode, body: t })); });
  q.on('error', (e) => r({ status: 0, body: e.code }));
  if (body) q.write(body);
  q.end();
});
if (out.agentSocket === 'CONNECTED') {
  out.agentTools = (await call('GET', '/v1/agent/tools')).status;
  for (const [method, path, body] of adminCalls) for (const token of tokens) {
    const r = await call(method, path, token, body);
    out.calls.push({ method, path, token: token ? token.slice(0, 9) : null, status: r.status, code: (() => { try { return JSON.parse(r.body).error.code; } catch { return r.body; } })() });
  }
}
process.stdout.write(JSON.stringify(out));
`;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() || d.isDirectory())
    .map((d) => join(d.parentPath, d.name));
}

function answers(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

describe('service user: the agent OS user cannot touch the daemon (issue 9 AC-3)', { skip: skipReason() }, () => {
  let base: string;
  let node: string;
  let cliPath: string;
  let data: string;
  let runDir: string;
  let unitDir: string;
  let socket: string;
  let daemon: ChildProcess | undefined;
  let daemonOut = '';
  let install: { steps: string[]; unit_path: string; agent_socket: string; manual_start: string[] };
  const briefcase = (args: string[], input = '') => sh([node, cliPath, ...args], input);

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'bc-svc-'));
    chmodSync(base, 0o755);
    for (const u of [PERSON, OUTSIDER]) {
      ok([
        'useradd',
        '--system',
        '--no-create-home',
        '--user-group',
        '--shell',
        which('nologin') ?? '/usr/sbin/nologin',
        u,
      ]);
    }
    const s = stage(base, OUTSIDER);
    if (s.staged.length > 0) process.stderr.write(`service-user test: staged ${s.staged.join(' and ')} in ${base}\n`);
    node = s.node;
    cliPath = join(s.root, relative(ROOT, BIN));
    data = join(base, 'data');
    runDir = join(base, 'run');
    unitDir = join(base, 'units');
    socket = join(runDir, 'agent.sock');
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon!.once('exit', r));
    }
    // Best effort, whatever the tests left: users first (their groups go with them), then groups.
    for (const u of [SVC, PERSON, OUTSIDER]) sh(['userdel', u]);
    for (const g of [SVC, AGENTS, PERSON, OUTSIDER]) sh(['groupdel', g]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('`service install --dedicated-user` creates the user, the group, the data dir and the unit', () => {
    const r = briefcase(
      [
        'service',
        'install',
        '--dedicated-user',
        '--user',
        SVC,
        '--group',
        AGENTS,
        '--home',
        data,
        '--socket-dir',
        runDir,
        '--unit-dir',
        unitDir,
        '--add-user',
        PERSON,
        '--node',
        node,
        '--no-start',
        '--json',
      ],
      '',
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    install = JSON.parse(r.stdout) as typeof install;
    assert.equal(install.agent_socket, socket);
    // The data directory: the service user's, closed (0700); the socket directory: the agents' (0750).
    const d = statSync(data);
    assert.equal(d.uid, id('-u', SVC));
    assert.equal(d.mode & 0o777, 0o700);
    const rd = statSync(runDir);
    assert.equal(rd.uid, id('-u', SVC));
    assert.equal(rd.gid, gid(AGENTS), 'the socket directory belongs to the agents group');
    assert.equal(rd.mode & 0o777, 0o750);
    assert.ok(existsSync(join(data, 'admin.token')) && existsSync(join(data, 'config.json')));
    assert.ok(
      listFiles(data).every((f) => statSync(f).uid === id('-u', SVC)),
      'every file is the service user’s',
    );
    // The person was added to the agents group; the service user is in it too (to hand it the socket).
    const members = ok(['getent', 'group', AGENTS]).trim().split(':')[3]!.split(',');
    assert.ok(members.includes(PERSON) && members.includes(SVC), members.join(','));
    assert.ok(!members.includes(OUTSIDER));
    const unit = readFileSync(install.unit_path, 'utf8');
    assert.match(unit, new RegExp(`^User=${SVC}$`, 'm'));
    assert.match(unit, /^ProtectSystem=strict$/m);
  });

  it('is idempotent: a second install creates nothing again', () => {
    const r = briefcase(
      [
        'service',
        'install',
        '--dedicated-user',
        '--user',
        SVC,
        '--group',
        AGENTS,
        '--home',
        data,
        '--socket-dir',
        runDir,
        '--unit-dir',
        unitDir,
        '--add-user',
        PERSON,
        '--node',
        node,
        '--no-start',
        '--json',
      ],
      '',
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const again = JSON.parse(r.stdout) as typeof install;
    assert.deepEqual(
      again.steps.filter((s) => /^(\S*\/)?(groupadd|useradd|usermod)\b|^write /.test(s)),
      [],
      again.steps.join('\n'),
    );
  });

  it('the installed unit passes `systemd-analyze verify`', (t) => {
    const analyze = which('systemd-analyze');
    if (!analyze) return t.skip('systemd-analyze is missing (Debian package: systemd)');
    const r = sh([analyze, 'verify', '--man=no', install.unit_path]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stderr.split('\n').filter((l) => l.includes('briefcase.service')),
      [],
      r.stderr,
    );
  });

  it('the daemon runs as the service user (the unit’s ExecStart, User=, SupplementaryGroups=, UMask=)', async () => {
    const [cmd, ...args] = install.manual_start;
    assert.equal(cmd, node);
    daemon = spawn(
      SETPRIV,
      [
        `--reuid=${id('-u', SVC)}`,
        `--regid=${id('-g', SVC)}`,
        `--groups=${gid(AGENTS)}`,
        '--inh-caps=-all',
        '--no-new-privs',
        '--',
        '/bin/sh',
        '-c',
        'umask 0077 && exec "$@"',
        'sh',
        cmd!,
        ...args,
      ],
      {
        env: { PATH: '/usr/bin:/bin', HOME: data, BRIEFCASE_HOME: data, NODE_DISABLE_COMPILE_CACHE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    daemon.stdout!.on('data', (c) => (daemonOut += c));
    daemon.stderr!.on('data', (c) => (daemonOut += c));
    const deadline = Date.now() + 30_000;
    while (!(await answers(socket))) {
      assert.equal(daemon.exitCode, null, `the daemon exited:\n${daemonOut}`);
      assert.ok(Date.now() < deadline, `the agent socket never answered:\n${daemonOut}`);
      await sleep(100);
    }
    // As the administrator would: a secret in the vault, set as the service user (the admin CLI's way).
    const set = sh(
      [
        'runuser',
        '-u',
        SVC,
        '--',
        'env',
        '-i',
        `HOME=${data}`,
        'NODE_DISABLE_COMPILE_CACHE=1',
        node,
        cliPath,
        '--home',
        data,
        'secrets',
        'set',
        'canary_key',
      ],
      `canary-${SFX}-value\n`,
    );
    assert.equal(set.status, 0, set.stderr);
    const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
    const uids = /^Uid:\s+(.*)$/m.exec(status)![1]!.split(/\s+/).map(Number);
    assert.deepEqual(uids, [id('-u', SVC), id('-u', SVC), id('-u', SVC), id('-u', SVC)]);
    const st = statSync(socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, gid(AGENTS));
    assert.equal(st.uid, id('-u', SVC));
  });

  it('a person in the agents group uses `briefcase mcp --socket` (official MCP SDK client)', async () => {
    // BRIEFCASE_HOME points at the daemon's data directory, which the person cannot read: the
    // gateway must not need it (a read there would fail with EACCES and so would this test).
    const transport = new StdioClientTransport({
      command: RUNUSER,
      args: ['-u', PERSON, '--', node, cliPath, 'mcp', '--socket', socket],
      env: { PATH: '/usr/bin:/bin', BRIEFCASE_HOME: data, NODE_DISABLE_COMPILE_CACHE: '1' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (c) => (stderr += c));
    const client = new Client({ name: 'service-user-test-agent', version: '1.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.ok(
        tools.some((t) => t.name === 'echo'),
        `tools: ${tools.map((t) => t.name).join(', ')} ${stderr}`,
      );
      const r = await client.callTool({ name: 'echo', arguments: { text: 'from the person' } });
      assert.equal(r.isError, undefined, JSON.stringify(r) + stderr);
      assert.deepEqual(r.content, [{ type: 'text', text: 'from the person' }]);
    } finally {
      await client.close();
    }
  });

  const adminCalls: [string, string, string?][] = [
    ['GET', '/v1/admin/status'],
    ['GET', '/v1/admin/secrets'],
    ['GET', '/v1/admin/approvals'],
    ['POST', '/v1/admin/approvals/a1/approve', '{}'],
    ['PUT', '/v1/admin/policy', '{"text":"permit(principal, action, resource);"}'],
    ['POST', '/v1/admin/tools/call', '{"tool":"echo","args":{"text":"x"}}'],
    ['GET', '/v1/admin/receipts/export'],
    ['POST', '/v1/admin/keys/rotate', '{"role":"receipts"}'],
  ];

  function probe(
    user: string,
    adminToken: string,
  ): Record<string, unknown> & {
    files: Record<string, string>;
    calls: { method: string; path: string; token: string | null; status: number; code: string }[];
  } {
    const script = join(base, 'probe.mjs');
    writeFileSync(script, PROBE, { mode: 0o644 });
    const files = listFiles(data);
    const input = {
      dataDir: data,
      daemonSocket: join(data, 'daemon.sock'),
      agentSocket: socket,
      files,
      adminCalls,
      // No token; one of the right shape, guessed; and the real admin token, as if it had leaked.
      tokens: [null, `bc_admin_${randomBytes(32).toString('base64url')}`, adminToken],
    };
    const r = sh([RUNUSER, '-u', user, '--', node, script, JSON.stringify(input)]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ReturnType<typeof probe>;
  }

  it('the person cannot read the data directory, reach the daemon socket, or use an admin route', () => {
    const files = listFiles(data);
    const names = files.map((f) => relative(data, f));
    // The things worth stealing are all there to be tried.
    for (const f of [
      'agent.token',
      'admin.token',
      'gateway-http.token',
      'master.key',
      'config.json',
      'briefcase.db',
      'keys/receipts.json',
      'vault.json',
    ]) {
      assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
    }
    // Defence in depth: with UMask=0077 no file grants anything to group or others by its own mode.
    for (const f of files)
      assert.equal(statSync(f).mode & 0o077, 0, `${f} mode ${(statSync(f).mode & 0o777).toString(8)}`);

    const adminToken = readFileSync(join(data, 'admin.token'), 'utf8').trim();
    const out = probe(PERSON, adminToken);
    for (const f of files) assert.equal(out.files[f], 'EACCES', `${f}: ${out.files[f]}`);
    assert.equal(out.listDataDir, 'EACCES');
    assert.equal(out.daemonSocket, 'EACCES');
    assert.equal(out.agentSocket, 'CONNECTED');
    assert.equal(out.agentTools, 200);
    assert.equal(out.calls.length, adminCalls.length * 3);
    for (const c of out.calls) {
      assert.equal(c.status, 403, JSON.stringify(c));
      assert.equal(c.code, 'forbidden', JSON.stringify(c));
    }
    assert.ok(!JSON.stringify(out).includes(`canary-${SFX}`));
  });

  it('a user outside the agents group cannot even connect to the agent socket, and is told which group to join', () => {
    const out = probe(OUTSIDER, 'bc_admin_x');
    assert.equal(out.agentSocket, 'EACCES');
    assert.equal(out.daemonSocket, 'EACCES');
    assert.ok(Object.values(out.files).every((v) => v === 'EACCES'));
    const r = sh([RUNUSER, '-u', OUTSIDER, '--', node, cliPath, 'mcp', '--socket', socket]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /\[permission_denied\]/);
    assert.ok(r.stderr.includes(`sudo usermod -aG ${AGENTS} ${OUTSIDER}`), r.stderr);
  });

  it('`service status` reports the install; `service uninstall --purge` removes user, groups and data', async () => {
    const st = briefcase(['service', 'status', '--unit-dir', unitDir, '--json']);
    assert.equal(st.status, 0, st.stderr + st.stdout);
    const facts = JSON.parse(st.stdout) as Record<string, unknown>;
    assert.equal(facts.user, SVC);
    assert.equal(facts.daemon_answers, true);

    daemon!.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
    const kept = briefcase(['service', 'uninstall', '--unit-dir', unitDir, '--dry-run', '--json']);
    assert.equal(kept.status, 0, kept.stderr);
    assert.ok(existsSync(install.unit_path), 'a dry run changes nothing');
    const r = briefcase(['service', 'uninstall', '--unit-dir', unitDir, '--purge', '--json']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.ok(!existsSync(install.unit_path));
    assert.ok(!existsSync(data));
    assert.notEqual(sh(['getent', 'passwd', SVC]).status, 0);
    assert.notEqual(sh(['getent', 'group', AGENTS]).status, 0);
  });
});
