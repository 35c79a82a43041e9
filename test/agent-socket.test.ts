import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN, cli, startDaemon, tempHome, token, type DaemonProcess } from './helpers.ts';

/** A raw request on a Unix socket, with or without a bearer token. */
function onSocket(
  socketPath: string,
  method: string,
  path: string,
  bearer?: string,
  body?: string,
): Promise<{ status: number; json: { role?: string; error?: { code: string } } }> {
  return new Promise((res, rej) => {
    const r = request(
      {
        socketPath,
        method,
        path,
        headers: {
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (resp) => {
        let text = '';
        resp.on('data', (c) => (text += c));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, json: JSON.parse(text || '{}') as never }));
      },
    );
    r.on('error', rej);
    if (body) r.write(body);
    r.end();
  });
}

/** An MCP host spawning the gateway with no data directory in its environment at all. */
async function socketClient(args: string[], env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...args],
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'agent-socket-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('agent socket: the connection is the agent, whatever it sends (docs/service.md)', () => {
  const { home, cleanup } = tempHome();
  const run = join(home, '..', 'run');
  const socket = join(run, 'agent.sock');
  const group = String(process.getgid?.() ?? 0);
  let daemon: DaemonProcess;

  before(async () => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    mkdirSync(run, { mode: 0o750 });
    chmodSync(run, 0o750);
    daemon = await startDaemon(home, ['--agent-socket', socket, '--agent-group', group]);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('is created 0660 and given to the configured group', () => {
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, Number(group));
    assert.match(daemon.output(), /agent socket {4}unix:/);
  });

  it('serves the agent routes with no token', async () => {
    assert.deepEqual((await onSocket(socket, 'GET', '/v1/health')).json.role, 'agent');
    assert.equal((await onSocket(socket, 'GET', '/v1/agent/tools')).status, 200);
  });

  it('answers 403 on admin routes even to the real admin token (a leaked token is no key here)', async () => {
    const admin = token(home, 'admin');
    assert.equal((await onSocket(socket, 'GET', '/v1/health', admin)).json.role, 'agent');
    for (const [method, path, body] of [
      ['GET', '/v1/admin/status'],
      ['GET', '/v1/admin/secrets'],
      ['PUT', '/v1/admin/policy', '{"text":"permit(principal, action, resource);"}'],
      ['POST', '/v1/admin/tools/call', '{"tool":"echo","args":{}}'],
    ] as const) {
      for (const bearer of [undefined, admin, 'bc_admin_guessed']) {
        const r = await onSocket(socket, method, path, bearer, body);
        assert.equal(r.status, 403, `${method} ${path} ${bearer?.slice(0, 9)}`);
        assert.equal(r.json.error?.code, 'forbidden');
      }
    }
    // The main socket keeps its tokens: the admin token still works there.
    assert.equal((await onSocket(join(home, 'daemon.sock'), 'GET', '/v1/admin/status', admin)).status, 200);
  });

  it('`briefcase mcp --socket` and BRIEFCASE_AGENT_SOCKET work without any data directory', async () => {
    for (const client of [
      await socketClient(['--socket', socket]),
      await socketClient([], { BRIEFCASE_AGENT_SOCKET: socket, BRIEFCASE_HOME: '/nonexistent/briefcase' }),
    ]) {
      try {
        const r = await client.callTool({ name: 'echo', arguments: { text: 'via the agent socket' } });
        assert.deepEqual(r.content, [{ type: 'text', text: 'via the agent socket' }]);
      } finally {
        await client.close();
      }
    }
  });

  it('`briefcase mcp --socket --http` keeps its bearer token in a file of its own (0600), not the data dir', async () => {
    const tokenFile = join(run, '..', 'person', 'gateway-http.token');
    const gw = spawn(
      process.execPath,
      [BIN, 'mcp', '--socket', socket, '--http', '127.0.0.1:0', '--token-file', tokenFile],
      { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      gw.stdout.on('data', (c) => (out += c));
      const url = await new Promise<string>((res, rej) => {
        gw.stdout.on('data', () => {
          const m = /on (http:\/\/\S+\/mcp)/.exec(out);
          if (m) res(m[1]!);
        });
        gw.once('exit', (code) => rej(new Error(`gateway exited ${code}: ${out}`)));
      });
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      const bearer = readFileSync(tokenFile, 'utf8').trim();
      const client = new Client({ name: 'agent-socket-http-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${bearer}` } },
        }),
      );
      try {
        const r = await client.callTool({ name: 'echo', arguments: { text: 'over http' } });
        assert.deepEqual(r.content, [{ type: 'text', text: 'over http' }]);
      } finally {
        await client.close();
      }
    } finally {
      gw.kill('SIGTERM');
    }
  });

  it('says plainly when the socket is missing, or the path is not absolute', () => {
    const missing = cli('/nonexistent/briefcase', ['mcp', '--socket', join(run, 'nope.sock')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no agent socket at .*nope\.sock.*\[daemon_unreachable\]/);
    const relative = cli('/nonexistent/briefcase', ['mcp', '--socket', 'agent.sock']);
    assert.equal(relative.code, 2);
    assert.match(relative.stderr, /absolute path/);
  });
});

describe('agent socket: unsafe configurations refuse the start', () => {
  const { home, cleanup } = tempHome();
  const run = join(home, '..', 'run');
  const group = String(process.getgid?.() ?? 0);
  before(() => {
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    mkdirSync(run, { mode: 0o750 });
  });
  after(cleanup);

  const start = (args: string[]) => cli(home, ['start', ...args]);

  it('a directory others can write to (they could put their own socket there)', () => {
    chmodSync(run, 0o777);
    try {
      const r = start(['--agent-socket', join(run, 'agent.sock'), '--agent-group', group]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /others can write to it.*\[invalid_config\]/s);
    } finally {
      chmodSync(run, 0o750);
    }
  });

  it('something that is not a socket at the path, a missing directory or group, a relative path', () => {
    writeFileSync(join(run, 'file.sock'), 'not a socket');
    const cases: [string[], RegExp][] = [
      [['--agent-socket', join(run, 'file.sock'), '--agent-group', group], /not a socket/],
      [['--agent-socket', join(run, 'missing', 'a.sock'), '--agent-group', group], /does not exist: create it/],
      [
        ['--agent-socket', join(run, 'a.sock'), '--agent-group', 'no-such-group-bc'],
        /there is no group "no-such-group-bc"/,
      ],
      [['--agent-socket', 'run/a.sock', '--agent-group', group], /absolute path/],
      [['--agent-socket', join(run, 'a.sock'), '--agent-group', 'Bad Group'], /group name/],
      [['--agent-socket', join(run, 'a.sock')], /go together/],
      [['--agent-socket', join(home, 'agent.sock'), '--agent-group', group], /inside the data directory/],
    ];
    for (const [args, message] of cases) {
      const r = start(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('`daemon.agent_socket` in config.json is validated the same way', () => {
    const config = join(home, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ version: 1, daemon: { agent_socket: { path: 'relative.sock', group: 'x' } } }),
    );
    const r = start([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /daemon\.agent_socket\.path: must be an absolute path/);
  });
});
