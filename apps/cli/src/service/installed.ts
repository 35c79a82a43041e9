import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { lookupGroup } from '@briefcase/briefcased/os-groups';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { print, printJson } from '../output.ts';
import { lookupUser, preflight, run, SYSTEMD_UNIT_DIRS, systemdIsPid1, type Step } from './os.ts';
import { runtimeDirectory, UNIT_NAME } from './unit.ts';

/** `service uninstall` and `service status`: what an installed unit says, and undoing it (docs/service.md). */
export interface ServiceRemoveFlags {
  unitDir: string;
  purge?: boolean;
  dryRun?: boolean;
}

/** What an installed unit says about the install (User=, the data directory, the socket, the group). */
function readInstalled(unitPath: string): { user: string; home: string; socket: string; group: string } | null {
  if (!existsSync(unitPath)) return null;
  const text = readFileSync(unitPath, 'utf8');
  const key = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const exec = key('ExecStart').split(' ');
  const arg = (flag: string) => exec[exec.indexOf(flag) + 1] ?? '';
  return { user: key('User'), home: arg('--home'), socket: arg('--agent-socket'), group: arg('--agent-group') };
}

/** `briefcase service uninstall`: stop and remove the unit; the user and data stay unless --purge. */
export function serviceUninstall(flags: ServiceRemoveFlags, json: boolean): number {
  const dryRun = flags.dryRun === true;
  const tools = preflight(!dryRun);
  const tool = (n: string) => tools[n] ?? n;
  const unitPath = join(flags.unitDir, UNIT_NAME);
  const installed = readInstalled(unitPath);
  if (!installed) throw new BriefcaseError('not_found', `no ${UNIT_NAME} in ${flags.unitDir}: nothing to uninstall`);
  const steps: Step[] = [];
  const cmd = (argv: string[], allowFail = false): Step => ({
    say: argv.join(' '),
    act: () => run(argv, { allowFail }),
  });
  const systemd = systemdIsPid1() && SYSTEMD_UNIT_DIRS.includes(flags.unitDir);
  if (systemd) steps.push(cmd(['systemctl', 'disable', '--now', UNIT_NAME], true));
  steps.push({ say: `remove ${unitPath}`, act: () => rmSync(unitPath, { force: true }) });
  if (systemd) steps.push(cmd(['systemctl', 'daemon-reload']));
  const kept: string[] = [];
  if (flags.purge) {
    const user = lookupUser(installed.user);
    // Only a directory the service user owns is removed: never a path someone edited into the unit.
    if (installed.home && user && existsSync(installed.home) && statSync(installed.home).uid === user.uid) {
      steps.push({
        say: `rm -r ${installed.home}`,
        act: () => rmSync(installed.home, { recursive: true, force: true }),
      });
    }
    const socketDir = installed.socket.slice(0, installed.socket.lastIndexOf('/'));
    if (
      socketDir &&
      !runtimeDirectory(socketDir) &&
      user &&
      existsSync(socketDir) &&
      statSync(socketDir).uid === user.uid
    ) {
      steps.push({ say: `rm -r ${socketDir}`, act: () => rmSync(socketDir, { recursive: true, force: true }) });
    }
    // The unit's CacheDirectory=, if systemd made it for this user.
    if (user && existsSync('/var/cache/briefcase') && statSync('/var/cache/briefcase').uid === user.uid) {
      steps.push({
        say: 'rm -r /var/cache/briefcase',
        act: () => rmSync('/var/cache/briefcase', { recursive: true, force: true }),
      });
    }
    if (user) steps.push(cmd([tool('userdel'), installed.user]));
    // userdel removes the user's own group only where USERGROUPS_ENAB says so.
    steps.push({
      say: `groupdel ${installed.user} (if it is still there)`,
      act: () => lookupGroup(installed.user) && run([tool('groupdel'), installed.user]),
    });
    if (installed.group && lookupGroup(installed.group)) steps.push(cmd([tool('groupdel'), installed.group]));
  } else {
    kept.push(
      `kept the data directory ${installed.home}, the user ${installed.user} and the group ${installed.group} (--purge removes them)`,
    );
  }
  for (const s of steps) if (!dryRun) s.act();
  if (json) printJson({ dry_run: dryRun, steps: steps.map((s) => s.say), kept });
  else {
    print(dryRun ? 'Would do (nothing changed):' : 'Done:');
    for (const s of steps) print(`  ${s.say}`);
    for (const k of kept) print(k);
  }
  return 0;
}

/** `briefcase service status`: the unit, the user, the data directory's and the socket's modes, the daemon. */
export async function serviceStatus(flags: { unitDir: string }, json: boolean): Promise<number> {
  const unitPath = join(flags.unitDir, UNIT_NAME);
  const installed = readInstalled(unitPath);
  const facts: Record<string, unknown> = { unit: installed ? unitPath : null };
  if (installed) {
    facts.user = lookupUser(installed.user) ? installed.user : `${installed.user} (missing)`;
    facts.agents_group = installed.group;
    facts.agents = lookupGroup(installed.group)?.members ?? null;
    facts.data_dir = describe(installed.home);
    facts.agent_socket = describe(installed.socket);
    facts.daemon_answers = await answers(installed.socket);
    if (systemdIsPid1()) facts.systemd = run(['systemctl', 'is-active', UNIT_NAME], { allowFail: true }).stdout.trim();
    else facts.systemd = 'not PID 1 here';
  }
  if (json) printJson(facts);
  else if (!installed) print(`not installed (no ${unitPath})`);
  else
    for (const [k, v] of Object.entries(facts))
      print(`${k.padEnd(16)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return installed && facts.daemon_answers === true ? 0 : 1;
}

function describe(path: string): string {
  try {
    const st = statSync(path);
    const group = lookupGroup(st.gid)?.name ?? String(st.gid);
    return `${path} (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid}, group ${group})`;
  } catch (e) {
    return `${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
}

function answers(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(socket);
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}
