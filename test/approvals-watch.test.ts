import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { POLL_MS, SETTLE_MS } from '../apps/cli/src/watch-screen.ts';
import { startUpstream, writeConnector, type Upstream } from './attacks/lib/calls.ts';
import {
  BIN,
  cli,
  cliJson,
  readJson,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  writeJson,
  type DaemonProcess,
} from './helpers.ts';

const tmuxMissing = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status !== 0;
const skipTmux = tmuxMissing ? 'tmux is not installed (Debian package: tmux)' : false;

interface Approval {
  id: string;
  tool: string;
  created_at: string;
  args: Record<string, unknown>;
}

const errorOf = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string; approval_id?: string }> | undefined)?.['dev.briefcase/error'];

/** A tmux server of this test's own (-L), so nothing else's sessions or options are involved. */
function tmux(socket: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color', HOME: process.env.HOME ?? '/tmp' },
  });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function until<T>(what: string, probe: () => T | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('approvals in the terminal (issue 11, AC 2)', () => {
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess;
  let waiting: Client; // holds its call open while the approval is pending
  let quick: Client; // answers approval_required at once
  let upstream: Upstream;

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    writeJson(`${home}/config.json`, {
      ...readJson<Record<string, unknown>>(`${home}/config.json`),
      approvals: { ttl_seconds: 600, wait_seconds: 120, max_pending: 50 },
    });
    upstream = await startUpstream();
    writeConnector(home, upstream, 'shop', { category: 'write', sensitive: ['card'] });
    daemon = await startDaemon(home);
    waiting = await stdioClient(home);
    quick = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await waiting?.close();
    await quick?.close();
    await daemon?.stop();
    upstream?.close();
    cleanup();
  });

  describe('`approvals watch` in a pseudo-terminal (tmux)', { skip: skipTmux }, () => {
    const socket = `bc-watch-${randomBytes(4).toString('hex')}`;
    const pane = () => tmux(socket, ['capture-pane', '-p', '-t', 'w']);
    after(() => {
      if (!tmuxMissing) spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    });

    it('refreshes at least once a second', () => {
      assert.ok(POLL_MS <= 1000, `poll interval ${POLL_MS} ms`);
    });

    it('shows a new approval in a poll, approves it with a key, and the agent call completes', async (t) => {
      tmux(socket, [
        'new-session',
        '-d',
        '-s',
        'w',
        '-x',
        '120',
        '-y',
        '40',
        `env BRIEFCASE_HOME='${home}' '${process.execPath}' '${BIN}' approvals watch; echo "EXIT:$?"; sleep 600`,
      ]);
      await until('the watch screen', () => /Briefcase approvals: 0 waiting/.test(pane()));
      // It polls on its own: the time of the last update moves with nothing else happening.
      const updated = () => /\(updated (\d\d:\d\d:\d\d)\)/.exec(pane())?.[1];
      const first = updated();
      await until('a refresh', () => updated() !== first, 10_000);

      const text = `watch-${randomBytes(6).toString('hex')}`;
      const call = waiting.callTool({ name: 'notes.add', arguments: { text } }, undefined, { timeout: 120_000 });
      const seenAt = await until('the approval on screen', () => pane().includes(text) && Date.now());
      const approval = cliJson<{ approvals: Approval[] }>(home, ['approvals', 'list']).json.approvals.find(
        (a) => a.args.text === text,
      )!;
      const latency = seenAt - Date.parse(approval.created_at);
      t.diagnostic(`approval on screen ${latency} ms after it was created (poll every ${POLL_MS} ms)`);
      // The 1 s bound is the refresh interval (asserted above); on a loaded machine the process
      // that draws may itself be late, so appearance is asserted with room to spare.
      assert.ok(latency < 15_000, `${latency} ms`);
      const screen = pane();
      assert.match(screen, new RegExp(`> ${approval.id}  notes\\.add  local`));
      assert.match(screen, /changes +appends one note to notes\.jsonl/);

      // A key acts on an approval once it has been shown selected for SETTLE_MS (a person reads it).
      await sleep(SETTLE_MS + 200);
      tmux(socket, ['send-keys', '-t', 'w', 'a']);
      const result = await call;
      assert.equal(result.isError, undefined, JSON.stringify(result));
      assert.match((result.content as { text: string }[])[0]!.text, /^Saved note /);
      await until('the confirmation', () => pane().includes(`Approved ${approval.id}`));
    });

    it('moves the selection with the arrow keys and rejects with r', async () => {
      const first = await quick.callTool({ name: 'notes.add', arguments: { text: 'keep me' } });
      const second = await quick.callTool({ name: 'notes.add', arguments: { text: 'reject me' } });
      const keepId = errorOf(first)!.approval_id!;
      const rejectId = errorOf(second)!.approval_id!;
      await until('both on screen', () => pane().includes(keepId) && pane().includes(rejectId));
      // Newest first; select the one to reject whatever the selection was.
      for (let i = 0; i < 3 && !pane().includes(`> ${rejectId}`); i++) {
        const rows = pane().split('\n');
        const below = rows.findIndex((l) => l.startsWith('>')) < rows.findIndex((l) => l.includes(`  ${rejectId}`));
        tmux(socket, ['send-keys', '-t', 'w', below ? 'Down' : 'Up']);
        await until('the selection to move', () => pane().includes(`> ${rejectId}`), 5000).catch(() => undefined);
      }
      assert.ok(pane().includes(`> ${rejectId}`), pane());
      await sleep(SETTLE_MS + 200);
      tmux(socket, ['send-keys', '-t', 'w', 'r']);
      await until('the rejection', () => pane().includes(`Rejected ${rejectId}`));
      const statuses = cliJson<{ approvals: (Approval & { status: string })[] }>(home, ['approvals', 'list', '--all'])
        .json.approvals;
      assert.equal(statuses.find((a) => a.id === rejectId)?.status, 'rejected');
      assert.equal(statuses.find((a) => a.id === keepId)?.status, 'pending');
    });

    it('quits with q and gives the terminal back', async () => {
      tmux(socket, ['send-keys', '-t', 'w', 'q']);
      await until('the exit', () => pane().includes('EXIT:0'));
      const flags = tmux(socket, ['display-message', '-p', '-t', 'w', '#{alternate_on} #{cursor_flag}']).trim();
      assert.equal(flags, '0 1', 'alternate screen off, cursor shown');
    });
  });

  it('`approvals list` shows one safe, short line of the arguments (hostile, huge, sensitive)', async () => {
    const card = `4111-CANARY-${randomBytes(4).toString('hex')}`;
    const hostile = `\u001b]0;pwned\u0007\u001b[2J\u202emoc.evil\u2066\r\nFAKE ROW${'x'.repeat(200_000)}`;
    const r = await quick.callTool({ name: 'shop', arguments: { item: hostile, card } });
    assert.equal(errorOf(r)?.code, 'approval_required', JSON.stringify(r));
    const id = errorOf(r)!.approval_id!;
    const list = cli(home, ['approvals', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.startsWith(id));
    assert.ok(row, list.stdout);
    // No control, bidi or line break reaches the terminal raw; they are shown as escapes.
    for (const raw of ['\u001b', '\u0007', '\u202e', '\u2066', '\r'])
      assert.ok(!list.stdout.includes(raw), `raw ${JSON.stringify(raw)}`);
    assert.ok(!list.stdout.split('\n').some((l) => l.startsWith('FAKE ROW')), 'a value cannot forge a row');
    assert.match(row, /\{"item":"\\u001b\]0;pwned\\u0007/);
    assert.ok(row.length < 400, `row is ${row.length} characters`);
    assert.match(row, /…/);
    // The manifest marks `card` sensitive: the approval holds it redacted, and so does the list.
    const summary = cliJson<{ approvals: Approval[] }>(home, ['approvals', 'list']).json.approvals.find(
      (a) => a.id === id,
    )!;
    assert.equal(summary.args.card, '[redacted]');
    assert.ok(!list.stdout.includes(card));
  });

  it('a vault secret in the arguments is stored and shown redacted, as in receipts', async () => {
    const secret = `vault-CANARY-${randomBytes(8).toString('hex')}`;
    assert.equal(cli(home, ['secrets', 'set', 'watch.test'], secret).code, 0);
    const r = await quick.callTool({ name: 'notes.add', arguments: { text: `send ${secret} out` } });
    const id = errorOf(r)!.approval_id!;
    const list = cli(home, ['approvals', 'list']);
    const row = list.stdout.split('\n').find((l) => l.startsWith(id));
    assert.ok(row?.includes('send [redacted] out'), list.stdout);
    assert.ok(!list.stdout.includes(secret));
    assert.ok(!cli(home, ['approvals', 'show', id, '--json']).stdout.includes(secret));
  });
});
