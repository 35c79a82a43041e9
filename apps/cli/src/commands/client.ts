import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import {
  HOST_IDS,
  HOSTS,
  SCOPES,
  connectHost,
  disconnectHost,
  hostEnv,
  hostStatus,
  isHostId,
  type Change,
  type HostId,
  type HostStatus,
  type Scope,
  type Target,
} from '@briefcase/host-config';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor, shellQuote } from '@briefcase/protocol/invocation';
import { mcpServerEntry } from '../mcp-entry.ts';
import { print, printJson, table, warn } from '../output.ts';

/** `briefcase client …`: put the Briefcase into an agent host's MCP configuration (docs/clients.md). */
export interface ClientFlags {
  scope?: string;
  project?: string;
  socket?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
}

function target(hostId: string, flags: ClientFlags): Target {
  if (!isHostId(hostId)) {
    throw new BriefcaseError('bad_request', `unknown host "${hostId}": use one of ${HOST_IDS.join(', ')}`);
  }
  const scope = flags.scope ?? 'user';
  if (!(SCOPES as readonly string[]).includes(scope)) {
    throw new BriefcaseError('bad_request', `--scope must be user or project, not "${scope}"`);
  }
  if (flags.project !== undefined && scope !== 'project') {
    throw new BriefcaseError('bad_request', '--project goes with --scope project');
  }
  return {
    host: hostId,
    scope: scope as Scope,
    env: hostEnv(homedir()),
    projectDir: resolve(flags.project ?? process.cwd()),
  };
}

function entryFor(home: string, flags: ClientFlags) {
  return mcpServerEntry(flags.socket !== undefined ? { socket: resolve(flags.socket) } : { home });
}

function report(change: Change, flags: ClientFlags, verb: 'connect' | 'disconnect'): void {
  if (flags.json) return printJson({ ...change, dry_run: flags.dryRun === true });
  const name = HOSTS[change.host].name;
  if (flags.dryRun) {
    if (change.diff === '')
      print(
        `${change.file}: nothing would change (${change.action === 'unchanged' ? 'already connected' : 'not connected'}).`,
      );
    else
      print(
        `Would ${change.created ? 'create' : 'change'} ${change.file} (nothing written, --dry-run):\n\n${change.diff}`,
      );
    return;
  }
  switch (change.action) {
    case 'unchanged':
      return print(`${name} is already connected to this Briefcase (${change.file}); nothing changed.`);
    case 'absent':
      return print(`${name} has no "briefcase" server in ${change.file}; nothing changed.`);
    default: {
      const did = {
        added: 'connected',
        replaced: 'connected (the previous "briefcase" entry replaced)',
        removed: 'disconnected',
      }[change.action];
      print(`${name} ${did}: ${change.created ? 'created' : 'updated'} ${change.file}`);
      if (change.backup) print(`  backup of the previous file: ${change.backup}`);
      if (verb === 'connect') print(`Restart ${name} (or reload its MCP servers) to pick it up.`);
    }
  }
}

export function clientConnect(home: string, hostId: string, flags: ClientFlags): void {
  const t = target(hostId, flags);
  if (flags.socket === undefined && !existsSync(resolve(home, 'config.json')) && !flags.json) {
    warn(
      `note: ${home} is not initialised yet; run \`${cliCommand(...homeArgsFor(home), 'init')}\` before the host starts the Briefcase.`,
    );
  }
  const installed = t.scope === 'project' || existsSync(HOSTS[t.host].installMarker(t.env));
  const change = connectHost(t, {
    entry: entryFor(home, flags),
    force: flags.force === true,
    dryRun: flags.dryRun === true,
  });
  if (!flags.json && change.written && !installed) {
    warn(`note: ${HOSTS[t.host].name} does not look installed for this user; the entry is ready for when it is.`);
  }
  report(change, flags, 'connect');
}

export function clientDisconnect(hostId: string, flags: ClientFlags): void {
  report(disconnectHost(target(hostId, flags), { dryRun: flags.dryRun === true }), flags, 'disconnect');
}

const STATE_TEXT: Record<HostStatus['state'], string> = {
  connected: 'connected',
  different: 'other "briefcase" entry',
  not_connected: 'not connected',
  no_file: 'not connected (no file)',
  unreadable: 'unreadable',
};

/** Every host, user scope, plus the project scope of the current (or --project) directory where a file exists. */
export function clientList(home: string, flags: ClientFlags): void {
  const entry = entryFor(home, flags);
  const rows: HostStatus[] = [];
  for (const id of HOST_IDS) {
    rows.push(hostStatus(target(id, {}), { entry }));
    if (HOSTS[id as HostId].scopes.includes('project')) {
      const project = hostStatus(target(id, { scope: 'project', project: flags.project ?? process.cwd() }), { entry });
      // (From the home directory, Cursor's project file is its user file: one row.)
      if (project.state !== 'no_file' && !rows.some((r) => r.file === project.file)) rows.push(project);
    }
  }
  if (flags.json) return printJson({ hosts: rows });
  print(
    table([
      ['HOST', 'SCOPE', 'INSTALLED', 'STATUS', 'FILE'],
      ...rows.map((r) => [
        r.host,
        r.scope,
        r.scope === 'project' ? '-' : r.installed ? 'yes' : 'no',
        STATE_TEXT[r.state],
        r.file,
      ]),
    ]),
  );
  for (const r of rows.filter((x) => x.state === 'unreadable')) warn(`${r.file}: ${r.detail}`);
  if (rows.some((r) => r.state === 'different')) {
    const connect = cliCommand(...homeArgsFor(home), 'client', 'connect');
    const socket = flags.socket === undefined ? '' : ` --socket ${shellQuote(resolve(flags.socket))}`;
    print(
      `\n"other briefcase entry": another data directory or Node; \`${connect} HOST${socket} --force\` points it here.`,
    );
  }
}
