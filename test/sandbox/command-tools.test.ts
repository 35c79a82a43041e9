import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { findExecutable, sandboxAvailable } from '@briefcase/sandbox';
import { cli, cliJson, healthy, ROOT, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import {
  addCommandTool,
  callTool,
  countingServer,
  toolReceipts,
  type CountingServer,
} from './lib/command-tool-harness.ts';

const available = sandboxAvailable();
const skip = !available.ok
  ? `the OS sandbox is not usable here (Debian package: bubblewrap): ${available.reason}`
  : !available.socat
    ? 'command tools with a network grant need socat (Debian package: socat)'
    : !findExecutable('jq')
      ? 'the json.query example runs jq (Debian package: jq)'
      : !findExecutable('curl')
        ? 'the escape cases use curl (Debian package: curl)'
        : false;

/** BC_ESCAPE_ISOLATION=none runs the hostile tool unsandboxed: its escape cases must then fail. */
const ISOLATION = process.env['BC_ESCAPE_ISOLATION'] === 'none' ? 'none' : 'sandbox';

/**
 * Issue 10, command tools, through the real gateway (the official MCP SDK client → `briefcase
 * mcp` → briefcased): the shipped `json.query` example (jq) works end to end and its arguments
 * stay literal; a hostile command tool, installed with `briefcase tools add`, runs in the same
 * bubblewrap sandbox as a stdio server and tries each way out (AC 1 cases for command tools).
 */
describe('command tools through the gateway (issue 10)', { skip }, () => {
  const { home, cleanup } = tempHome();
  const work = mkdtempSync(join(home, '..', 'command-tools-'));
  const CANARY = `canary-${randomUUID()}`;
  const person = mkdtempSync(join(home, '..', 'person-'));
  let daemon: DaemonProcess;
  let agent: Client;
  let granted: CountingServer;
  let other: CountingServer;

  const add = (definition: Record<string, unknown>) => addCommandTool(home, work, definition);
  const call = (name: string, args: Record<string, unknown>) => callTool(agent, name, args);
  const receiptsOf = (tool: string) => toolReceipts(home, tool);
  /** The hostile tool runs a bash script of the agent's choosing: the tool is the attacker. */
  const attack = async (script: string) => {
    const out = await call('attack.sh', { script });
    assert.ok(!out.text.includes(CANARY), `no canary in what the tool returned: ${out.text}`);
    return out;
  };

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    writeFileSync(join(home, 'canary.txt'), CANARY);
    mkdirSync(join(person, '.ssh'), { recursive: true });
    writeFileSync(join(person, '.ssh', 'id_ed25519'), CANARY);
    granted = await countingServer((_req, res) => res.end('granted upstream ok'));
    other = await countingServer((_req, res) => res.end(`not for tools ${CANARY}`));
    daemon = await startDaemon(home, [], { BC_CMD_CANARY: CANARY, HOME: person });
    add(JSON.parse(readFileSync(join(ROOT, 'examples/tools/json-query/tool.json'), 'utf8')) as Record<string, unknown>);
    add({
      kind: 'command',
      name: 'attack.sh',
      description: 'a hostile command tool: runs the script it is given',
      category: 'read',
      input_schema: { type: 'object', properties: { script: { type: 'string' } }, required: ['script'] },
      argv: ['bash', '-c', '{script}'],
      timeout_ms: 8000,
      access: {
        isolation: ISOLATION,
        network: [`127.0.0.1:${granted.port}`],
        limits: { processes: 16, memory_mb: 64, cpu_seconds: 10 },
      },
    });
    agent = await stdioClient(home);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    granted?.server.close();
    other?.server.close();
    cleanup();
  });

  it('the json.query example (jq) runs end to end; its result is stdout, receipted', async () => {
    const out = await call('json.query', {
      filter: '.items | map(.price) | add',
      input: { items: [{ price: 2 }, { price: 3 }] },
    });
    assert.equal(out.r.isError, undefined, out.text);
    assert.equal(out.text.trim(), '5');
    const receipts = receiptsOf('json.query');
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0]!.body.outcome, 'ok');
  });

  it('concurrent calls each get their own run and their own result', async () => {
    const outs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call('json.query', { filter: '.n * 10', input: { n: i } })),
    );
    assert.deepEqual(
      outs.map((o) => o.text.trim()),
      ['0', '10', '20', '30', '40', '50'],
    );
  });

  it('shell syntax in an argument stays literal: there is no shell', async () => {
    const out = await call('json.query', { filter: '"$(id) `id`; cat /etc/passwd"', input: null });
    assert.equal(out.text.trim(), '"$(id) `id`; cat /etc/passwd"');
  });

  it('an argument that would be read as an option is refused (invalid_args), and nothing runs', async () => {
    const before = receiptsOf('json.query').length;
    const out = await call('json.query', { filter: '--rawfile', input: 1 });
    assert.equal(out.code, 'invalid_args', out.text);
    assert.match(out.text, /may not start with "-"/);
    assert.equal(receiptsOf('json.query').length, before + 1);
  });

  it('a non-zero exit is a tool error with the program’s message', async () => {
    const out = await call('json.query', { filter: '.[', input: {} });
    assert.equal(out.r.isError, true);
    assert.match(out.text, /exited with \d/);
  });

  it('cannot read the data directory, admin.token or the daemon’s environment', async () => {
    const adminToken = readFileSync(join(home, 'admin.token'), 'utf8').trim();
    const out = await attack(
      `cat ${home}/canary.txt ${home}/admin.token; ls -la ${home}; cat /proc/$PPID/environ /proc/1/environ | tr '\\0' '\\n'; env; ls /proc; echo done`,
    );
    assert.match(out.text, /done/, 'the script ran to its end');
    assert.ok(!out.text.includes(adminToken), 'admin.token is not visible');
    assert.ok(!/BC_CMD_CANARY|BRIEFCASE_HOME/.test(out.text), 'no variable of the daemon leaks');
  });

  it('cannot read the person’s ~/.ssh, and inherits no descriptor beyond stdio', async () => {
    const out = await attack(
      `cat ${person}/.ssh/id_ed25519; ls ${person}; ls /proc/self/fd | tr '\\n' ' '; echo; echo done`,
    );
    assert.match(out.text, /done/);
    // ls itself opens one descriptor (3) to read the directory.
    assert.match(out.text, /^0 1 2 3 $/m, out.text);
  });

  it('cannot write outside its own directory', async () => {
    await attack(
      `echo x > ${home}/planted; echo x > /usr/planted; echo x > ${ROOT}/planted; echo ok > $HOME/mine; echo done`,
    );
    for (const p of [join(home, 'planted'), '/usr/planted', join(ROOT, 'planted')]) assert.ok(!existsSync(p), p);
    assert.equal(readFileSync(join(home, 'command-tools', 'attack.sh', 'work', 'mine'), 'utf8'), 'ok\n');
  });

  it('has no network of its own: a direct connection to loopback fails and reaches nothing', async () => {
    const out = await attack(
      `exec 3<>/dev/tcp/127.0.0.1/${other.port} && echo CONNECTED; exec 3<>/dev/tcp/127.0.0.1/${granted.port} && echo CONNECTED; echo done`,
    );
    assert.ok(!out.text.includes('CONNECTED'), out.text);
    assert.equal(other.hits, 0);
  });

  it('reaches a granted host through the egress proxy', async () => {
    const out = await attack(`curl -sS http://127.0.0.1:${granted.port}/`);
    assert.equal(out.r.isError, undefined, out.text);
    assert.match(out.text, /granted upstream ok/);
  });

  it('a host not in its manifest (loopback, the metadata address) is sandbox_violation with one receipt', async () => {
    for (const target of [`127.0.0.1:${other.port}`, '169.254.169.254:80', `localhost:${other.port}`]) {
      const before = receiptsOf('attack.sh').length;
      const out = await attack(`curl -sS --max-time 5 http://${target}/; sleep 5; echo finished`);
      assert.equal(out.code, 'sandbox_violation', `${target}: ${out.text}`);
      assert.ok(!out.text.includes('finished'), 'the run is stopped at the refusal');
      const receipts = receiptsOf('attack.sh').slice(before);
      assert.equal(receipts.length, 1, 'exactly one receipt');
      assert.equal(receipts[0]!.body.outcome, 'sandbox_violation');
      assert.match(String(receipts[0]!.body.detail), /egress refused host/);
    }
    assert.equal(other.hits, 0, 'nothing reached the refused server');
  });

  it('`briefcase doctor` says which isolation command tools get here', () => {
    const doctor = cliJson<{ code: string; ok: boolean; message: string }[]>(home, ['doctor']).json;
    const check = doctor.find((c) => c.code === 'sandbox_available');
    assert.ok(check?.ok, JSON.stringify(doctor));
    assert.match(
      check.message,
      /bubblewrap .* runs: stdio MCP servers and command tools run in their sandbox \(linux\)/,
    );
  });

  it('a fork bomb is bounded: sandbox_violation with one receipt, the daemon stays healthy, the next call works', async () => {
    const before = receiptsOf('attack.sh').length;
    const out = await call('attack.sh', { script: 'f(){ f | f & }; f; sleep 30' });
    assert.equal(out.code, 'sandbox_violation', out.text);
    const receipts = receiptsOf('attack.sh').slice(before);
    assert.equal(receipts.length, 1, 'exactly one receipt');
    // As root the kernel's count of refused forks (a pids cgroup) stops it at once; otherwise its time limit does.
    assert.match(
      String(receipts[0]!.body.detail),
      process.getuid?.() === 0 ? /process limit/ : /process limit|timeout/,
    );
    assert.ok(await healthy(home));
    const next = await call('json.query', { filter: '.a', input: { a: 7 } });
    assert.equal(next.text.trim(), '7');
  });
});
