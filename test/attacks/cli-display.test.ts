/**
 * Issue 8 class 9 (display): an approver must see what runs. A hostile agent (through the real
 * gateway) puts terminal escape sequences and bidi controls into a call's arguments; a hostile
 * remote MCP server puts them into its tool's name, title and description. Every CLI view an
 * approver reads — `approvals list/show`, `tools list`, `remote list`, human and --json, and
 * error messages that echo input — must show them as visible escapes, never pass them to the
 * terminal, and the JSON must still parse to exactly the values the daemon holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, cli, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import { HOSTILE_DESCRIPTION, HOSTILE_TEXT, HOSTILE_TITLE, HOSTILE_TOOL_NAME } from './lib/hostile-display.ts';

const SERVER = join(ROOT, 'test/attacks/lib/hostile-display-server.ts');

/**
 * What a terminal acts on or hides: ESC (so no CSI/OSC sequence can start), "\r", backspace and
 * the other C0 controls but newline, DEL, C1 (U+0080–U+009F, U+009B is CSI), bidi controls,
 * zero-width characters, word joiner, BOM and tag characters.
 */
const TERMINAL_CONTROL =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u{e0000}-\u{e007f}]/u;

function assertSafe(label: string, r: { stdout: string; stderr: string }): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const m = TERMINAL_CONTROL.exec(text);
    if (m) {
      const cp = m[0].codePointAt(0)!.toString(16).padStart(4, '0');
      assert.fail(`${label} wrote U+${cp} raw to ${stream}: ${JSON.stringify(text.slice(m.index - 30, m.index + 30))}`);
    }
  }
}

function run(home: string, args: string[]) {
  const r = cli(home, args);
  assertSafe(`briefcase ${args.join(' ')}`, r);
  return r;
}

function runJson<T>(home: string, args: string[]): T {
  const r = run(home, [...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface Approval {
  id: string;
  tool: string;
  args: { text?: string };
}
interface Tool {
  name: string;
  title?: string;
  description: string;
}
interface Remote {
  name: string;
  tools: { name: string; remote_name: string }[];
}

describe('attack: terminal escapes and bidi controls in what an approver reads (issue 8 class 9)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let agent: Client;
  let approvalId: string;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const added = cli(home, ['remote', 'add', 'hostile', '--stdio', '--', process.execPath, SERVER]);
    assert.equal(added.code, 0, added.stderr);
    // Accept the server's definitions, as an admin would after review (new tools may be held).
    assert.equal(cli(home, ['remote', 'pin', 'hostile']).code, 0);
    agent = await stdioClient(home, ['--approval-wait', '0']);
    const r = await agent.callTool({ name: 'notes.add', arguments: { text: HOSTILE_TEXT } });
    const error = (r._meta as Record<string, { code: string; approval_id?: string }>)['dev.briefcase/error'];
    assert.equal(error?.code, 'approval_required', JSON.stringify(r));
    approvalId = error.approval_id!;
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    cleanup();
  });

  it('approvals list and show (human) show the escapes, never the controls, and warn', () => {
    const list = run(home, ['approvals', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(approvalId));
    const show = run(home, ['approvals', 'show', approvalId]);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(show.stdout.includes('\\u202e'), `the bidi override is shown as an escape:\n${show.stdout}`);
    assert.ok(show.stdout.includes('\\u001b[2K'), 'the CSI sequence is shown as text');
    assert.match(show.stdout, /warning +args\.text contains \d+ invisible or control characters/);
  });

  it('approvals list and show --json parse to exactly what the agent sent', () => {
    const { approvals } = runJson<{ approvals: Approval[] }>(home, ['approvals', 'list']);
    assert.equal(approvals.find((a) => a.id === approvalId)?.args.text, HOSTILE_TEXT);
    const shown = runJson<Approval>(home, ['approvals', 'show', approvalId]);
    assert.equal(shown.args.text, HOSTILE_TEXT);
  });

  it("tools list (human and --json) shows the remote server's description and title safely", () => {
    const human = run(home, ['tools', 'list']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /hostile\.weather/);
    const { tools } = runJson<{ tools: Tool[] }>(home, ['tools', 'list']);
    const weather = tools.find((t) => t.name === 'hostile.weather');
    assert.equal(weather?.description, HOSTILE_DESCRIPTION);
    if (weather?.title !== undefined) assert.equal(weather.title, HOSTILE_TITLE);
  });

  it("remote list (human and --json) shows the server's tool names safely", () => {
    const human = run(home, ['remote', 'list']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /hostile/);
    const { servers } = runJson<{ servers: Remote[] }>(home, ['remote', 'list']);
    const hostile = servers.find((s) => s.name === 'hostile');
    assert.ok(
      hostile?.tools.some((t) => t.remote_name === HOSTILE_TOOL_NAME),
      JSON.stringify(hostile),
    );
  });

  it('an error message that echoes input shows the escapes, not the controls', () => {
    const r = run(home, ['tools', 'call', `ap_\u001b]0;pwned\u0007\u202e`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /\\u001b\]0;pwned\\u0007\\u202e/);
  });
});
