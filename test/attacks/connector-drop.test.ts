import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cli,
  cliAsync,
  cliJson,
  freePort,
  receiptRecords,
  sleep,
  startDaemon,
  tempHome,
  writeJson,
  type DaemonProcess,
} from '../helpers.ts';
import { ConsoleClient, type Ceremony } from '../lib/console-client.ts';
import { manifest, until } from '../lib/connectors.ts';
import { SoftAuthenticator } from '../lib/soft-authenticator.ts';

/**
 * Issue 11: hot reload must not bypass the presence guard. The attacker can write into
 * connectors/ (any process of the user can) and holds admin.token; the person holds a passkey.
 * Once a passkey exists, a connector file loads only if its exact bytes were approved through the
 * guarded `connectors add` — not when dropped in, not when an approved file is edited, not after
 * a restart. Removing or breaking a file (narrowing) still applies at once.
 */
describe('attack: widening the agent’s tools by writing into connectors/', () => {
  const { home, cleanup } = tempHome();
  const dir = join(home, 'connectors');
  let daemon: DaemonProcess;
  let person: ConsoleClient;
  let passkey: SoftAuthenticator;
  let consolePort: number;
  const tools = () => cliJson<{ tools: { name: string }[] }>(home, ['tools', 'list']).json.tools.map((t) => t.name);

  const confirmPending = async (kind: string) => {
    let op: { id: string } | undefined;
    for (let i = 0; i < 100 && !op; i++) {
      op = cliJson<{ operations: { id: string; kind: string; status: string }[] }>(home, [
        'operations',
        'list',
      ]).json.operations.find((o) => o.kind === kind && o.status === 'pending');
      if (!op) await sleep(100);
    }
    assert.ok(op, `no pending ${kind}`);
    await person.session();
    const signin = (await person.post('/api/signin/options')).json as unknown as Ceremony;
    await person.post('/api/signin', { challenge_id: signin.challenge_id, response: passkey.assert(signin.options) });
    const options = (await person.post(`/api/operations/${op.id}/options`)).json as unknown as Ceremony;
    const confirmed = await person.post(`/api/operations/${op.id}/confirm`, {
      challenge_id: options.challenge_id,
      response: passkey.assert(options.options),
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json));
  };

  before(async () => {
    assert.equal(cli(home, ['init']).code, 0);
    // Approved while no passkey existed: loads, and stays approved.
    writeJson(join(dir, 'before.json'), manifest('before.tool'));
    consolePort = await freePort();
    daemon = await startDaemon(home, ['--console-port', String(consolePort)]);
    const link = cliJson<{ url: string; enrol_url: string }>(home, ['console']).json;
    person = new ConsoleClient(link.url);
    passkey = new SoftAuthenticator(link.url);
    await person.session();
    await person.post('/api/session/link', { token: link.enrol_url.split('/#/enrol/')[1] });
    const reg = (await person.post('/api/passkeys/register/options', { label: 'laptop' })).json as unknown as Ceremony;
    const enrolled = await person.post('/api/passkeys/register', {
      challenge_id: reg.challenge_id,
      response: passkey.register(reg.options),
    });
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.json));
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it('a dropped file stays disabled ("not approved"), is receipted and logged; its tool never appears', async () => {
    assert.ok(tools().includes('before.tool'));
    writeJson(join(dir, 'exfil.json'), manifest('exfil.tool'));
    const states = await until(home, (s) => s.some((c) => c.file === 'exfil.json'), 'exfil.json seen');
    const exfil = states.find((c) => c.file === 'exfil.json')!;
    assert.equal(exfil.state, 'disabled');
    assert.match(
      exfil.reason!,
      /exfil\.json: not approved: add it with `[^`]*briefcase(\.js --home \S+)? connectors add \S*exfil\.json` \(needs your passkey\)/,
    );
    assert.ok(!tools().includes('exfil.tool'));
    assert.ok(receiptRecords(home).some((r) => r.body.event === 'connector_disabled' && r.body.file === 'exfil.json'));
    assert.match(
      readFileSync(join(home, 'logs', 'daemon.log'), 'utf8'),
      /connector disabled.*exfil\.json.*not approved/,
    );
  });

  it('editing an approved file disables it until it is approved again', async () => {
    writeJson(join(dir, 'before.json'), manifest('before.tool', { egress: ['api.example.com', 'evil.example.net'] }));
    await until(
      home,
      (s) => s.find((c) => c.file === 'before.json')?.state === 'disabled',
      'edited before.json disabled',
    );
    const state = cliJson<{ connectors: { file: string; reason: string }[] }>(home, [
      'connectors',
      'list',
    ]).json.connectors.find((c) => c.file === 'before.json')!;
    assert.match(state.reason, /changed since it was approved/);
    assert.ok(!tools().includes('before.tool'));
  });

  it('a restart does not load the unapproved files either', async () => {
    await daemon.stop();
    // The same console port: the person's passkey is bound to the console's origin.
    daemon = await startDaemon(home, ['--console-port', String(consolePort)]);
    const states = cliJson<{ connectors: { file: string; state: string }[] }>(home, ['connectors', 'list']).json
      .connectors;
    assert.equal(states.find((c) => c.file === 'exfil.json')?.state, 'disabled');
    assert.equal(states.find((c) => c.file === 'before.json')?.state, 'disabled');
    assert.ok(!tools().some((t) => t === 'exfil.tool' || t === 'before.tool'));
  });

  it('admin.token alone cannot approve it (presence_required); the person’s passkey can', async () => {
    const attempt = await cliAsync(home, ['connectors', 'add', join(dir, 'exfil.json')]);
    assert.equal(attempt.code, 4, attempt.stderr);
    assert.match(attempt.stderr, /needs a passkey/);
    assert.ok(!tools().includes('exfil.tool'));
    await confirmPending('connector_add');
    await until(home, (s) => s.find((c) => c.file === 'exfil.json')?.state === 'ok', 'exfil.json approved');
    assert.ok(tools().includes('exfil.tool'));
    // Narrowing needs no passkey: rm applies at once.
    assert.equal(cli(home, ['connectors', 'rm', 'exfil']).code, 0);
    assert.ok(!tools().includes('exfil.tool'));
  });

  it('a file swapped in after approval (same name, other bytes) is refused', async () => {
    writeJson(join(home, '..', 'ok.json'), manifest('ok.tool'));
    const started = cliAsync(home, ['connectors', 'add', join(home, '..', 'ok.json')]);
    assert.equal((await started).code, 4);
    await confirmPending('connector_add');
    await until(home, (s) => s.find((c) => c.file === 'ok.json')?.state === 'ok', 'ok.json loaded');
    writeFileSync(
      join(dir, 'ok.json'),
      JSON.stringify(manifest('ok.tool', { egress: ['api.example.com', 'evil.example.net'] })),
    );
    await until(home, (s) => s.find((c) => c.file === 'ok.json')?.state === 'disabled', 'swapped ok.json disabled');
    assert.ok(!tools().includes('ok.tool'));
  });
});
