import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { findExecutable, sandboxAvailable } from '@briefcase/sandbox';
import { cli, healthy, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import {
  addCommandTool,
  callTool,
  countingServer,
  toolReceipts,
  type CallOutcome,
  type CountingServer,
} from './lib/command-tool-harness.ts';

const available = sandboxAvailable();
const skip = !available.ok
  ? `the OS sandbox is not usable here (Debian package: bubblewrap): ${available.reason}`
  : !available.socat
    ? 'command tools with a network grant need socat (Debian package: socat)'
    : !findExecutable('curl')
      ? 'the escape cases use curl (Debian package: curl)'
      : false;

/** BC_ESCAPE_ISOLATION=none runs the hostile tool unsandboxed: its escape cases must then fail. */
const ISOLATION = process.env['BC_ESCAPE_ISOLATION'] === 'none' ? 'none' : 'sandbox';
const LIMITS = { processes: 16, memory_mb: 64, cpu_seconds: 10 };
const TOOL = 'hostile.sh';

/**
 * Issue 10, AC 1, the cases test/sandbox/command-tools.test.ts leaves to this file: a hostile
 * command tool (a bash script of the agent's choosing, installed with `briefcase tools add`, with
 * an access manifest granting one loopback upstream by address and by name, and one read-only
 * directory) is called through the real gateway by an official-SDK client and tries links,
 * memory and process bombs, every spelling of loopback, a name that resolves to it, an
 * ungranted host, redirects, inherited descriptors and the daemon's environment. Every call
 * leaves exactly one receipt; where the daemon sees the attempt, the call is sandbox_violation.
 */
describe('command tools: the escape cases (issue 10, AC 1)', { skip }, () => {
  const { home, cleanup } = tempHome();
  const work = mkdtempSync(join(home, '..', 'hostile-'));
  const person = mkdtempSync(join(home, '..', 'person-'));
  const shared = mkdtempSync(join(home, '..', 'shared-'));
  const CANARY = `canary-${randomUUID()}`;
  const toolWork = join(home, 'command-tools', TOOL, 'work');
  let daemon: DaemonProcess;
  let agent: Client;
  let granted: CountingServer;
  let other: CountingServer;

  /** One call of the hostile script: never the canary in what it returns, and exactly one receipt. */
  const attack = async (script: string): Promise<CallOutcome & { receipt: Record<string, unknown> }> => {
    const before = toolReceipts(home, TOOL).length;
    const out = await callTool(agent, TOOL, { script });
    assert.ok(!out.text.includes(CANARY), `no canary in what the tool returned: ${out.text}`);
    const receipts = toolReceipts(home, TOOL).slice(before);
    assert.equal(receipts.length, 1, `exactly one receipt for ${script}`);
    return { ...out, receipt: receipts[0]!.body };
  };
  /** A call the daemon must stop: sandbox_violation, receipted so, with `detail` matching. */
  const violation = async (script: string, detail: RegExp) => {
    const out = await attack(script);
    assert.equal(out.code, 'sandbox_violation', `${script}: ${out.text}`);
    assert.ok(!out.text.includes('FINISHED'), `${script}: the run is stopped at the violation`);
    assert.equal(out.receipt['outcome'], 'sandbox_violation');
    assert.match(String(out.receipt['detail']), detail, script);
    return out;
  };
  const hostFiles = () => [join(home, 'canary.txt'), join(home, 'admin.token'), join(person, '.ssh', 'id_ed25519')];
  const unchanged = (contents: string[]) =>
    assert.deepEqual(
      hostFiles().map((p) => readFileSync(p, 'utf8')),
      contents,
      'the host files are untouched',
    );

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    writeFileSync(join(home, 'canary.txt'), CANARY);
    mkdirSync(join(person, '.ssh'), { recursive: true });
    writeFileSync(join(person, '.ssh', 'id_ed25519'), CANARY);
    writeFileSync(join(shared, 'granted.txt'), 'shared ok');
    other = await countingServer((_req, res) => res.end(`not for tools ${CANARY}`));
    granted = await countingServer((req, res) => {
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) res.writeHead(302, { location: to }).end();
      else res.end('granted upstream ok');
    });
    daemon = await startDaemon(home, [], { BC_CMD_CANARY: CANARY, HOME: person }, { inheritFile: hostFiles()[0]! });
    addCommandTool(home, work, {
      kind: 'command',
      name: TOOL,
      description: 'a hostile command tool: runs the bash script it is given',
      category: 'read',
      input_schema: { type: 'object', properties: { script: { type: 'string' } }, required: ['script'] },
      argv: ['bash', '-c', '{script}'],
      timeout_ms: 15_000,
      access: {
        isolation: ISOLATION,
        filesystem: [{ path: shared, access: 'ro' }],
        network: [`127.0.0.1:${granted.port}`, `localhost:${granted.port}`],
        limits: LIMITS,
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

  it('the control: the granted upstream and the granted directory are reachable', async () => {
    const out = await attack(`curl -sS http://127.0.0.1:${granted.port}/; echo; cat ${shared}/granted.txt`);
    assert.equal(out.r.isError, undefined, out.text);
    assert.match(out.text, /granted upstream ok\nshared ok/);
  });

  it('symlinks in its writable directory do not read or write what they point at', async () => {
    const before = hostFiles().map((p) => readFileSync(p, 'utf8'));
    const out = await attack(
      [
        `ln -s ${home}/canary.txt $HOME/to-canary; ln -s ${person}/.ssh/id_ed25519 $HOME/to-key`,
        `ln -s ${home} $HOME/to-data; ln -s ${shared}/granted.txt $HOME/to-shared`,
        'cat $HOME/to-canary $HOME/to-key $HOME/to-data/admin.token',
        'echo planted > $HOME/to-canary; echo planted > $HOME/to-key; echo planted > $HOME/to-data/admin.token',
        'echo planted > $HOME/to-shared || echo READ-ONLY; cat $HOME/to-shared; echo; echo FINISHED',
      ].join('\n'),
    );
    assert.match(
      out.text,
      /READ-ONLY[\s\S]*shared ok\s+FINISHED/,
      'a link to a granted read-only file stays read-only',
    );
    assert.equal(out.receipt['outcome'], 'ok');
    unchanged(before);
    assert.equal(readFileSync(join(shared, 'granted.txt'), 'utf8'), 'shared ok');
    // The links it left behind lead nowhere on a later run either.
    const again = await attack('cat $HOME/to-canary $HOME/to-key $HOME/to-data/admin.token; echo FINISHED');
    assert.match(again.text, /FINISHED/);
  });

  it('hard links to files outside its directory are refused (no such file, or another mount)', async () => {
    const out = await attack(
      [
        `ln ${home}/admin.token $HOME/h-token; ln ${person}/.ssh/id_ed25519 $HOME/h-key`,
        `ln ${shared}/granted.txt $HOME/h-shared; ln /usr/bin/env $HOME/h-env`,
        'ls $HOME; echo FINISHED',
      ].join('\n'),
    );
    assert.match(out.text, /FINISHED/);
    const targets = [...hostFiles(), join(shared, 'granted.txt'), '/usr/bin/env'].map((p) => statSync(p));
    for (const name of readdirSync(toolWork)) {
      const s = lstatSync(join(toolWork, name));
      if (s.isSymbolicLink()) continue; // the case above
      assert.ok(!targets.some((t) => t.ino === s.ino && t.dev === s.dev), `${name} is not a hard link to a host file`);
    }
    for (const t of targets.slice(0, 4)) assert.equal(t.nlink, 1, 'no new link to a protected file');
  });

  it('a memory bomb is stopped at its memory limit: sandbox_violation, one receipt, the daemon unaffected', async () => {
    // Address space, not touched pages: were the limit missing, it would get its 4 GiB at no cost and finish.
    await violation(
      `node -e 'const a = []; for (let i = 0; i < 16; i++) a.push(new ArrayBuffer(256 * 2 ** 20)); console.log("FINISHED")'`,
      /memory limit/,
    );
    assert.ok(await healthy(home));
    const next = await attack('echo still here');
    assert.equal(next.text.trim(), 'still here');
  });

  it('more processes than its limit: sandbox_violation at the process limit, one receipt', async () => {
    const detail = process.getuid?.() === 0 ? /process limit/ : /process limit|timeout/;
    await violation(`for i in $(seq 40); do sleep 30 & done; echo FINISHED`, detail);
    assert.ok(await healthy(home));
  });

  it('IPv6 literals of loopback, also the granted port in IPv6 form: sandbox_violation naming them', async () => {
    for (const host of ['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]']) {
      for (const port of [other.port, granted.port]) {
        await violation(`curl -sS --max-time 5 http://${host}:${port}/; echo FINISHED`, /egress refused host/);
      }
    }
    assert.equal(other.hits, 0, 'nothing reached the refused server');
  });

  it('a granted name that resolves to loopback is refused (allow_private is off): rebinding fails', async () => {
    for (const name of ['localhost', 'localhost.', 'LOCALHOST']) {
      const out = await violation(
        `curl -sS --max-time 5 http://${name}:${granted.port}/; echo FINISHED`,
        /resolves to loopback/,
      );
      assert.ok(!out.text.includes('granted upstream ok'));
    }
  });

  it('a host not in its manifest, by HTTP and through CONNECT, is refused before any lookup', async () => {
    await violation('curl -sS --max-time 5 http://example.com/; echo FINISHED', /example\.com port 80: host/);
    await violation('curl -sS --max-time 5 https://example.com/; echo FINISHED', /example\.com port 443: host/);
    await violation(`curl -sS --max-time 5 http://127.0.0.1:${other.port}/; echo FINISHED`, /not granted/);
  });

  it('a redirect from the granted host to loopback, a name for it or the metadata address is refused', async () => {
    const hitsBefore = granted.hits;
    for (const to of [
      `http://127.0.0.1:${other.port}/`,
      `http://localhost:${other.port}/`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${other.port}/`,
    ]) {
      const from = `http://127.0.0.1:${granted.port}/?to=${encodeURIComponent(to)}`;
      await violation(`curl -sS -L --max-time 5 '${from}'; echo FINISHED`, /egress refused host/);
    }
    assert.equal(granted.hits, hitsBefore + 4, 'each first hop reached the granted host');
    assert.equal(other.hits, 0, 'no second hop reached the refused one');
  });

  it("inherits no descriptor but 0, 1 and 2 (the daemon's inherited canary descriptor is closed)", async () => {
    const held = readdirSync(`/proc/${daemon.proc.pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${daemon.proc.pid}/fd/${fd}`) === hostFiles()[0];
      } catch {
        return false;
      }
    });
    assert.ok(held, 'the control: the daemon holds a descriptor of the canary');
    const out = await attack(
      'ls -l /proc/self/fd | grep -o "[0-9]* -> .*"; cat /proc/$$/fd/200 2>/dev/null || echo NO-200',
    );
    assert.equal(out.receipt['outcome'], 'ok');
    const fds = out.text.trim().split('\n');
    assert.equal(fds.pop(), 'NO-200', out.text);
    // 0, 1 and 2 (stdin a pipe or /dev/null, the two pipes to the daemon), and the one ls opened to list them.
    assert.deepEqual(
      fds.map((l) => l.split(' -> ')[0]),
      ['0', '1', '2', '3'],
      out.text,
    );
    assert.match(fds[3]!, /^3 -> \/proc\/\d+\/fd$/, out.text);
    for (const l of fds) assert.doesNotMatch(l, /canary|\/tmp\/|\/work\//, out.text);
  });

  it("sees none of the daemon's environment: only the sandbox's own variables", async () => {
    const out = await attack(
      "env | cut -d= -f1 | sort | tr '\\n' ' '; echo; cat /proc/1/environ /proc/$PPID/environ | tr '\\0' '\\n'",
    );
    const names = out.text.split('\n')[0]!.trim().split(' ');
    const allowed = ['HOME', 'LANG', 'PATH', 'PWD', 'SHLVL', 'TMPDIR', '_'];
    allowed.push('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'NODE_USE_ENV_PROXY');
    for (const name of names) assert.ok(allowed.includes(name), `unexpected variable ${name}: ${out.text}`);
    assert.ok(!/BC_CMD_CANARY|BRIEFCASE_HOME/.test(out.text), out.text);
  });

  it('removing the tool deletes its directory, not what its planted links point at', () => {
    const before = hostFiles().map((p) => readFileSync(p, 'utf8'));
    const r = cli(home, ['tools', 'rm', TOOL]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    unchanged(before);
    assert.equal(readFileSync(join(shared, 'granted.txt'), 'utf8'), 'shared ok');
  });
});
