import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkLaunchAgent,
  LAUNCHD_LABEL,
  launchAgentCommands,
  launchAgentPath,
  launchAgentPlist,
  type LaunchAgentLayout,
} from './launchd.ts';

/** The values between <string> tags, in order, unescaped. */
function strings(plist: string): string[] {
  return [...plist.matchAll(/<string>([^<]*)<\/string>/g)].map((m) =>
    m[1]!.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&'),
  );
}

/**
 * The macOS launch agent (issue 11). Generated and checked here; not loaded by launchd, which
 * these Linux machines do not have (docs/service.md says so).
 */
describe('launchd agent plist', () => {
  const layout: LaunchAgentLayout = {
    userHome: '/Users/ada',
    home: '/Users/ada/.briefcase',
    node: '/opt/homebrew/bin/node',
    cli: '/opt/homebrew/lib/node_modules/briefcase-agent/bin/briefcase.js',
    path: '/opt/homebrew/bin:/usr/bin:/bin',
  };

  it('runs `briefcase --home DIR start` with the label, environment, logs and restart policy', () => {
    const plist = launchAgentPlist(layout);
    assert.match(plist, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
    const s = strings(plist);
    assert.equal(s[0], LAUNCHD_LABEL);
    assert.deepEqual(s.slice(1, 7), [
      layout.node,
      '--max-semi-space-size=2',
      layout.cli,
      '--home',
      layout.home,
      'start',
    ]);
    assert.match(plist, /<key>BRIEFCASE_HOME<\/key><string>\/Users\/ada\/\.briefcase<\/string>/);
    assert.match(plist, /<key>RunAtLoad<\/key><true\/>/);
    assert.match(plist, /<key>KeepAlive<\/key><dict><key>SuccessfulExit<\/key><false\/><\/dict>/);
    assert.match(plist, /<key>Umask<\/key><integer>63<\/integer>/);
    assert.ok(s.includes('/Users/ada/.briefcase/logs/launchd.log'));
    // Balanced: every dict and array closes (a plist launchd would not refuse for its shape).
    for (const tag of ['dict', 'array', 'plist']) {
      assert.equal(plist.split(`<${tag}`).length, plist.split(`</${tag}>`).length, tag);
    }
  });

  it('escapes what XML would read as markup', () => {
    const plist = launchAgentPlist({ ...layout, home: '/Users/a&b/<x>"q"' });
    assert.ok(strings(plist).includes('/Users/a&b/<x>"q"'));
    assert.doesNotMatch(plist, /a&b/);
  });

  it('lives in ~/Library/LaunchAgents; the printed commands name it', () => {
    const path = launchAgentPath('/Users/ada');
    assert.equal(path, '/Users/ada/Library/LaunchAgents/dev.briefcase.daemon.plist');
    const c = launchAgentCommands(path);
    assert.equal(c.enable, `launchctl bootstrap gui/$(id -u) '${path}'`);
    assert.equal(c.status, 'launchctl print gui/$(id -u)/dev.briefcase.daemon');
    assert.equal(c.disable, 'launchctl bootout gui/$(id -u)/dev.briefcase.daemon');
  });

  it('refuses relative paths', () => {
    assert.deepEqual(checkLaunchAgent(layout), []);
    assert.equal(checkLaunchAgent({ ...layout, node: 'node' }).length, 1);
    assert.equal(checkLaunchAgent({ ...layout, home: '/a/../b' }).length, 1);
  });
});
