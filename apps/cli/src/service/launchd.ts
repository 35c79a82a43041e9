import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../daemon-flags.ts';

/**
 * The macOS launchd agent of a person's own daemon (`briefcase service install --launchd`,
 * docs/service.md): a LaunchAgent in ~/Library/LaunchAgents that runs `briefcase start` at login
 * and again if it stops on an error. Pure: the same layout gives the same text (unit-tested;
 * these machines cannot run launchd, so it has not been loaded on a Mac here).
 */
export interface LaunchAgentLayout {
  /** The person's home directory (the agent's HOME; its LaunchAgents folder is under it). */
  userHome: string;
  /** The data directory. */
  home: string;
  /** Absolute paths of Node 24 and of bin/briefcase.js. */
  node: string;
  cli: string;
  /** The PATH the daemon gets (launchd's default lacks /usr/local/bin and Homebrew's bin). */
  path: string;
}

export const LAUNCHD_LABEL = 'dev.briefcase.daemon';

export function launchAgentPath(userHome: string): string {
  return join(userHome, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

const xml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const string = (s: string) => `<string>${xml(s)}</string>`;

/** Every problem with a layout; empty when it is good. */
export function checkLaunchAgent(l: LaunchAgentLayout): string[] {
  const problems: string[] = [];
  for (const [what, p] of [
    ['--home', l.home],
    ['node', l.node],
    ['the briefcase CLI', l.cli],
  ] as const) {
    if (!p.startsWith('/') || p.split('/').includes('..')) problems.push(`${what} "${p}": needs an absolute path`);
  }
  return problems;
}

export function launchAgentPlist(l: LaunchAgentLayout): string {
  const args = [l.node, ...DAEMON_NODE_FLAGS, l.cli, '--home', l.home, 'start'];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `briefcase service install --launchd`; `briefcase service uninstall --launchd` removes it. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${string(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args.map((a) => `    ${string(a)}`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>HOME</key>${string(l.userHome)}`,
    `    <key>BRIEFCASE_HOME</key>${string(l.home)}`,
    `    <key>PATH</key>${string(l.path)}`,
    '  </dict>',
    '  <!-- 077 in decimal: the files it makes are private to you -->',
    '  <key>Umask</key><integer>63</integer>',
    '  <key>RunAtLoad</key><true/>',
    '  <!-- started again if it stops on an error, not after `briefcase stop` -->',
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>ThrottleInterval</key><integer>10</integer>',
    '  <key>ProcessType</key><string>Background</string>',
    `  <key>StandardOutPath</key>${string(join(l.home, 'logs', 'launchd.log'))}`,
    `  <key>StandardErrorPath</key>${string(join(l.home, 'logs', 'launchd.log'))}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** What the person runs to load, inspect and unload it (launchctl's current verbs, macOS 10.11+). */
export function launchAgentCommands(plist: string): { enable: string; status: string; disable: string } {
  return {
    enable: `launchctl bootstrap gui/$(id -u) '${plist.replaceAll("'", `'\\''`)}'`,
    status: `launchctl print gui/$(id -u)/${LAUNCHD_LABEL}`,
    disable: `launchctl bootout gui/$(id -u)/${LAUNCHD_LABEL}`,
  };
}
