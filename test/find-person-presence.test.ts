import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  BIN,
  cli,
  cliJson,
  daemonRequest,
  freePort,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  token,
  type DaemonProcess,
} from './helpers.ts';
import { ConsoleClient, type Ceremony } from './lib/console-client.ts';
import {
  dbusDaemonAvailable,
  notificationServer,
  privateSessionBus,
  type ReceivedNotification,
} from './lib/notification-server.ts';
import { SETTLE_MS } from '../apps/cli/src/watch-screen.ts';
import { SoftAuthenticator } from './lib/soft-authenticator.ts';

const skip = dbusDaemonAvailable() ? false : 'dbus-daemon is not installed (Debian package: dbus-daemon)';
const skipTmux =
  spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0 ? false : 'tmux is not installed (Debian package: tmux)';

const errorOf = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string; approval_id?: string }> | undefined)?.['dev.briefcase/error'];

async function until<T>(what: string, probe: () => T | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function tmux(socket: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color', HOME: process.env.HOME ?? '/tmp' },
  });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Issue 11, finding the person once a passkey exists: a presence-tier approval and a guarded change
 * are announced with the console link (no CLI command that cannot give the tier), and
 * `approvals watch` never approves a presence-tier approval: it shows where to do it.
 */
describe('finding the person for passkey-tier approvals and guarded changes (issue 11)', { skip }, () => {
  const { home, cleanup } = tempHome();
  let bus: Awaited<ReturnType<typeof privateSessionBus>>;
  let server: Awaited<ReturnType<typeof notificationServer>>;
  let daemon: DaemonProcess;
  let agent: Client;
  let url: string;
  const canary = `CANARY-${randomBytes(6).toString('hex')}`;
  let approvalId: string;

  before(async () => {
    bus = await privateSessionBus();
    server = await notificationServer(bus.address);
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home, ['--console-port', String(await freePort())], {
      DBUS_SESSION_BUS_ADDRESS: bus.address,
    });
    // The person enrols a passkey (test/attacks/presence.test.ts does the same, and says why).
    const link = cliJson<{ url: string; enrol_url: string }>(home, ['console']).json;
    url = link.url;
    const person = new ConsoleClient(url);
    const passkey = new SoftAuthenticator(url);
    await person.session();
    await person.post('/api/session/link', { token: link.enrol_url.split('/#/enrol/')[1] });
    const reg = (await person.post('/api/passkeys/register/options', { label: 'laptop' })).json as unknown as Ceremony;
    const enrolled = await person.post('/api/passkeys/register', {
      challenge_id: reg.challenge_id,
      response: passkey.register(reg.options),
    });
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.json));
    agent = await stdioClient(home, ['--approval-wait', '0']);
  });
  after(async () => {
    await agent?.close();
    await daemon?.stop();
    server?.close();
    await bus?.stop();
    cleanup();
  });

  it('a presence-tier approval: the notice sends the person to the console', async () => {
    const r = await agent.callTool({ name: 'notes.add', arguments: { text: canary } });
    assert.equal(errorOf(r)?.code, 'approval_required', JSON.stringify(r));
    approvalId = errorOf(r)!.approval_id!;
    const n = await until<ReceivedNotification>('the notification', () =>
      server.received.find((x) => x.body.includes(approvalId)),
    );
    assert.ok(n.body.includes(`${url}/#/approvals/${approvalId}`), n.body);
    assert.match(n.body, /passkey/);
    assert.doesNotMatch(n.body, /approvals approve/, 'the CLI cannot give the presence tier');
    assert.ok(!JSON.stringify(n.raw).includes(canary));
  });

  it('a guarded change: the notice names its kind and the console, not its content', async () => {
    const wider = `// ${canary}\n${readFileSync(join(home, 'policy.cedar'), 'utf8')}`;
    const answer = await daemonRequest(
      home,
      'PUT',
      '/v1/admin/policy',
      token(home, 'admin'),
      JSON.stringify({ text: wider }),
    );
    assert.equal(answer.status, 403, answer.body);
    const n = await until<ReceivedNotification>('the notification', () =>
      server.received.find((x) => x.summary.includes('policy_apply')),
    );
    assert.match(n.body, new RegExp(`${url.replace(/[.]/g, '\\.')}/#/operations/op_`));
    assert.ok(!JSON.stringify(n.raw).includes(canary));
  });

  describe('approvals watch on a presence-tier approval', { skip: skipTmux }, () => {
    const socket = `bc-watchp-${randomBytes(4).toString('hex')}`;
    const pane = () => tmux(socket, ['capture-pane', '-p', '-J', '-t', 'w']);
    after(() => spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' }));

    it('"a" shows the console link and approves nothing; "r" still rejects', async () => {
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
      await until('the approval on screen', () => pane().includes(`> ${approvalId}`));
      assert.match(pane(), /needs your passkey/);
      await sleep(SETTLE_MS + 200); // a key acts once the selection has been shown that long
      tmux(socket, ['send-keys', '-t', 'w', 'a']);
      // The daemon refuses (presence_required) and its answer, with the link, is what is shown.
      await until('the console link', () => pane().replace(/\n/g, '').includes(`/#/approvals/${approvalId}`));
      const status = () =>
        cliJson<{ approvals: { id: string; status: string }[] }>(home, [
          'approvals',
          'list',
          '--all',
        ]).json.approvals.find((a) => a.id === approvalId)?.status;
      assert.equal(status(), 'pending');
      tmux(socket, ['send-keys', '-t', 'w', 'r']);
      await until('the rejection', () => pane().includes(`Rejected ${approvalId}`));
      assert.equal(status(), 'rejected');
      tmux(socket, ['send-keys', '-t', 'w', 'q']);
      await until('the exit', () => pane().includes('EXIT:0'));
    });
  });
});
