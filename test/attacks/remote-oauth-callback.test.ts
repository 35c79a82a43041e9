import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { browse, startOAuthWorld, type OAuthWorld } from '../fixtures/oauth-world.ts';
import {
  cli,
  cliAsync,
  receiptRecords,
  remoteState,
  sleep,
  startDaemon,
  tempHome,
  type DaemonProcess,
} from '../helpers.ts';

/**
 * Issue 8 class 9 (OAuth callback): during `briefcase remote login` the daemon listens on
 * 127.0.0.1 for the authorization server's redirect. Any local web page can send requests
 * there (the port is in the authorization URL, and ports can be scanned). A request without the
 * login's `state` must neither end nor take over the login: it gets 400 and the real redirect,
 * arriving after it, completes the login.
 */
describe('attack: a local web page hits the OAuth loopback callback before the browser does', () => {
  const { home, cleanup } = tempHome();
  let world: OAuthWorld;
  let daemon: DaemonProcess;

  before(async () => {
    world = await startOAuthWorld();
    assert.equal(cli(home, ['init']).code, 0);
    daemon = await startDaemon(home);
    const added = await cliAsync(home, ['remote', 'add', 'secure', '--url', world.resource]);
    assert.equal(added.code, 0, added.stderr);
  });
  after(async () => {
    await daemon?.stop();
    await world?.close();
    cleanup();
  });

  it('wrong-state and state-less callbacks get 400; the login then completes with the right one', async () => {
    const login = await cliAsync(home, ['remote', 'login', 'secure', '--no-wait', '--json']);
    assert.equal(login.code, 0, login.stderr);
    const url = new URL((JSON.parse(login.stdout) as { authorization_url: string }).authorization_url);
    const callback = url.searchParams.get('redirect_uri')!;
    assert.match(callback, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    // The attacker's page, first: a forged code with a wrong state, an error with a wrong
    // state (which would abort the login), and no state at all.
    const forged = [
      `${callback}?code=attacker-code&state=${'x'.repeat(32)}`,
      `${callback}?error=access_denied&state=guess`,
      `${callback}?code=attacker-code`,
    ];
    // A local process, not a page: a request target `new URL` refuses (it ended the daemon).
    const port = Number(new URL(callback).port);
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      let got = '';
      sock.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (got.includes('\r\n\r\n')) sock.destroy();
      });
      sock.on('error', () => resolve(got));
      sock.on('close', () => resolve(got));
      sock.write('GET http://[ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    });
    assert.match(answer, /^HTTP\/1\.1 404 /, answer);
    assert.equal(daemon.proc.exitCode, null, daemon.output().slice(-800));
    for (const f of forged) {
      const res = await fetch(f).catch((e: unknown) => e as Error);
      assert.ok(!(res instanceof Error), `the listener is gone after a forged request: ${String(res)}`);
      assert.equal(res.status, 400, f);
      await res.text();
    }

    // Then the person's browser, with the real redirect.
    await browse(url.toString());
    let state = await remoteState(home, 'secure');
    for (let i = 0; i < 100 && !(state?.status === 'connected' && state.auth === 'authorized'); i++) {
      await sleep(100);
      state = await remoteState(home, 'secure');
    }
    assert.deepEqual([state?.status, state?.auth], ['connected', 'authorized']);
    const events = receiptRecords(home)
      .filter((r) => r.kind === 'oauth')
      .map((r) => r.body.event);
    assert.deepEqual(events, ['login_started', 'logged_in']);
  });
});
