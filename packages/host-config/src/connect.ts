import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { createRequire } from 'node:module';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { parseConfig, removeServer, serversOf, setServer } from './document.ts';
import { ChangedUnderUs, readConfigFile, replaceConfigFile, type ConfigFile } from './file.ts';
import { HOSTS, type HostEnv, type HostId, type Scope, type ServerEntry } from './hosts.ts';

/** Which host's file, in which scope. */
export interface Target {
  host: HostId;
  scope: Scope;
  env: HostEnv;
  /** For the project scope: the project's root directory. */
  projectDir: string;
}

export interface Change {
  host: HostId;
  scope: Scope;
  /** The file the host reads. */
  file: string;
  /**
   * added / replaced (--force) / unchanged (already connected) for connect; removed / absent
   * (nothing to remove) for disconnect.
   */
  action: 'added' | 'replaced' | 'unchanged' | 'removed' | 'absent';
  /** The file did not exist and was (or would be) created. */
  created: boolean;
  /** The copy of the previous file, when one was written. */
  backup: string | null;
  /** A unified diff of the change ('' when nothing changes). */
  diff: string;
  /** Whether the file was written (false for --dry-run and for no change). */
  written: boolean;
}

export interface ConnectOptions {
  /** The server's name in the host's configuration (default `briefcase`). */
  name?: string;
  entry: ServerEntry;
  /** Replace an existing, different entry of that name. */
  force?: boolean;
  dryRun?: boolean;
  now?: () => Date;
}

const ATTEMPTS = 3;

export function configPath(target: Target): string {
  const host = HOSTS[target.host];
  if (!host.scopes.includes(target.scope)) {
    throw new BriefcaseError(
      'bad_request',
      `${host.name} has no ${target.scope} scope (it has: ${host.scopes.join(', ')}).`,
    );
  }
  return host.configPath(target.scope, target.env, target.projectDir);
}

/**
 * Our entry is there when every field we write has our value. Fields the person added to it
 * (`disabled`, `alwaysAllow`, more env variables) are theirs and do not make it different.
 */
export function entryMatches(existing: unknown, ours: Record<string, unknown>): boolean {
  if (existing === null || typeof existing !== 'object' || Array.isArray(existing)) return false;
  const theirs = existing as Record<string, unknown>;
  return Object.entries(ours).every(([key, value]) => {
    if (key !== 'env') return isDeepStrictEqual(theirs[key], value);
    const env = theirs.env;
    if (env === null || typeof env !== 'object') return false;
    return Object.entries(value as Record<string, string>).every(([k, v]) => (env as Record<string, unknown>)[k] === v);
  });
}

function describe(entry: unknown): string {
  if (entry === null || typeof entry !== 'object') return JSON.stringify(entry);
  const e = entry as Record<string, unknown>;
  if (typeof e.command === 'string') return [e.command, ...(Array.isArray(e.args) ? e.args : [])].join(' ');
  return JSON.stringify(entry);
}

// Loaded only when there is a change to show: `client list` and "already connected" never need it.
const require = createRequire(import.meta.url);

function diffOf(file: ConfigFile, after: string): string {
  if (after === file.text) return '';
  const { createTwoFilesPatch } = require('diff') as typeof import('diff');
  return createTwoFilesPatch(
    file.path,
    file.path,
    file.text ?? '',
    after,
    file.text === null ? '(no file)' : 'before',
    'after',
  );
}

/** Plan with `plan`, then write, re-planning when the file changed underneath (the host wrote it). */
function apply(
  target: Target,
  dryRun: boolean,
  now: () => Date,
  plan: (file: ConfigFile) => { text: string; action: Change['action'] },
): Change {
  const path = configPath(target);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const file = readConfigFile(path);
    const { text, action } = plan(file);
    const change: Change = {
      host: target.host,
      scope: target.scope,
      file: path,
      action,
      created: file.text === null && text !== '',
      backup: null,
      diff: diffOf(file, text),
      written: false,
    };
    if (dryRun || text === file.text || (file.text === null && action === 'absent')) return change;
    try {
      change.backup = replaceConfigFile(file, text, now());
      change.written = true;
      return change;
    } catch (e) {
      if (!(e instanceof ChangedUnderUs)) throw e;
    }
  }
  throw new BriefcaseError(
    'conflict',
    `${path} kept changing while it was being updated (is ${HOSTS[target.host].name} writing it?). Nothing was changed; try again.`,
  );
}

/** Merge the Briefcase entry into the host's configuration. */
export function connectHost(target: Target, options: ConnectOptions): Change {
  const host = HOSTS[target.host];
  const name = options.name ?? 'briefcase';
  const ours = host.entry(options.entry);
  return apply(target, options.dryRun === true, options.now ?? (() => new Date()), (file) => {
    const doc = parseConfig(file.text ?? '', file.path, host.jsonc);
    const existing = serversOf(doc, host.container)?.[name];
    if (existing !== undefined && entryMatches(existing, ours)) return { text: doc.text, action: 'unchanged' };
    if (existing !== undefined && !options.force) {
      throw new BriefcaseError(
        'conflict',
        `${file.path} already has a different "${name}" server (${describe(existing)}). ` +
          'Nothing was changed. To replace it with this Briefcase, run the command again with --force (a backup is kept).',
      );
    }
    return { text: setServer(doc, host.container, name, ours), action: existing === undefined ? 'added' : 'replaced' };
  });
}

/** Remove the entry named `briefcase` (only that) from the host's configuration. */
export function disconnectHost(
  target: Target,
  options: { name?: string; dryRun?: boolean; now?: () => Date } = {},
): Change {
  const host = HOSTS[target.host];
  const name = options.name ?? 'briefcase';
  return apply(target, options.dryRun === true, options.now ?? (() => new Date()), (file) => {
    if (file.text === null) return { text: '', action: 'absent' };
    const doc = parseConfig(file.text, file.path, host.jsonc);
    if (serversOf(doc, host.container)?.[name] === undefined) return { text: doc.text, action: 'absent' };
    return { text: removeServer(doc, host.container, name), action: 'removed' };
  });
}

export interface HostStatus {
  host: HostId;
  scope: Scope;
  file: string;
  /** The host has run for this user (its configuration directory exists); a heuristic. */
  installed: boolean;
  /**
   * connected: our entry, as `connect` would write it; different: an entry of that name that is
   * not (another data directory, a moved Node); not_connected; no_file; unreadable (see detail).
   */
  state: 'connected' | 'different' | 'not_connected' | 'no_file' | 'unreadable';
  detail?: string;
}

export function hostStatus(target: Target, options: { name?: string; entry: ServerEntry }): HostStatus {
  const host = HOSTS[target.host];
  const file = configPath(target);
  const installed = target.scope === 'project' || existsSync(host.installMarker(target.env));
  const base = { host: target.host, scope: target.scope, file, installed };
  try {
    const read = readConfigFile(file);
    if (read.text === null) return { ...base, state: 'no_file' };
    const doc = parseConfig(read.text, file, host.jsonc);
    const existing = serversOf(doc, host.container)?.[options.name ?? 'briefcase'];
    if (existing === undefined) return { ...base, state: 'not_connected' };
    return { ...base, state: entryMatches(existing, host.entry(options.entry)) ? 'connected' : 'different' };
  } catch (e) {
    return { ...base, state: 'unreadable', detail: (e as Error).message };
  }
}
