import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { thisInvocation } from '@briefcase/protocol/invocation';
import { print, printJson } from '../output.ts';
import {
  checkLaunchAgent,
  launchAgentCommands,
  launchAgentPath,
  launchAgentPlist,
  type LaunchAgentLayout,
} from '../service/launchd.ts';

/**
 * `briefcase service install --launchd` (macOS; the default there): your own daemon as a launchd
 * agent that starts at login. Writes the plist and prints how to load it; `--dry-run` prints it
 * anywhere. Not run on macOS by this project's tests (no Mac here): the plist is unit-tested.
 */
export function launchdInstall(home: string, o: { node?: string; dryRun?: boolean }, json: boolean): number {
  const layout: LaunchAgentLayout = {
    userHome: homedir(),
    home,
    node: o.node ?? process.execPath,
    cli: thisInvocation().entry,
    path: [dirname(o.node ?? process.execPath), '/usr/local/bin', '/opt/homebrew/bin', '/usr/bin', '/bin'].join(':'),
  };
  const problems = checkLaunchAgent(layout);
  if (problems.length > 0) throw new BriefcaseError('bad_request', problems.join('\n'));
  const plist = launchAgentPlist(layout);
  const path = launchAgentPath(layout.userHome);
  const changed = !existsSync(path) || readFileSync(path, 'utf8') !== plist;
  if (!o.dryRun && changed) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, plist, { mode: 0o644 });
  }
  const commands = launchAgentCommands(path);
  const notMac = process.platform !== 'darwin';
  if (json) {
    printJson({ dry_run: o.dryRun === true, plist_path: path, plist, changed, commands, macos: !notMac });
    return 0;
  }
  print(
    o.dryRun
      ? `Would write ${path} (nothing changed):\n\n${plist}`
      : changed
        ? `Wrote ${path}.`
        : `${path} is up to date.`,
  );
  if (notMac) print('Note: this is not macOS; launchd reads this file only on a Mac.');
  print(`\nLoad it now and at every login:\n  ${commands.enable}`);
  print(`Its state and last exit:\n  ${commands.status}`);
  print(`Stop and unload it:\n  ${commands.disable}`);
  return 0;
}

/** `briefcase service uninstall --launchd`: remove the plist (unload it first: printed). */
export function launchdUninstall(o: { dryRun?: boolean }, json: boolean): number {
  const path = launchAgentPath(homedir());
  const present = existsSync(path);
  if (present && !o.dryRun) rmSync(path);
  const { disable } = launchAgentCommands(path);
  if (json) printJson({ dry_run: o.dryRun === true, plist_path: path, removed: present && !o.dryRun, unload: disable });
  else {
    print(present ? `${o.dryRun ? 'Would remove' : 'Removed'} ${path}.` : `No launch agent at ${path}.`);
    print(`If it is loaded, unload it: ${disable}`);
  }
  return 0;
}
