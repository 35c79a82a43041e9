import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lookupGroup } from '@briefcase/briefcased/os-groups';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { thisInvocation } from '@briefcase/protocol/invocation';
import { print, printJson, warn } from '../output.ts';
import {
  findTool,
  lookupUser,
  preflight,
  run,
  SYSTEMD_UNIT_DIRS,
  systemdIsPid1,
  userCan,
  type Step,
} from '../service/os.ts';
import {
  agentSocketPath,
  checkLayout,
  execStart,
  runtimeDirectory,
  serviceUnit,
  UNIT_NAME,
  type ServiceLayout,
} from '../service/unit.ts';

/**
 * `briefcase service install --dedicated-user` (Linux, systemd): the daemon runs as its own system
 * user, owns the data directory, and serves the agents' group on an agent socket only
 * (docs/service.md). Every step looks first and acts only on what is missing, so it is idempotent.
 */
export interface ServiceInstallFlags {
  dedicatedUser?: boolean;
  user: string;
  group: string;
  /** The data directory, the service user's home: the global --home, else /var/lib/briefcase. */
  home: string;
  socketDir: string;
  unitDir: string;
  addUser?: string[];
  node?: string;
  dryRun?: boolean;
  start: boolean;
}

/** ProtectHome=yes hides these from the service: Node and Briefcase must live elsewhere. */
const HIDDEN_BY_PROTECT_HOME = ['/home/', '/root/', '/run/user/'];

export interface InstallReport {
  dry_run: boolean;
  steps: string[];
  unit_path: string;
  unit: string;
  agent_socket: string;
  started: boolean;
  /** The unit's command, to run as the service user where systemd is not PID 1. */
  manual_start: string[];
  next: string[];
}

function layoutOf(flags: ServiceInstallFlags): ServiceLayout {
  const layout: ServiceLayout = {
    user: flags.user,
    agentsGroup: flags.group,
    home: flags.home,
    socketDir: flags.socketDir,
    node: flags.node ?? process.execPath,
    cli: thisInvocation().entry,
    chgrp: findTool('chgrp') ?? '/usr/bin/chgrp',
  };
  const problems = checkLayout(layout);
  if (problems.length > 0) throw new BriefcaseError('bad_request', problems.join('\n'));
  for (const [what, p] of [
    ['node', layout.node],
    ['the briefcase CLI', layout.cli],
  ] as const) {
    const real = existsSync(p) ? realpathSync(p) : p;
    if (HIDDEN_BY_PROTECT_HOME.some((h) => real.startsWith(h))) {
      throw new BriefcaseError(
        'bad_request',
        `${what} is at ${real}, which the unit's ProtectHome= hides from the service: install Node and Briefcase outside /home and /root (e.g. /usr/local or /opt), then run this again with that briefcase`,
      );
    }
  }
  const version = spawnSync(layout.node, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < 24) {
    throw new BriefcaseError(
      'bad_request',
      `${layout.node} is ${version || 'not a runnable Node.js'}: Briefcase needs Node.js 24 or newer (--node <path>)`,
    );
  }
  return layout;
}

export function serviceInstall(flags: ServiceInstallFlags, json: boolean): number {
  if (!flags.dedicatedUser) {
    throw new BriefcaseError(
      'bad_request',
      'say --dedicated-user (Linux, systemd: the daemon runs as its own system user) or --launchd (macOS: your own daemon as a launch agent)',
    );
  }
  const dryRun = flags.dryRun === true;
  const tools = preflight(!dryRun);
  const tool = (n: string) => tools[n] ?? n;
  const l = layoutOf(flags);
  for (const name of flags.addUser ?? []) {
    if (!/^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(name))
      throw new BriefcaseError('bad_request', `--add-user "${name}": not a user name`);
    if (!dryRun && !lookupUser(name)) throw new BriefcaseError('bad_request', `--add-user: there is no user "${name}"`);
  }
  const unit = serviceUnit(l);
  const unitPath = join(flags.unitDir, UNIT_NAME);
  const steps = plan(l, unit, unitPath, flags, tool);
  const canStart = flags.start && !dryRun && systemdIsPid1() && SYSTEMD_UNIT_DIRS.includes(flags.unitDir);
  if (canStart) {
    steps.push({ say: 'systemctl daemon-reload', act: () => run(['systemctl', 'daemon-reload']) });
    steps.push({
      say: `systemctl enable --now ${UNIT_NAME}`,
      act: () => run(['systemctl', 'enable', '--now', UNIT_NAME]),
    });
    // A re-run that changed the unit: a running daemon picks it up.
    steps.push({ say: `systemctl try-restart ${UNIT_NAME}`, act: () => run(['systemctl', 'try-restart', UNIT_NAME]) });
  }
  for (const s of steps) if (!dryRun) s.act();
  const report: InstallReport = {
    dry_run: dryRun,
    steps: steps.map((s) => s.say),
    unit_path: unitPath,
    unit,
    agent_socket: agentSocketPath(l),
    started: canStart,
    manual_start: execStart(l),
    next: nextSteps(l, flags, canStart, dryRun),
  };
  if (json) printJson(report);
  else printInstall(report);
  return 0;
}

function plan(
  l: ServiceLayout,
  unit: string,
  unitPath: string,
  flags: ServiceInstallFlags,
  tool: (n: string) => string,
): Step[] {
  const steps: Step[] = [];
  const cmd = (argv: string[]): Step => ({ say: shellWords(argv), act: () => run(argv) });
  if (!lookupGroup(l.agentsGroup)) steps.push(cmd([tool('groupadd'), '--system', l.agentsGroup]));
  const user = lookupUser(l.user);
  if (!user) {
    if (!lookupGroup(l.user)) steps.push(cmd([tool('groupadd'), '--system', l.user]));
    steps.push(
      cmd([
        tool('useradd'),
        '--system',
        '--gid',
        l.user,
        '--groups',
        l.agentsGroup,
        '--home-dir',
        l.home,
        '--no-create-home',
        '--shell',
        findTool('nologin') ?? '/usr/sbin/nologin',
        '--comment',
        'Briefcase daemon',
        l.user,
      ]),
    );
  } else {
    // A person's account (or root) would get the daemon's data and lose nothing to the agents.
    if (user.uid === 0 || user.uid >= 1000) {
      throw new BriefcaseError(
        'bad_request',
        `--user ${l.user} exists and is not a system user (uid ${user.uid}): choose a name for a new system user`,
      );
    }
    if (user.home !== l.home) warn(`note: ${l.user}'s home is ${user.home}; the data directory is ${l.home}`);
    if (!lookupGroup(l.agentsGroup)?.members.includes(l.user)) {
      steps.push(cmd([tool('usermod'), '--append', '--groups', l.agentsGroup, l.user]));
    }
  }
  refuseForeignDataDir(l, user?.uid);
  steps.push(cmd([tool('install'), '-d', '-m', '0700', '-o', l.user, '-g', l.user, l.home]));
  // The unit would fail at every start otherwise, with a less helpful message.
  steps.push({
    say: `check that ${l.user} can run ${l.node} and read ${l.cli}`,
    act: () => {
      for (const [t, p] of [
        ['x', l.node],
        ['r', l.cli],
      ] as const) {
        if (!userCan(tool('runuser'), l.user, t, p)) {
          throw new BriefcaseError(
            'permission_denied',
            `the user ${l.user} cannot ${t === 'x' ? 'run' : 'read'} ${p}: install Node and Briefcase where every user can read them (e.g. /usr/local or /opt; every directory above them needs o+x)`,
          );
        }
      }
    },
  });
  steps.push(
    cmd([
      tool('runuser'),
      '-u',
      l.user,
      '--',
      'env',
      '-i',
      `HOME=${l.home}`,
      `BRIEFCASE_HOME=${l.home}`,
      'NODE_DISABLE_COMPILE_CACHE=1',
      l.node,
      l.cli,
      '--home',
      l.home,
      'init',
      '--master-key',
      'file',
    ]),
  );
  if (!runtimeDirectory(l.socketDir)) {
    steps.push(cmd([tool('install'), '-d', '-m', '0750', '-o', l.user, '-g', l.agentsGroup, l.socketDir]));
  }
  const current = existsSync(unitPath) ? readFileSync(unitPath, 'utf8') : null;
  if (current !== unit) {
    steps.push({
      say: `write ${unitPath}`,
      act: () => {
        run([tool('install'), '-d', '-m', '0755', flags.unitDir]);
        writeFileSync(unitPath, unit, { mode: 0o644 });
      },
    });
  }
  for (const name of flags.addUser ?? []) {
    if (!lookupGroup(l.agentsGroup)?.members.includes(name)) {
      steps.push(cmd([tool('usermod'), '--append', '--groups', l.agentsGroup, name]));
    }
  }
  return steps;
}

/** A command as a person would type it (the steps are shown, and a dry run is copied from). */
function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9._+/@=:,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** A data directory with someone else's files in it is not ours to take over. */
function refuseForeignDataDir(l: ServiceLayout, uid: number | undefined): void {
  if (!existsSync(l.home)) return;
  const st = lstatSync(l.home);
  if (!st.isDirectory()) throw new BriefcaseError('bad_request', `--home ${l.home} exists and is not a directory`);
  if (st.uid !== uid && readdirSync(l.home).length > 0) {
    throw new BriefcaseError(
      'bad_request',
      `--home ${l.home} is not empty and belongs to uid ${st.uid}, not ${l.user}: choose another --home, or move that data first`,
    );
  }
}

function nextSteps(l: ServiceLayout, flags: ServiceInstallFlags, started: boolean, dryRun: boolean): string[] {
  const next: string[] = [];
  const socket = agentSocketPath(l);
  if (!started && !dryRun) {
    const reason = !flags.start
      ? '--no-start was given'
      : !systemdIsPid1()
        ? 'systemd is not PID 1 here (a container?)'
        : `${flags.unitDir} is not a directory systemd reads units from`;
    next.push(
      `The daemon was not started: ${reason}. Where systemd runs: systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`,
    );
    const dir = runtimeDirectory(l.socketDir)
      ? `install -d -m 0750 -o ${l.user} -g ${l.agentsGroup} ${l.socketDir} && `
      : '';
    next.push(
      `Without systemd, as root: ${dir}runuser -u ${l.user} -- env -i HOME=${l.home} ${execStart(l).join(' ')}`,
    );
  }
  const people = flags.addUser ?? [];
  if (people.length === 0) {
    next.push(
      `Let a person's agents use it: sudo usermod -aG ${l.agentsGroup} ${process.env.SUDO_USER ?? '<user>'} (then log in again)`,
    );
  }
  next.push(
    `From that person's account: ${shellWords([l.node, l.cli, 'mcp', '--socket', socket])}   (or BRIEFCASE_AGENT_SOCKET=${socket}). An agent host's MCP configuration:\n${JSON.stringify({ mcpServers: { briefcase: { command: l.node, args: [l.cli, 'mcp', '--socket', socket] } } }, null, 2)}`,
  );
  next.push(
    `Administer it as the service user: sudo -u ${l.user} ${l.node} ${l.cli} --home ${l.home} approvals list   (the person's account cannot read ${l.home})`,
  );
  return next;
}

function printInstall(r: InstallReport): void {
  print(r.dry_run ? 'Would do (nothing changed):' : r.steps.length > 0 ? 'Done:' : 'Already installed; nothing to do.');
  for (const s of r.steps) print(`  ${s}`);
  if (r.dry_run) print(`\n${r.unit_path}:\n${r.unit}`);
  print(`\nagent socket: ${r.agent_socket}`);
  for (const n of r.next) print(`\n${n}`);
}

export { serviceStatus, serviceUninstall, type ServiceRemoveFlags } from '../service/installed.ts';
