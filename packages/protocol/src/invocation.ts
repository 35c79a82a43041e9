import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';

/** The npm package whose bin is `briefcase` (docs/install.md: the name was free on the registry). */
export const PACKAGE_NAME = 'briefcase-agent';

/**
 * How the person runs the `briefcase` command where this process runs, so that every message that
 * names a command names one that works when pasted into a shell there:
 * - `briefcase` when the `briefcase` on the PATH is this very command (a global install);
 * - `npx briefcase-agent` when this command runs from npm's npx cache;
 * - `node /abs/…/bin/briefcase.js` otherwise (a checkout, or an install whose bin is not on the
 *   PATH), with the absolute path of this Node when `node` on the PATH is another one.
 */
export interface Invocation {
  how: 'path' | 'npx' | 'node';
  /** The words to run, as spawn would take them. */
  argv: string[];
  /** The same, quoted for a POSIX shell. */
  text: string;
  /** The entry script, absolute, links resolved (what a service unit or a host config runs). */
  entry: string;
}

export interface InvocationContext {
  /** The running `briefcase` entry script (default: process.argv[1] when it is one). */
  entry?: string | undefined;
  execPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** The CLI's entry script: the one running, else this checkout's or this package's bin. */
function defaultEntry(argv1: string | undefined): string {
  if (argv1 && /^briefcase(\.js)?$/.test(basename(argv1))) return argv1;
  // In the repository this file is packages/protocol/src/invocation.ts; in the packed package
  // every module is bundled into dist/, beside bin/ (scripts/pack).
  const checkout = resolve(import.meta.dirname, '../../../apps/cli/bin/briefcase.js');
  return existsSync(checkout) ? checkout : resolve(import.meta.dirname, '../bin/briefcase.js');
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * The first executable called `name` on the PATH, resolved through its links. Two kinds of entry
 * are not the person's shell: a relative one (it depends on where the shell is) and a
 * `node_modules/.bin`, which npm puts on the PATH only while it runs a script (`npm test`,
 * `npm exec`): a command found there would not work when pasted into a shell.
 */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    if (/\/node_modules\/\.bin\/?$/.test(dir)) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return real(candidate);
  }
  return undefined;
}

/** POSIX-shell quoting, only where a word needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function cliInvocation(context: InvocationContext = {}): Invocation {
  const env = context.env ?? process.env;
  const execPath = context.execPath ?? process.execPath;
  const entry = real(context.entry ?? defaultEntry(process.argv[1]));
  let argv: string[];
  let how: Invocation['how'];
  // npx first: while it runs a command it puts its cache's .bin on the PATH, which the shell has not.
  if (entry.split('/').includes('_npx')) {
    how = 'npx';
    argv = ['npx', PACKAGE_NAME];
  } else if (onPath('briefcase', env) === entry) {
    how = 'path';
    argv = ['briefcase'];
  } else {
    how = 'node';
    argv = [onPath('node', env) === real(execPath) ? 'node' : execPath, entry];
  }
  return { how, argv, text: argv.map(shellQuote).join(' '), entry };
}

let cached: Invocation | undefined;

/** This process's invocation (computed once). */
export function thisInvocation(): Invocation {
  cached ??= cliInvocation();
  return cached;
}

/** `briefcase ARGS…` as it works here: a command for a message, quoted for a shell. */
export function cliCommand(...args: string[]): string {
  return [thisInvocation().text, ...args.map(shellQuote)].join(' ');
}

/**
 * `--home DIR` when `home` is not the default data directory: the person reading a message may
 * not have the BRIEFCASE_HOME of the process that printed it (an agent host's gateway).
 */
export function homeArgsFor(home: string): string[] {
  return resolve(home) === resolve(homedir(), '.briefcase') ? [] : ['--home', resolve(home)];
}

/** The data directory a daemon socket belongs to (`<home>/daemon.sock`), if it is one. */
export function homeOfSocket(socket: string): string | undefined {
  return basename(socket) === 'daemon.sock' ? dirname(socket) : undefined;
}
